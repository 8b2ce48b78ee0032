// Image operations: PullOptions in, reports out; no printing. The registry client is loaded only
// when a reference needs the network, so a run of a stored image never pays for undici.
import { mark } from '../trace.js';
import { ImageNotFoundError, TspodError, RegistryError } from '../errors.js';
import { Store, type ImageRecord } from '../storage/store.js';
import { parseReference, qualify, formatReference, repoName, DOCKER_HUB, type Reference } from '../registry/reference.js';
import type { ProgressEvent } from '../copy/types.js';

export interface PullOptions {
  platform?: string;
  /** undefined: follow registries.conf; false: plain HTTP allowed and no certificate checks */
  tlsVerify?: boolean;
  onProgress?: (e: ProgressEvent) => void;
  onWarning?: (message: string) => void;
}

export interface PullReport { id: string; name: string }

async function searchRegistries(): Promise<string[]> {
  const { loadRegistriesConfig } = await import('../registry/config.js');
  return loadRegistriesConfig().searchRegistries;
}

/** Fully qualified candidates for what the user typed, in search order. */
export async function candidates(input: string): Promise<Reference[]> {
  const ref = parseReference(input);
  if (ref.domain) return [qualify(ref, ref.domain)];
  const regs = await searchRegistries();
  if (regs.length === 0) {
    throw new TspodError('E_SHORT_NAME', `short name "${input}" and no unqualified-search-registries in registries.conf`, { hint: `use a full name such as ${DOCKER_HUB}/${ref.path}` });
  }
  return regs.map((d) => qualify(ref, d));
}

function matchesName(img: ImageRecord, ref: Reference): boolean {
  if (ref.digest) return img.digest === ref.digest || img.repoDigests.includes(`${repoName(ref)}@${ref.digest}`);
  return img.names.includes(formatReference(ref));
}

/** Find a stored image by id, id prefix, full name, or short name (through the search registries). */
export async function findImage(store: Store, input: string): Promise<ImageRecord | undefined> {
  const images = store.readImages();
  const hex = input.startsWith('sha256:') ? input.slice(7) : input;
  const byId = /^[a-f0-9]{3,64}$/.test(hex) ? images.filter((i) => i.id.startsWith(hex)) : [];
  if (byId.length === 1) return byId[0];
  const ambiguous = () => new TspodError('E_AMBIGUOUS', `image id prefix "${hex}" matches ${byId.length} images`, { hint: 'give more characters of the id' });
  let ref: Reference;
  try { ref = parseReference(input); } catch (e) {
    if (byId.length > 1) throw ambiguous();
    if (/^[a-f0-9]+$/.test(hex)) return undefined;
    throw e;
  }
  if (!ref.domain && !ref.digest) {
    // One stored image named REGISTRY/PATH:TAG is the answer whatever registries.conf says (its
    // candidates and localhost/ are such names): no need to read it, nor to load its parser.
    const tag = ref.tag ?? 'latest';
    const named = images.filter((i) => i.names.some((n) => n.endsWith(`/${ref.path}:${tag}`)));
    if (named.length === 1) return named[0];
  }
  const localhost = ref.domain ? [] : [qualify(ref, 'localhost')];
  for (const cand of [...(ref.domain ? [qualify(ref, ref.domain)] : await candidates(input)), ...localhost]) {
    const img = images.find((i) => matchesName(i, cand));
    if (img) return img;
  }
  if (!ref.domain) {
    // Podman also matches a short name against any stored repository that ends with it.
    const tag = ref.tag ?? 'latest';
    const byName = images.find((i) => i.names.some((n) => n.endsWith(`/${ref.path}:${tag}`)));
    if (byName) return byName;
  }
  if (byId.length > 1) throw ambiguous();
  return undefined;
}

/** TSPOD_TRACE marks from the copy's progress events (copy itself knows only its two interfaces). */
function progressMarks(): (e: ProgressEvent) => void {
  let layerStarted = false;
  return (e) => {
    if (e.type === 'resolved') mark('pull: manifest resolved');
    else if (e.type === 'layer-start' && !layerStarted) { layerStarted = true; mark('pull: config fetched, first layer started'); }
    else if (e.type === 'done') mark('pull: layers unpacked, image committed');
  };
}

const pullModules = () => Promise.all([
  import('../registry/source.js'), import('../storage/destination.js'), import('../copy/copy.js'), import('../registry/config.js'), import('../registry/manifest.js'),
]);

export async function pullImage(store: Store, input: string, opts: PullOptions = {}): Promise<PullReport> {
  const modules = await pullModules();
  mark('pull: modules loaded');
  store.init();
  store.withLock(() => store.sweep());
  const pulling = store.pullInProgress();
  mark('pull: store swept');
  try {
    return await pullCandidates(store, input, opts, modules);
  } finally {
    pulling();
  }
}

async function pullCandidates(store: Store, input: string, opts: PullOptions, modules: Awaited<ReturnType<typeof pullModules>>): Promise<PullReport> {
  const [{ RegistrySource }, { StoreDestination }, { copyImage }, { loadRegistriesConfig }, { hostPlatform, parsePlatform }] = modules;
  const conf = loadRegistriesConfig();
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const cands = await candidates(input);
  const marks = progressMarks();
  let lastErr: unknown;
  for (const ref of cands) {
    if ([...conf.blocked].some((b) => repoName(ref).startsWith(b))) {
      lastErr = new RegistryError(`registry ${ref.domain} is blocked in registries.conf`, { code: 'E_BLOCKED' });
      continue;
    }
    const insecure = opts.tlsVerify === false || opts.tlsVerify === undefined && [...conf.insecure].some((loc) => repoName(ref) === loc || repoName(ref).startsWith(`${loc}/`) || ref.domain === loc);
    const source = new RegistrySource(ref, platform, { insecure });
    try {
      const id = await copyImage(source, new StoreDestination(store, opts.onWarning), { onProgress: (e) => { marks(e); opts.onProgress?.(e); } });
      return { id, name: formatReference(ref) };
    } catch (e) {
      lastErr = e;
      // Only "not there" moves on to the next search registry; real failures stop here.
      const code = (e as TspodError).code;
      if (cands.length === 1 || !(code === 'E_MANIFEST_UNKNOWN' || code === 'E_UNAUTHORIZED' || code === 'E_REGISTRY_UNREACHABLE')) throw e;
    } finally {
      await source.close();
    }
  }
  if (cands.length > 1) {
    throw new ImageNotFoundError(input, `tried ${cands.map(formatReference).join(', ')}; last error: ${(lastErr as Error)?.message}`);
  }
  throw lastErr;
}

export interface RemoveImageOptions { force?: boolean }
export interface RemoveImageReport { untagged: string[]; deleted: string[]; removedContainers: string[] }

export async function removeImages(store: Store, inputs: string[], opts: RemoveImageOptions = {}): Promise<RemoveImageReport> {
  const report: RemoveImageReport = { untagged: [], deleted: [], removedContainers: [] };
  const { removeContainer } = await import('./lifecycle.js');
  for (const input of inputs) {
    const img = await findImage(store, input);
    if (!img) throw new ImageNotFoundError(input);
    const users = store.listContainers().filter((c) => c.imageId === img.id);
    if (users.length && !opts.force) {
      throw new TspodError('E_IMAGE_IN_USE', `image ${img.id.slice(0, 12)} is in use by container${users.length > 1 ? 's' : ''} ${users.map((c) => c.id.slice(0, 12)).join(', ')}`,
        { hint: 'remove the container first, or use `tspod rmi -f` to remove it along with its containers' });
    }
    for (const c of users) { await removeContainer(store, c, { force: true }); report.removedContainers.push(c.id); }
    store.withLock(() => {
      const current = store.readImages().find((i) => i.id === img.id);
      if (!current) return;
      // `rmi name` of an image with several names only untags, as Docker and Podman do.
      const byName = img.names.find((n) => n === input || n.endsWith(`/${input}`) || n.endsWith(`/${input}:latest`));
      if (byName && current.names.length > 1 && !opts.force) {
        store.untag(img.id, byName);
        report.untagged.push(byName);
        return;
      }
      report.untagged.push(...current.names);
      store.removeImage(img.id);
      report.deleted.push(img.id);
    });
  }
  // What a killed rmi or pull left (staging, layers no image uses) goes too.
  store.withLock(() => store.sweep());
  return report;
}

export function listImages(store: Store): ImageRecord[] {
  return store.readImages().sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
}

export interface ImageInspectReport {
  Id: string; Digest: string; RepoTags: string[]; RepoDigests: string[]; Created?: string;
  Size: number; Architecture?: string; Os?: string; Config: unknown; RootFS: { Type: string; Layers: string[] };
  ManifestType: string;
}

export async function inspectImage(store: Store, input: string): Promise<ImageInspectReport> {
  const img = await findImage(store, input);
  if (!img) throw new ImageNotFoundError(input);
  const config = JSON.parse(store.readBlob(`sha256:${img.id}`).toString('utf8')) as { architecture?: string; os?: string; config?: unknown; created?: string };
  return {
    Id: img.id, Digest: img.digest, RepoTags: img.names, RepoDigests: img.repoDigests, Created: config.created,
    Size: img.size, Architecture: config.architecture, Os: config.os, Config: config.config ?? {},
    RootFS: { Type: 'layers', Layers: img.layers }, ManifestType: img.manifestMediaType,
  };
}
