// Image operations: PullOptions in, reports out; no printing. The registry client is loaded only
// when a reference needs the network, so a run of a stored image never pays for undici.
import { mark } from '../trace.js';
import { ImageNotFoundError, TspodError, RegistryError } from '../errors.js';
import { Store, type ImageRecord } from '../storage/store.js';
import { parseReference, qualify, formatReference, repoName, DOCKER_HUB, type Reference } from '../registry/reference.js';
import type { ProgressEvent } from '../copy/types.js';
import { parseFilters, matchesAll, matchesLabel, globMatch, byText } from './filters.js';
import { imageEvent } from './events.js';

export interface PullOptions {
  platform?: string;
  /** undefined: follow registries.conf; false: plain HTTP allowed and no certificate checks */
  tlsVerify?: boolean;
  /** --cert-dir: the registry's certificates from this directory instead of its certs.d */
  certDir?: string;
  onProgress?: (e: ProgressEvent) => void;
  onWarning?: (message: string) => void;
  /** which registry a short name resolved to */
  onNotice?: (message: string) => void;
}

export interface PullReport { id: string; name: string }

/**
 * Fully qualified candidates for what the user typed, in search order: an alias from
 * registries.conf(.d) first, else each search registry. With several registries and
 * short-name-mode "enforcing" there is nobody to ask (tspod never prompts): that is an error.
 */
export async function candidates(input: string, opts: { forPull?: boolean; onNotice?: (m: string) => void } = {}): Promise<Reference[]> {
  const ref = parseReference(input);
  if (ref.domain) return [qualify(ref, ref.domain)];
  const { loadRegistriesConfig } = await import('../registry/config.js');
  const conf = loadRegistriesConfig();
  const alias = conf.aliases.get(ref.path);
  if (alias) {
    const target = parseReference(alias);
    opts.onNotice?.(`Resolved "${ref.path}" as an alias (${alias})`);
    return [qualify({ ...target, tag: ref.tag ?? target.tag, digest: ref.digest ?? target.digest }, target.domain)];
  }
  const regs = conf.searchRegistries;
  if (regs.length === 0) {
    throw new TspodError('E_SHORT_NAME', `short name "${input}" and no unqualified-search-registries in registries.conf: use a full name such as ${DOCKER_HUB}/${ref.path}`);
  }
  if (opts.forPull && regs.length > 1 && conf.shortNameMode === 'enforcing') {
    throw new TspodError('E_SHORT_NAME', `short name "${input}" is ambiguous with short-name-mode "enforcing" and nobody to ask: use one of ${regs.map((d) => formatReference(qualify(ref, d))).join(', ')}`);
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
  // docker-archive:FILE and oci-archive:FILE: the image in the archive, read as load reads it.
  const archive = /^(docker-archive|oci-archive):(.+)$/.exec(input);
  if (archive) {
    const { loadImages } = await import('./transfer.js');
    const r = await loadImages(store, archive[2], { onProgress: opts.onProgress, onWarning: opts.onWarning, pulledAs: input });
    return { id: r.ids[0], name: r.names[0] };
  }
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
  const [{ RegistrySource }, { StoreDestination }, { copyImage }, , { hostPlatform, parsePlatform }] = modules;
  const { loadRegistriesConfig, registryFor, pullEndpoints } = modules[3];
  const conf = loadRegistriesConfig();
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const cands = await candidates(input, { forPull: true });
  const marks = progressMarks();
  let lastErr: unknown;
  for (const ref of cands) {
    if (registryFor(conf, ref)?.blocked) {
      lastErr = new RegistryError(`registry ${ref.domain} is blocked in registries.conf`, { code: 'E_BLOCKED' });
      continue;
    }
    // The mirrors of the name's [[registry]] first, then its location; the image keeps the name asked for.
    const endpoints = pullEndpoints(conf, ref);
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i];
      const insecure = opts.tlsVerify === false || (opts.tlsVerify === undefined && endpoint.insecure);
      opts.onNotice?.(`Trying to pull ${formatReference(ref)}...`);
      const source = new RegistrySource(ref, platform, { insecure, certDir: opts.certDir }, endpoint.ref);
      try {
        const id = await copyImage(source, new StoreDestination(store, opts.onWarning), { onProgress: (e) => { marks(e); opts.onProgress?.(e); } });
        imageEvent('pull', id, input);
        return { id, name: formatReference(ref) };
      } catch (e) {
        lastErr = e;
        // Only "not there" moves on to the next mirror or search registry; real failures stop here.
        const code = (e as TspodError).code;
        const another = i < endpoints.length - 1 || ref !== cands[cands.length - 1];
        if (!another || !(code === 'E_MANIFEST_UNKNOWN' || code === 'E_UNAUTHORIZED' || code === 'E_REGISTRY_UNREACHABLE')) throw e;
      } finally {
        await source.close();
      }
    }
  }
  if (cands.length > 1) {
    throw new ImageNotFoundError(input, `tried ${cands.map(formatReference).join(', ')}; last error: ${(lastErr as Error)?.message}`);
  }
  throw lastErr;
}

export interface RemoveImageOptions { force?: boolean; /** images not found are skipped in silence; else listed in the report's `missing` */ ignoreMissing?: boolean }
export interface RemoveImageReport { untagged: string[]; deleted: string[]; removedContainers: string[]; missing: TspodError[]; /** images containers use (without force): kept, each said */ inUse: TspodError[] }

export async function removeImages(store: Store, inputs: string[], opts: RemoveImageOptions = {}): Promise<RemoveImageReport> {
  const report: RemoveImageReport = { untagged: [], deleted: [], removedContainers: [], missing: [], inUse: [] };
  const { removeContainer } = await import('./lifecycle.js');
  for (const input of inputs) {
    const img = await findImage(store, input);
    if (!img) { if (!opts.ignoreMissing) report.missing.push(new ImageNotFoundError(input)); continue; }
    // A name (or REPO@DIGEST) of an image that has other names only drops that name, -f or not, and
    // leaves its containers alone: Podman's rule (Docker's too).
    const untagged = store.withLock(() => {
      const current = store.readImages().find((i) => i.id === img.id);
      if (!current) return true;
      const digestRef = input.includes('@') ? current.repoDigests.find((d) => d === input.replace(/:[\w][\w.-]*@/, '@') || d.endsWith(`/${input}`)) : undefined;
      if (digestRef && current.names.length) { store.untag(img.id, digestRef); report.untagged.push(digestRef); imageEvent('untag', img.id, digestRef); return true; }
      const byName = current.names.find((n) => n === input || n.endsWith(`/${input}`) || n.endsWith(`/${input}:latest`));
      if (byName && current.names.length > 1) { store.untag(img.id, byName); report.untagged.push(byName); imageEvent('untag', img.id, byName); return true; }
      return false;
    });
    if (untagged) continue;
    const users = store.listContainers().filter((c) => c.imageId === img.id);
    if (users.length && !opts.force) {
      report.inUse.push(new TspodError('E_IMAGE_IN_USE', `image used by ${users[0].id}: image is in use by a container: consider listing external containers and force-removing image`, { exitCode: 2 }));
      continue;
    }
    // A pod's infra goes with its pod, as with Podman's rmi -f of the pause image.
    const pods = users.some((c) => c.pod) ? await import('./pods.js') : undefined;
    for (const c of users) {
      if (!store.readContainer(c.id)) continue; // gone with its pod
      const pod = pods?.infraOf(store, c);
      if (pod) { for (const m of pods!.podMembers(store, pod)) report.removedContainers.push(m.id); await pods!.removePod(store, pod, { force: true, timeoutSec: 0 }); continue; }
      await removeContainer(store, c, { force: true });
      report.removedContainers.push(c.id);
    }
    const names = store.withLock(() => {
      const current = store.readImages().find((i) => i.id === img.id);
      if (!current) return undefined;
      report.untagged.push(...current.names);
      store.removeImage(img.id);
      report.deleted.push(img.id);
      return current.names;
    });
    if (names) {
      for (const n of names) imageEvent('untag', img.id, n);
      imageEvent('remove', img.id, img.id);
    }
  }
  // What a killed rmi or pull left (staging, layers no image uses) goes too.
  store.withLock(() => store.sweep());
  return report;
}

/** An image's config blob, parsed; its labels and history are what listings and inspect show. */
export interface ImageConfig {
  architecture?: string; os?: string; created?: string; author?: string;
  config?: { Labels?: Record<string, string> | null; [k: string]: unknown };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean }>;
}

export function readImageConfig(store: Store, img: ImageRecord): ImageConfig {
  return JSON.parse(store.readBlob(`sha256:${img.id}`).toString('utf8')) as ImageConfig;
}

const IMAGE_FILTERS = ['after', 'before', 'dangling', 'id', 'label', 'readonly', 'reference', 'since', 'until'];

/** Does a stored name (registry/path:tag) match a reference filter? Podman's rules: the whole name, the name without its tag, or the familiar short forms, with globs. */
export function matchesReference(name: string, pattern: string): boolean {
  const colon = name.lastIndexOf(':');
  const repo = colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
  const tag = colon > name.lastIndexOf('/') ? name.slice(colon + 1) : 'latest';
  const shortRepos = [repo, repo.replace(/^docker\.io\/(library\/)?/, '')];
  // Without a registry in the pattern, any trailing run of path elements may match.
  const parts = repo.split('/');
  for (let i = 1; i < parts.length; i++) shortRepos.push(parts.slice(i).join('/'));
  const hasTag = pattern.lastIndexOf(':') > pattern.lastIndexOf('/');
  return shortRepos.some((r) => globMatch(pattern, hasTag ? `${r}:${tag}` : r));
}

/** Stored images, newest first, narrowed by Podman's image filters. */
/** A name as `tag` stores it: a short one is localhost's (localhost/NAME:latest), as Podman does. */
export function tagName(input: string): string {
  const ref = parseReference(input);
  if (ref.digest) throw new TspodError('E_USAGE', `${input}: a tag cannot name a digest; give NAME[:TAG]`);
  return formatReference(qualify(ref, ref.domain || 'localhost'));
}

/** tspod tag IMAGE NAME...: more names for a stored image. */
export async function tagImage(store: Store, input: string, names: string[]): Promise<void> {
  const img = await findImage(store, input);
  if (!img) throw new ImageNotFoundError(input);
  const full = names.map(tagName);
  store.withLock(() => { for (const n of full) store.tag(img.id, n); });
  // The event names the tag as it was given, as Podman's does (its untag names the stored one).
  for (const n of names) imageEvent('tag', img.id, n);
}

/** tspod untag IMAGE [NAME...]: drop names (all of them when none is given); the image stays. */
export async function untagImage(store: Store, input: string, names: string[]): Promise<void> {
  const img = await findImage(store, input);
  if (!img) throw new ImageNotFoundError(input);
  const dropped: string[] = [];
  store.withLock(() => {
    const current = store.readImages().find((i) => i.id === img.id);
    if (!current) return;
    if (names.length === 0) { for (const n of [...current.names, ...current.repoDigests]) { store.untag(img.id, n); dropped.push(n); } return; }
    for (const given of names) {
      // REPO:TAG@DIGEST names the digest reference REPO@DIGEST.
      const full = given.includes('@') ? given.replace(/:[\w][\w.-]*@/, '@') : tagName(given);
      const found = [...current.names, ...current.repoDigests].find((n) => n === full || n === given || n.endsWith(`/${given}`));
      if (!found) throw new TspodError('E_NOT_TAGGED', `${given}: tag not known`);
      store.untag(img.id, found);
      dropped.push(found);
    }
  });
  for (const n of dropped) imageEvent('untag', img.id, n);
}

/** `intermediate: false` leaves out build steps' images: untagged, and the parent of another (`images` shows them with -a only). */
export function listImages(store: Store, opts: { filters?: string[]; intermediate?: boolean } = {}): ImageRecord[] {
  const listed = filteredImages(store, opts.filters ?? []);
  if (opts.intermediate !== false) return listed;
  const parents = new Set(store.readImages().map((i) => i.parent).filter(Boolean));
  return listed.filter((i) => i.names.length || !parents.has(i.id));
}

function filteredImages(store: Store, given: string[]): ImageRecord[] {
  const filters = parseFilters(given, IMAGE_FILTERS, 'images');
  const images = store.readImages().sort((a, b) => byText(b.created ?? '', a.created ?? ''));
  if (filters.size === 0) return images;
  const refImage = (value: string): ImageRecord => {
    const hex = value.replace(/^sha256:/, '');
    const found = images.find((i) => i.id.startsWith(hex)) ?? images.find((i) => i.names.some((n) => matchesReference(n, value.includes(':') ? value : `${value}:latest`)));
    if (!found) throw new ImageNotFoundError(value);
    return found;
  };
  const labels = new Map<string, Record<string, string> | null | undefined>();
  const labelsOf = (img: ImageRecord) => {
    if (!labels.has(img.id)) labels.set(img.id, readImageConfig(store, img).config?.Labels);
    return labels.get(img.id);
  };
  const time = (img: ImageRecord) => Date.parse(img.created ?? '') || 0;
  return images.filter((img) => matchesAll(filters, (key, value) => {
    switch (key) {
      case 'after': case 'since': return time(img) > time(refImage(value));
      case 'before': return time(img) < time(refImage(value));
      case 'until': { const t = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value); return time(img) < t; }
      case 'dangling': return (img.names.length === 0) === (value === 'true');
      case 'id': return img.id.startsWith(value.replace(/^sha256:/, ''));
      case 'label': return matchesLabel(labelsOf(img), value);
      case 'readonly': return value === 'false';
      case 'reference': return img.names.some((n) => matchesReference(n, value));
    }
    return false;
  }));
}

export interface ImageInspectReport {
  Id: string; Digest: string; RepoTags: string[]; RepoDigests: string[]; Created?: string;
  Size: number; Architecture?: string; Os?: string; Config: unknown; RootFS: { Type: string; Layers: string[] };
  ManifestType: string;
  /** the manifest's annotations (build --annotation) */
  Annotations: Record<string, string>;
}

export async function inspectImage(store: Store, input: string): Promise<ImageInspectReport> {
  const img = await findImage(store, input);
  if (!img) throw new ImageNotFoundError(input);
  const config = JSON.parse(store.readBlob(`sha256:${img.id}`).toString('utf8')) as { architecture?: string; os?: string; config?: unknown; created?: string };
  let annotations: Record<string, string> = {};
  try { annotations = (JSON.parse(store.readBlob(img.digest).toString('utf8')) as { annotations?: Record<string, string> }).annotations ?? {}; } catch { /* no manifest kept */ }
  return {
    Id: img.id, Digest: img.digest, RepoTags: img.names, RepoDigests: img.repoDigests, Created: config.created,
    Size: img.size, Architecture: config.architecture, Os: config.os, Config: config.config ?? {},
    RootFS: { Type: 'layers', Layers: img.layers }, ManifestType: img.manifestMediaType, Annotations: annotations,
  };
}

export interface HistoryEntry { id: string; created?: string; createdBy: string; size: number; comment: string; emptyLayer: boolean }

/** The image's history, newest first: each entry that made a layer has that layer's size; only the newest names the image. */
export function imageHistory(store: Store, img: ImageRecord): HistoryEntry[] {
  const config = JSON.parse(store.readBlob(`sha256:${img.id}`).toString('utf8')) as { history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean }> };
  const history = config.history ?? [];
  // Entries that made layers name the last layers when the history is shorter than the layer list.
  let layer = Math.max(0, img.layers.length - history.filter((h) => !h.empty_layer).length);
  const out = history.map((h) => {
    const diff = h.empty_layer ? undefined : img.layers[layer++];
    return { id: '<missing>', created: h.created, createdBy: h.created_by ?? '', size: diff ? store.layerSize(diff) : 0, comment: h.comment ?? '', emptyLayer: !!h.empty_layer };
  });
  out.reverse();
  if (out.length) out[0].id = img.id;
  return out;
}
