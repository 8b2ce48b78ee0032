// commit and diff: a container's upper directory as one more layer over its image. The layer comes
// from the one layer writer; the new image goes into the store through the one copier, so it gets
// a tar layout like every pulled layer and can be pushed or saved byte for byte.
import fs from 'node:fs';
import path from 'node:path';
import { TspodError, UsageError } from '../errors.js';
import { isRootless } from '../paths.js';
import { Store, type ContainerRecord, type ImageRecord } from '../storage/store.js';
import { findContainer, containerCmd } from './containers.js';
import { findImage, tagName } from './images.js';
import { applyChanges } from './changes.js';
import type { Change } from '../layers/writer.js';
import { vfsUpper } from '../storage/vfs.js';
import { containerLowers, toContainer } from '../storage/mapped.js';

/** Files tspod puts into every container, whose mount points runc may have had to create in the upper dir. */
const MOUNT_POINTS = ['etc/hosts', 'etc/resolv.conf', 'etc/hostname', 'run/.containerenv', 'etc/passwd', 'etc/localtime'];

const overlayPrefix = () => (isRootless() ? 'user.overlay.' : 'trusted.overlay.');

function imageOf(store: Store, rec: ContainerRecord): ImageRecord {
  const img = store.readImages().find((i) => i.id === rec.imageId);
  if (!img) throw new TspodError('E_NO_IMAGE', `the image of container ${rec.name} (${rec.imageName}) is no longer in the store`, { hint: 'pull it again first' });
  return img;
}

/** A path as the topmost of the image's layers that has it holds it (a whiteout above it aside). */
export function lowerStat(store: Store, layers: string[]): (rel: string) => fs.Stats | undefined {
  const dirs = layers.map((d) => store.diffDir(d)).reverse();
  return (rel) => {
    for (const d of dirs) { try { return fs.lstatSync(Buffer.concat([Buffer.from(`${d}/`), Buffer.from(rel, 'latin1')])); } catch { /* not in this one */ } }
    return undefined;
  };
}

/** What the writer leaves out of a container's upper dir: mount points made for tspod's files and volumes, when empty and not the image's, and start's /etc/mtab. */
function mountPointSkip(rec: ContainerRecord, has: (rel: string) => fs.Stats | undefined): (rel: string, st: fs.Stats, full: Buffer) => boolean {
  const points = new Set([...MOUNT_POINTS, ...(rec.config?.volumes ?? []).map((v) => v.destination.replace(/^\/+/, ''))]);
  const whiteout = (s: fs.Stats | undefined) => !!s && s.isCharacterDevice() && s.rdev === 0;
  return (rel, st, full) => (points.has(rel) && !has(rel) && ((st.isFile() && st.size === 0) || (st.isDirectory() && fs.readdirSync(full).length === 0)))
    // the /etc/mtab start links to /proc/mounts where the image has none (Podman's diff leaves it out too)
    || (rel === 'etc/mtab' && (!has(rel) || whiteout(has(rel))) && st.isSymbolicLink() && fs.readlinkSync(full, 'latin1') === '/proc/mounts');
}

export interface CommitOptions {
  changes?: string[];
  message?: string;
  author?: string;
  pause?: boolean;
  format?: 'oci' | 'docker';
  onWarning?: (m: string) => void;
}

/**
 * The image's config as the container ran it, as Podman's commit makes it: its entrypoint and
 * command (an entrypoint given to run replaces the image's command too), environment, user,
 * working directory and exposed ports.
 */
function runConfig(image: Record<string, unknown>, rec: ContainerRecord): Record<string, unknown> {
  const cfg = rec.config;
  const out: Record<string, unknown> = { ...image };
  delete out.Entrypoint;
  delete out.Cmd;
  if (cfg?.entrypoint?.length) out.Entrypoint = cfg.entrypoint;
  const cmd = containerCmd(rec);
  if (cmd.length) out.Cmd = cmd;
  if (cfg?.env?.length) out.Env = mergeEnvList((image.Env as string[] | undefined) ?? [], cfg.env);
  if (cfg?.user) out.User = cfg.user;
  if (cfg?.workdir) out.WorkingDir = cfg.workdir;
  if (cfg?.exposed?.length) out.ExposedPorts = { ...(image.ExposedPorts as Record<string, object> | undefined), ...Object.fromEntries(cfg.exposed.map((p) => [p, {}])) };
  return out;
}

export async function commitContainer(store: Store, ref: string, name: string | undefined, o: CommitOptions = {}): Promise<string> {
  const rec = findContainer(store, ref);
  const img = imageOf(store, rec);
  const target = name ? tagName(name) : undefined;
  if (o.format && !['oci', 'docker'].includes(o.format)) throw new UsageError(`unknown --format "${o.format}"`, 'use oci or docker');
  const [{ BuiltImageSource }, { StoreDestination }, { copyImage }] = await Promise.all([
    import('../layers/source.js'), import('../storage/destination.js'), import('../copy/copy.js'),
  ]);
  const pause = o.pause && rec.state === 'running';
  const { pauseContainer } = await import('./lifecycle.js');
  if (pause) await pauseContainer(store, rec, true);
  try {
    const base = JSON.parse(store.readBlob(`sha256:${img.id}`).toString('utf8')) as Record<string, unknown> & { config?: Record<string, unknown>; rootfs?: { diff_ids?: string[] }; history?: unknown[] };
    // A --change that can't apply fails before any layer is written.
    const imageConfig = applyChanges(runConfig(base.config ?? {}, rec), o.changes ?? []);
    const dest = new StoreDestination(store, o.onWarning, { built: true });
    const diffId = await containerLayer(store, rec, img, dest);
    const created = new Date().toISOString();
    const config = {
      ...base,
      created,
      ...(o.author ? { author: o.author } : {}),
      config: imageConfig,
      rootfs: { type: 'layers', diff_ids: [...img.layers, diffId] },
      // As Podman: the container's command made the layer, and the comment says what it came from.
      history: [...(base.history ?? []), { created, created_by: rec.command.join(' '), comment: o.message ?? `FROM ${rec.imageName}`, ...(o.author ? { author: o.author } : {}) }],
    };
    return await copyImage(new BuiltImageSource(target ?? '', config, [...img.layers, diffId]), dest, { concurrency: 1, format: o.format === 'docker' ? 'v2s2' : 'oci' });
  } catch (e) {
    if ((e as { code?: string }).code === 'E_CHANGED' || (e as TspodError).code === 'E_DIGEST') {
      throw new TspodError('E_CHANGED', `container ${rec.name} changed while it was committed: ${(e as Error).message}`, { hint: 'commit it again with --pause, or stop it first' });
    }
    throw e;
  } finally {
    if (pause) await pauseContainer(store, rec, false);
  }
}

/**
 * The container's changes (its upper dir) as a new layer of the store, through the one layer
 * writer. With `consume` (build's RUN, whose container goes next), the upper dir itself becomes
 * the layer once the mount points tspod made are taken out of it: nothing is copied.
 */
export async function containerLayer(store: Store, rec: ContainerRecord, img: ImageRecord, dest: import('../storage/destination.js').StoreDestination, consume = false): Promise<string> {
  const { writeLayer } = await import('../layers/writer.js');
  const dir = store.containerDir(rec.id);
  const { upper, release } = upperOf(store, rec, img);
  const has = lowerStat(store, img.layers);
  // A user namespace of its own over copied layers stores owners shifted: the layer gets them as the container saw them.
  const c = rec.config?.confinement;
  const shifted = c?.uidMap && c.gidMap && rec.config?.storage?.name !== 'fuse-overlayfs' ? { uid: c.uidMap, gid: c.gidMap } : undefined;
  const opts = { overlayXattrPrefix: overlayPrefix(), skip: mountPointSkip(rec, has), ...(shifted ? { ids: (u: number, g: number): [number, number] => [toContainer(shifted.uid, u), toContainer(shifted.gid, g)] } : {}) };
  const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path.join(dir, 'merged'));
  if (!consume || mounted) { try { return await dest.addLayer(() => writeLayer(upper, opts)); } finally { release(); } }
  return dest.adoptLayer(upper, (layout) => {
    const skipped: Buffer[] = [];
    return (async function* () {
      yield* writeLayer(upper, { ...opts, layout, skipped });
      // What the tar leaves out must not be in the directory either (deepest first).
      for (const full of skipped.reverse()) fs.rmSync(full, { recursive: true, force: true });
    })();
  });
}

/**
 * The directory of a container's changes: its overlay upper dir, or for a vfs root one made for the
 * occasion (hard links to what changed, whiteouts for what went) and removed by `release`.
 */
function upperOf(store: Store, rec: ContainerRecord, img: ImageRecord): { upper: string; release(): void } {
  const dir = store.containerDir(rec.id);
  if (rec.config?.storage?.name !== 'vfs') return { upper: path.join(dir, 'upper'), release: () => {} };
  const upper = path.join(store.root, 'tmp', `${process.pid}-vfs-${rec.id.slice(0, 12)}-${Date.now()}`);
  vfsUpper(containerLowers(store, img.layers, rec.config.confinement).reverse().map((l) => path.join(store.root, l)), path.join(dir, 'merged'), upper, overlayPrefix());
  return { upper, release: () => fs.rmSync(upper, { recursive: true, force: true }) };
}

function mergeEnvList(base: string[], extra: string[]): string[] {
  const map = new Map(base.map((e) => [e.split('=')[0], e] as [string, string]));
  for (const e of extra) map.set(e.split('=')[0], e);
  return [...map.values()];
}

/** diff CONTAINER: what its upper dir changed; diff IMAGE: what its top layer changed over the rest. */
export async function changesOf(store: Store, ref: string): Promise<Change[]> {
  const { upperChanges } = await import('../layers/writer.js');
  let rec: ContainerRecord | undefined;
  try { rec = findContainer(store, ref); } catch { /* maybe an image */ }
  if (rec) {
    const img = imageOf(store, rec);
    const has = lowerStat(store, img.layers);
    const { upper, release } = upperOf(store, rec, img);
    try { return await upperChanges(upper, has, { overlayXattrPrefix: overlayPrefix(), skip: mountPointSkip(rec, has) }); } finally { release(); }
  }
  const img = await findImage(store, ref);
  if (!img) throw new TspodError('E_NO_SUCH', `${ref} is neither a container nor an image here`, { hint: 'see tspod ps -a and tspod images' });
  if (!img.layers.length) return [];
  return upperChanges(store.diffDir(img.layers[img.layers.length - 1]), lowerStat(store, img.layers.slice(0, -1)), { overlayXattrPrefix: overlayPrefix() });
}

/** export CONTAINER: its whole root (without volumes) as one tar, to a file (staged, renamed at the end) or stdout. */
export async function exportContainer(store: Store, ref: string, output: string | undefined): Promise<void> {
  const rec = findContainer(store, ref);
  if (!output && process.stdout.isTTY) throw new UsageError('refusing to export to a terminal', 'use -o FILE, or redirect the output');
  const [{ writeLayer }, { overlayRoot }, { outputSink }] = await Promise.all([import('../layers/writer.js'), import('./cp.js'), import('./transfer.js')]);
  const { root, release } = await overlayRoot(store, rec);
  const sink = outputSink(output);
  try {
    for await (const chunk of writeLayer(root)) await sink.write(chunk);
    await sink.done();
  } catch (e) {
    sink.fail();
    throw e;
  } finally {
    release();
  }
}

export interface ImportOptions { changes?: string[]; message?: string; onWarning?: (m: string) => void }

/** import FILE|URL|-: a root file system tarball (compressed or not) as a one-layer image. */
export async function importTarball(store: Store, input: string, name: string | undefined, o: ImportOptions = {}): Promise<string> {
  const [{ plainArchive, ArchiveError }, { BuiltImageSource }, { StoreDestination }, { copyImage }] = await Promise.all([
    import('../archive/tar-index.js'), import('../layers/source.js'), import('../storage/destination.js'), import('../copy/copy.js'),
  ]);
  store.init();
  const tmp = store.stagingDir();
  try {
    const file = input;
    let plain: string;
    try { plain = (await plainArchive(file, tmp)).file; } catch (e) {
      if (e instanceof ArchiveError) throw new TspodError('E_IMPORT', `cannot import ${input}: ${e.message}`, { hint: 'import takes a tar of a root file system (as tspod export writes it), gzip or zstd compressed or not' });
      throw e;
    }
    const imageConfig = applyChanges({}, o.changes ?? []);
    const dest = new StoreDestination(store, o.onWarning);
    let diffId: string;
    try { diffId = await dest.addLayer(() => fs.createReadStream(plain, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>); } catch (e) {
      if (['E_CORRUPT_LAYER', 'E_DIGEST', 'E_HOSTILE_LAYER'].includes((e as TspodError).code)) throw new TspodError('E_IMPORT', `cannot import ${input}: ${(e as Error).message}`, { hint: 'give a whole, valid tar; nothing was stored' });
      throw e;
    }
    const created = new Date().toISOString();
    const config = {
      created, architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux',
      config: imageConfig,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, created_by: `tspod import ${input === '-' ? 'from stdin' : input}`, ...(o.message ? { comment: o.message } : {}) }],
    };
    const target = name ? tagName(name) : '';
    return await copyImage(new BuiltImageSource(target, config, [diffId]), dest, { concurrency: 1 });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
