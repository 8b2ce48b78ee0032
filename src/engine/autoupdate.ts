// auto-update: containers labelled io.containers.autoupdate=registry (or image) get their image's
// newer version from the registry, =local a newer local image of that name; the systemd unit that
// runs them (recorded at create from PODMAN_SYSTEMD_UNIT) is restarted, and rolled back to the old
// image when it does not come up again.
import { spawnSync } from 'node:child_process';
import { TspodError, UsageError } from '../errors.js';
import type { Store, ContainerRecord } from '../storage/store.js';
import { current } from './containers.js';
import { isRootless } from '../paths.js';

export const AUTOUPDATE_LABEL = 'io.containers.autoupdate';
export const UNIT_LABEL = 'PODMAN_SYSTEMD_UNIT';
const POLICIES = ['registry', 'image', 'local', 'disabled'];
const TRANSPORT = /^(docker-archive|oci-archive|oci|dir|containers-storage|docker-daemon|sif):/;

/** At create: a registry policy needs a name the registry can be asked about. */
export function checkAutoUpdateImage(labels: Record<string, string>, image: string): void {
  const policy = labels[AUTOUPDATE_LABEL];
  if (policy !== 'registry' && policy !== 'image') return;
  const transport = TRANSPORT.exec(image)?.[1];
  if (transport) throw new UsageError(`auto updates require the docker image transport but image is of transport "${transport}"`);
  const name = image.replace(/^docker:\/\//, '');
  const first = name.split('/')[0];
  if (!name.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    throw new UsageError(`short name: auto updates require fully-qualified image reference: "${image}"`);
  }
}

export interface AutoUpdateReport { Unit: string; Container: string; ContainerName: string; ContainerID: string; Image: string; Policy: string; Updated: string }

export interface AutoUpdateOptions {
  dryRun?: boolean;
  /** restart with the old image when the new one does not come up (default true) */
  rollback?: boolean;
  tlsVerify?: boolean;
  onNotice?: (m: string) => void;
  onWarning?: (m: string) => void;
}

const systemctl = (args: string[]) => spawnSync('systemctl', [...(isRootless() ? ['--user'] : []), ...args], { encoding: 'utf8' });

/** Restart the unit and say whether it came up. */
function restartUnit(unit: string): boolean {
  const r = systemctl(['restart', unit]);
  return r.status === 0 && systemctl(['is-active', '--quiet', unit]).status === 0;
}

export async function autoUpdate(store: Store, o: AutoUpdateOptions = {}): Promise<{ reports: AutoUpdateReport[]; errors: TspodError[] }> {
  const reports: AutoUpdateReport[] = [];
  const errors: TspodError[] = [];
  const candidates = store.listContainers().map((c) => current(store, c.id) ?? c).filter((c) => c.state === 'running' && c.labels?.[AUTOUPDATE_LABEL] !== undefined);
  for (const c of candidates) {
    const policy = c.labels![AUTOUPDATE_LABEL];
    if (!POLICIES.includes(policy)) { errors.push(new TspodError('E_USAGE', `auto-updating container "${c.id}": invalid auto-update policy "${policy}": valid policies are registry, image, local and disabled`)); continue; }
  }
  if (errors.length) return { reports, errors };
  const images = await import('./images.js');
  for (const c of candidates) {
    const policy = c.labels![AUTOUPDATE_LABEL];
    if (policy === 'disabled') continue;
    const unit = c.labels?.[UNIT_LABEL];
    if (!unit) { errors.push(new TspodError('E_NO_UNIT', `auto-updating container "${c.id}": no ${UNIT_LABEL} label found`, { hint: 'run it from a unit (tspod generate systemd --new, or Quadlet)' })); continue; }
    const report: AutoUpdateReport = { Unit: unit, Container: `${c.id.slice(0, 12)} (${c.name})`, ContainerName: c.name, ContainerID: c.id, Image: c.imageName, Policy: policy === 'image' ? 'registry' : policy, Updated: 'false' };
    reports.push(report);
    try {
      const newer = policy === 'local' ? await localNewer(store, c) : await registryNewer(store, c, o);
      if (!newer) continue;
      if (o.dryRun) { report.Updated = 'pending'; continue; }
      if (policy !== 'local') await images.pullImage(store, c.imageName, { tlsVerify: o.tlsVerify, onNotice: o.onNotice, onWarning: o.onWarning });
      if ((await images.findImage(store, c.imageName))?.id === c.imageId) continue;
      if (restartUnit(unit)) { report.Updated = 'true'; continue; }
      if (o.rollback === false) { report.Updated = 'failed'; errors.push(new TspodError('E_UPDATE', `restarting unit ${unit} during auto-update: it did not come up with the new image`)); continue; }
      // The old image gets its name back, and the unit starts again with it.
      await images.tagImage(store, c.imageId, [c.imageName]);
      report.Updated = restartUnit(unit) ? 'rolled back' : 'failed';
      if (report.Updated === 'failed') errors.push(new TspodError('E_UPDATE', `rolling back unit ${unit}: it did not come up with the old image either`));
    } catch (e) {
      report.Updated = 'failed';
      errors.push(e instanceof TspodError ? e : new TspodError('E_UPDATE', `auto-updating container "${c.id}": ${(e as Error).message}`));
    }
  }
  return { reports, errors };
}

/** local: the name now stands for another image than the container's. */
async function localNewer(store: Store, c: ContainerRecord): Promise<boolean> {
  const img = await (await import('./images.js')).findImage(store, c.imageName);
  return !!img && img.id !== c.imageId;
}

/** registry: the registry's manifest for the name differs from the one the container's image came from. */
async function registryNewer(store: Store, c: ContainerRecord, o: AutoUpdateOptions): Promise<boolean> {
  const [{ RegistrySource }, { parseReference }, { hostPlatform }, conf] = await Promise.all([
    import('../registry/source.js'), import('../registry/reference.js'), import('../registry/manifest.js'), import('../registry/config.js')]);
  const ref = parseReference(c.imageName);
  const endpoint = conf.pullEndpoints(conf.loadRegistriesConfig(), ref)[0];
  const insecure = o.tlsVerify === false || (o.tlsVerify === undefined && !!endpoint?.insecure);
  const source = new RegistrySource(ref, hostPlatform(), { insecure }, endpoint?.ref ?? ref);
  try {
    const remote = await source.resolveManifest();
    const local = store.readImages().find((i) => i.id === c.imageId);
    return remote.digest !== local?.digest;
  } finally {
    await source.close();
  }
}
