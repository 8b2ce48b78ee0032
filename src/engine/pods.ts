// Pods: containers that share namespaces held by an infra container (net, ipc and uts by default,
// as Podman), so members come and go and keep the same network and published ports. The infra runs
// catatonit from an image built here, offline, as Podman 4.3 builds localhost/podman-pause.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { TspodError } from '../errors.js';
import type { Store, ContainerRecord } from '../storage/store.js';
import { packageVersion, buildTime } from '../paths.js';
import { current } from './containers.js';
import { parseLabels } from './labels.js';
import { byNameOrId } from './filters.js';
import { inspectPorts } from './ports.js';
import { objectEvent } from './events.js';

export interface PodRecord {
  id: string;
  name: string;
  created: string;
  labels: Record<string, string>;
  /** the namespaces members share: net, ipc, uts (pid too when asked) */
  share: string[];
  infraId?: string;
  hostname?: string;
  /** --network as given */
  network?: string;
  /** --exit-policy: continue (the infra keeps running), or stop the pod when its last member exits */
  exitPolicy?: 'continue' | 'stop';
  /** kube play --service-container: a container outside the pod that runs while the pod does */
  serviceId?: string;
  infraConmonPidFile?: string;
  createCommand?: string[];
}

const POD_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const SHAREABLE = ['net', 'ipc', 'uts', 'pid', 'cgroup', 'none'];
/** As Podman names it: a new build of tspod builds it again. */
export const INFRA_IMAGE = () => `localhost/podman-pause:${packageVersion()}-${buildTime()}`;

export const listPods = (store: Store): PodRecord[] => store.readPods<PodRecord>();

const writePods = (store: Store, pods: PodRecord[]) => store.writePods(pods);

/** A pod by name, id or unique id prefix, or undefined. */
export const lookupPod = (store: Store, ref: string): PodRecord | undefined => byNameOrId(listPods(store), ref);

export function findPod(store: Store, ref: string): PodRecord {
  const hit = lookupPod(store, ref);
  if (!hit) throw new TspodError('E_NO_POD', `no pod with name or ID ${ref} found: no such pod`, { hint: 'see tspod pod ps' });
  return hit;
}

/** A pod's infra was removed (rm --depend, rm -a): the pod goes with it. */
export function forgetPodOfInfra(store: Store, infraId: string): void {
  store.withLock(() => { const pods = listPods(store); if (pods.some((p) => p.infraId === infraId)) writePods(store, pods.filter((p) => p.infraId !== infraId)); });
}

/** Whether this container is a pod's infra, which goes only with its pod. */
export function infraOf(store: Store, rec: ContainerRecord): PodRecord | undefined {
  return rec.pod ? listPods(store).find((p) => p.id === rec.pod && p.infraId === rec.id) : undefined;
}

/** The pod's containers, infra first, then in the order they were created. */
export function podMembers(store: Store, pod: PodRecord): ContainerRecord[] {
  const all = store.listContainers().filter((c) => c.pod === pod.id).sort((a, b) => a.created.localeCompare(b.created));
  return [...all.filter((c) => c.id === pod.infraId), ...all.filter((c) => c.id !== pod.infraId)];
}

/** Podman's pod status from its containers: Created, Running, Exited, Degraded (some running). */
export function podStatus(store: Store, pod: PodRecord): string {
  const states = podMembers(store, pod).map((c) => current(store, c.id)?.state ?? c.state);
  if (!states.length || states.every((s) => s === 'created')) return 'Created';
  if (states.every((s) => s === 'running')) return 'Running';
  if (states.some((s) => s === 'running')) return 'Degraded';
  return 'Exited';
}

/** The infra image: catatonit alone, built once from the host's (Debian's catatonit is static). */
export async function infraImage(store: Store): Promise<string> {
  const name = INFRA_IMAGE();
  const { findImage } = await import('./images.js');
  if (await findImage(store, name)) return name;
  const catatonit = ['/usr/libexec/podman/catatonit', '/usr/bin/catatonit'].find((p) => fs.existsSync(p));
  if (!catatonit) throw new TspodError('E_NO_INFRA', 'cannot build the pod\'s infra image: catatonit is not installed', { hint: 'apt-get install catatonit, or create the pod with --infra=false' });
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-infra-'));
  try {
    fs.copyFileSync(catatonit, path.join(ctx, 'catatonit'));
    fs.chmodSync(path.join(ctx, 'catatonit'), 0o755);
    const text = 'FROM scratch\nCOPY catatonit /catatonit\nENTRYPOINT ["/catatonit", "-P"]\n';
    const { buildImage } = await import('./build.js');
    await buildImage(store, { context: ctx, file: { text, name: 'Containerfile' }, tags: [name], buildArgs: new Map(), layers: true, say: () => {}, quiet: true });
    // One image, as Podman's: the COPY step's intermediate goes (rmi -a would otherwise meet it).
    const built = await findImage(store, name);
    const steps = store.readImages().filter((i) => i.id === built?.parent && !i.names.length);
    if (steps.length) await (await import('./images.js')).removeImages(store, steps.map((i) => i.id), { ignoreMissing: true });
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
  return name;
}

export interface PodCreateOptions {
  name?: string;
  labels?: string[];
  share?: string;
  infra?: boolean;
  hostname?: string;
  publish?: string[];
  network?: string;
  addHost?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  /** --pod-id-file: the new pod's id is written there */
  podIdFile?: string;
  /** --infra-conmon-pidfile: where the infra's conmon pid goes at each start (a Type=forking unit's PIDFile) */
  infraConmonPidFile?: string;
  /** tspod's arguments as given, for generate systemd --new */
  createCommand?: string[];
  /** kube play --service-container: the container standing for the pod */
  serviceId?: string;
  /** a pod of that name is removed first */
  replace?: boolean;
  /** --infra-image (else containers.conf's infra_image, else the catatonit image built here), --infra-command, --infra-name */
  infraImage?: string;
  infraCommand?: string[];
  infraName?: string;
  exitPolicy?: string;
}

export async function createPod(store: Store, o: PodCreateOptions): Promise<PodRecord> {
  store.init();
  if (o.exitPolicy !== undefined && !['continue', 'stop'].includes(o.exitPolicy)) throw new TspodError('E_USAGE', `running pod create option: invalid pod exit policy: "${o.exitPolicy}"`, { hint: 'use continue or stop' });
  // --share LIST replaces the default net,ipc,uts; --share +LIST adds to it.
  const given = (o.share ?? '').replace(/^\+/, '').split(',').map((s) => s.trim()).filter(Boolean);
  const share = o.share === undefined ? ['net', 'ipc', 'uts'] : o.share.startsWith('+') ? [...new Set(['net', 'ipc', 'uts', ...given])] : given;
  for (const s of share) if (!SHAREABLE.includes(s)) throw new TspodError('E_USAGE', `invalid kernel namespace to share: ${s}. Options are: cgroup, ipc, net, pid, uts or none`);
  const id = crypto.randomBytes(32).toString('hex');
  const { generateName } = await import('./names.js');
  const name = o.name ?? generateName();
  if (!POD_NAME.test(name)) throw new TspodError('E_USAGE', `invalid pod name "${name}"`, { hint: 'names use [a-zA-Z0-9][a-zA-Z0-9_.-]*' });
  const pod: PodRecord = { id, name, created: new Date().toISOString(), labels: parseLabels(o.labels ?? []), share: share.filter((s) => s !== 'none'), hostname: o.hostname ?? name, network: o.network, exitPolicy: (o.exitPolicy ?? 'continue') as PodRecord['exitPolicy'], infraConmonPidFile: o.infraConmonPidFile, createCommand: o.createCommand, serviceId: o.serviceId };
  if (o.replace) { const old = listPods(store).find((p) => p.name === name); if (old) await removePod(store, old, { force: true, timeoutSec: 0 }); }
  store.withLock(() => {
    if (listPods(store).some((p) => p.name === name)) throw new TspodError('E_POD_EXISTS', `pod ${name} already exists: the pod name is in use`, { hint: `remove it (tspod pod rm ${name}) or choose another name` });
    writePods(store, [...listPods(store), pod]);
  });
  try {
    if (o.infra !== false && pod.share.length) {
      const { createContainer } = await import('./create.js');
      const { containersConf } = await import('../config.js');
      const given = o.infraImage ?? containersConf().infraImage;
      const image = given ?? await infraImage(store);
      if (given) {
        // As Podman: the infra image is pulled when missing, and a failure says where it came from.
        const { findImage, pullImage } = await import('./images.js');
        if (!(await findImage(store, given))) {
          try { await pullImage(store, given, {}); } catch (e) { throw new TspodError('E_PULL', `initializing source docker://${given}: ${(e as Error).message}`, { hint: 'give --infra-image an image that can be pulled, or leave it out for tspod\'s own' }); }
        }
      }
      const infra = await createContainer(store, {
        image, command: [], entrypoint: o.infraCommand, name: o.infraName ?? `${id.slice(0, 12)}-infra`, hostname: pod.share.includes('uts') ? pod.hostname : undefined, pull: 'never',
        network: o.network === 'private' ? undefined : o.network, publish: o.publish, addHost: o.addHost, dns: o.dns, dnsSearch: o.dnsSearch, dnsOption: o.dnsOption, pod: id,
        confinement: { ipc: pod.share.includes('ipc') ? 'shareable' : undefined },
      });
      pod.infraId = infra.id;
      store.withLock(() => writePods(store, listPods(store).map((p) => (p.id === id ? pod : p))));
    }
  } catch (e) {
    store.withLock(() => writePods(store, listPods(store).filter((p) => p.id !== id)));
    throw e;
  }
  if (o.podIdFile) fs.writeFileSync(o.podIdFile, id);
  objectEvent('pod', 'create', pod.name, pod.id);
  return pod;
}

/**
 * What a member's create takes from its pod: the infra's network (its ports included), IPC and
 * UTS namespaces, as the pod shares them.
 */
export function memberOptions(store: Store, ref: string): { pod: PodRecord; network?: string; ipc?: string; uts?: string; pid?: string } {
  const pod = findPod(store, ref);
  const infra = pod.infraId ? `container:${pod.infraId}` : undefined;
  return {
    // The host's network namespace is not ours to join through the infra: members take the host's too.
    pod, network: infra && pod.share.includes('net') ? (pod.network === 'host' ? 'host' : infra) : undefined, ipc: infra && pod.share.includes('ipc') ? infra : undefined,
    uts: infra && pod.share.includes('uts') ? infra : undefined, pid: infra && pod.share.includes('pid') ? infra : undefined,
  };
}

/** Start a member's infra first, when the pod has one and it is not running. */
export async function ensureInfraRunning(store: Store, rec: ContainerRecord): Promise<void> {
  if (!rec.pod) return;
  const pod = listPods(store).find((p) => p.id === rec.pod);
  if (!pod?.infraId || pod.infraId === rec.id) return;
  const infra = current(store, pod.infraId);
  if (!infra) throw new TspodError('E_NO_CONTAINER', `the infra container of pod ${pod.name} is gone`, { hint: `remove the pod (tspod pod rm -f ${pod.name}) and create it again` });
  if (infra.state === 'running') return;
  const { startContainer } = await import('./start.js');
  await startContainer(store, infra, { attach: false });
  noteInfraConmon(store, pod);
}

/** The service container and the infra first, then the members, all at once (each start waits mostly on its runtime). */
export async function startPod(store: Store, pod: PodRecord, only?: ContainerRecord[]): Promise<void> {
  const { startContainer } = await import('./start.js');
  const notRunning = (c: ContainerRecord) => current(store, c.id)?.state !== 'running';
  const members = podMembers(store, pod);
  for (const c of [...serviceOf(store, pod), ...members.filter((m) => m.id === pod.infraId)]) {
    if (notRunning(c)) await startContainer(store, c, { attach: false });
    if (c.id === pod.infraId) noteInfraConmon(store, pod);
  }
  await Promise.all(members.filter((m) => m.id !== pod.infraId && (!only || only.some((o) => o.id === m.id)) && notRunning(m)).map((m) => startContainer(store, m, { attach: false })));
  objectEvent('pod', 'start', pod.name, pod.id);
}

/** pod create --infra-conmon-pidfile: the infra's conmon pid, where the unit's PIDFile= looks. */
function noteInfraConmon(store: Store, pod: PodRecord): void {
  if (!pod.infraConmonPidFile || !pod.infraId) return;
  try { fs.copyFileSync(path.join(store.containerDir(pod.infraId), 'userdata', 'conmon.pid'), pod.infraConmonPidFile); } catch { /* not running */ }
}

export async function stopPod(store: Store, pod: PodRecord, timeoutSec?: number): Promise<void> {
  const { stopContainer } = await import('./lifecycle.js');
  // Members first, the infra (which holds their network) last.
  for (const c of [...podMembers(store, pod).reverse(), ...serviceOf(store, pod)]) {
    if (current(store, c.id)?.state === 'running') await stopContainer(store, c, timeoutSec ?? c.config?.stopTimeout ?? 10);
  }
  objectEvent('pod', 'stop', pod.name, pod.id);
}

/** The pod's service container, when kube play made one and it is still there. */
function serviceOf(store: Store, pod: PodRecord): ContainerRecord[] {
  const rec = pod.serviceId ? current(store, pod.serviceId) : undefined;
  return rec ? [rec] : [];
}

/** The pods a service container stands for. */
export function podsOfService(store: Store, id: string): PodRecord[] {
  return listPods(store).filter((p) => p.serviceId === id);
}

export async function removePod(store: Store, pod: PodRecord, o: { force?: boolean; timeoutSec?: number } = {}): Promise<void> {
  const members = podMembers(store, pod);
  // Only members count: the infra runs as long as the pod has been started, and stops with it.
  const running = members.filter((c) => c.id !== pod.infraId && current(store, c.id)?.state === 'running');
  if (running.length && !o.force) {
    throw new TspodError('E_POD_RUNNING', `pod ${pod.id} has running containers (${running.map((c) => c.name).join(', ')}): running containers cannot be removed without force`, { hint: `stop the pod first (tspod pod stop ${pod.name}), or use tspod pod rm -f` });
  }
  const { removeContainer } = await import('./lifecycle.js');
  for (const c of members.reverse()) await removeContainer(store, c, { force: true, timeoutSec: o.timeoutSec ?? 10, volumes: true, podRemoval: true });
  store.withLock(() => writePods(store, listPods(store).filter((p) => p.id !== pod.id)));
  objectEvent('pod', 'remove', pod.name, pod.id);
  // The service container goes with the last of its pods.
  for (const s of serviceOf(store, pod)) if (!podsOfService(store, s.id).length) await removeContainer(store, s, { force: true, timeoutSec: 0, podRemoval: true });
}

/** Podman's `pod inspect` shape. */
export function inspectPod(store: Store, pod: PodRecord): object {
  const members = podMembers(store, pod);
  return {
    Id: pod.id, Name: pod.name, Created: pod.created, CreateCommand: [], State: podStatus(store, pod), Hostname: pod.hostname ?? '', Labels: pod.labels,
    CreateInfra: !!pod.infraId, InfraContainerID: pod.infraId ?? '', SharedNamespaces: pod.share, NumContainers: members.length,
    InfraConfig: { HostNetwork: pod.network === 'host', NetworkOptions: null, PortBindings: infraPorts(store, pod) }, ExitPolicy: pod.exitPolicy ?? 'continue',
    Containers: members.map((c) => ({ Id: c.id, Name: c.name, State: current(store, c.id)?.state ?? c.state })),
  };
}

function infraPorts(store: Store, pod: PodRecord): Record<string, unknown> {
  const infra = pod.infraId ? current(store, pod.infraId) : undefined;
  return inspectPorts(infra?.config?.ports, []).bindings;
}

/**
 * --exit-policy stop: once the last member of a pod has exited, the infra is stopped too, so the
 * whole pod is Exited (continue, the default, keeps it running for members to come).
 */
export async function applyExitPolicy(store: Store, rec: ContainerRecord): Promise<void> {
  if (!rec.pod) return;
  const pod = listPods(store).find((p) => p.id === rec.pod);
  if (!pod || pod.exitPolicy !== 'stop' || !pod.infraId || pod.infraId === rec.id) return;
  if (podMembers(store, pod).some((c) => c.id !== pod.infraId && current(store, c.id)?.state === 'running')) return;
  const { stopContainer } = await import('./lifecycle.js');
  const infra = current(store, pod.infraId);
  if (infra?.state === 'running') { try { await stopContainer(store, infra, 10); } catch { /* stopped meanwhile */ } }
  // A service container runs while any of its pods does.
  for (const s of serviceOf(store, pod)) {
    if (s.state !== 'running' || podsOfService(store, s.id).some((p) => p.id !== pod.id && podStatus(store, p) !== 'Exited')) continue;
    try { await stopContainer(store, s, 10); } catch { /* stopped meanwhile */ }
  }
}

/** pod top: the processes of every running member, under one header. */
export async function podTop(store: Store, pod: PodRecord, descriptors: string[]): Promise<string[][]> {
  const { topRows } = await import('./top.js');
  let header: string[] | undefined;
  const rows: string[][] = [];
  for (const c of podMembers(store, pod)) {
    if (current(store, c.id)?.state !== 'running') continue;
    const [h, ...r] = await topRows(store, c, descriptors);
    header ??= h;
    rows.push(...r);
  }
  if (!header) throw new TspodError('E_POD_NOT_RUNNING', `pod ${pod.name} has no running containers`, { hint: `start it: tspod pod start ${pod.name}` });
  return [header, ...rows];
}

/** pod kill: the signal to every running container of the pod, members first. */
export async function killPod(store: Store, pod: PodRecord, signal = 'KILL'): Promise<void> {
  const { killContainer, parseSignal } = await import('./lifecycle.js');
  parseSignal(signal);
  for (const c of [...podMembers(store, pod).reverse(), ...serviceOf(store, pod)]) if (current(store, c.id)?.state === 'running') await killContainer(store, c, signal);
}

/** pod pause/unpause: every running container of the pod, the infra too. */
export async function pausePod(store: Store, pod: PodRecord, pause: boolean): Promise<void> {
  const { pauseContainer } = await import('./lifecycle.js');
  for (const c of podMembers(store, pod)) if (current(store, c.id)?.state === 'running') await pauseContainer(store, c, pause);
}

/** pod prune: every pod none of whose containers runs. */
export async function prunePods(store: Store): Promise<string[]> {
  const gone: string[] = [];
  for (const p of listPods(store)) {
    if (podMembers(store, p).some((c) => current(store, c.id)?.state === 'running')) continue;
    await removePod(store, p, { force: true });
    gone.push(p.id);
  }
  return gone;
}
