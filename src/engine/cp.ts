// cp between the host and containers (created, running or exited), and between containers, with
// Docker's rules: into an existing directory a copy nests under its own name, `SRC/.` copies a
// directory's contents, `-` is a tar on stdin or stdout. Paths inside a container resolve as the
// container sees them (symlinks followed, never out of its root), relative ones from its working
// directory. The copy is the layer writer's tar, unpacked by the store's safe unpacker.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { TspodError, UsageError } from '../errors.js';
import { isRootless } from '../paths.js';
import { type Store, type ContainerRecord } from '../storage/store.js';
import { resolveInRoot } from '../runtime/rootpath.js';
import { resolveUser } from '../runtime/user.js';
import { writePath } from '../layers/writer.js';
import { unpackLayer, type UnpackOptions } from '../storage/unpack.js';
import { decompressor } from '../storage/layer-stream.js';
import { findContainer, containerPid } from './containers.js';
import { volumeDataDir } from './volumes.js';

export interface CopyOptions {
  archive?: boolean;
  overwrite?: boolean;
  /** the tar for `-` comes from here, or goes there, rather than our stdin and stdout (the API's archive endpoint) */
  tarIn?: AsyncIterable<Buffer>;
  tarOut?: (chunk: Buffer) => Promise<void> | void;
}

type Owner = NonNullable<UnpackOptions['copy']>['owner'];

/** One side of the copy, resolved: where it is here, and how to name it in messages. */
interface Side {
  kind: 'container' | 'host' | 'stream';
  /** the path on this machine (for a container: under its root) */
  full: string;
  /** the path as given (a trailing "/" or "/." matters) */
  given: string;
  /** for messages: `container NAME` or `the host` */
  where: string;
  rec?: ContainerRecord;
  root?: string;
}

const exists = (p: string) => { try { fs.lstatSync(p); return true; } catch { return false; } };
const isDir = (p: string) => { try { return fs.statSync(p).isDirectory(); } catch { return false; } };

function splitArg(store: Store, arg: string): { rec?: ContainerRecord; path: string } {
  const colon = arg.indexOf(':');
  // A host path may hold a colon too: it names a container only when one has that name or id.
  if (colon > 0 && !/^[./]/.test(arg)) return { rec: findContainer(store, arg.slice(0, colon)), path: arg.slice(colon + 1) };
  return { path: arg };
}

/** The container's overlay root (no volumes): where it is mounted already, else mounted until `release`. */
export async function overlayRoot(store: Store, rec: ContainerRecord): Promise<{ root: string; release(): void }> {
  const [{ mountRoot }, { containerLowers }] = await Promise.all([import('../runtime/rootfs.js'), import('../storage/mapped.js')]);
  const img = store.readImages().find((i) => i.id === rec.imageId);
  if (!img) throw new TspodError('E_NO_IMAGE', `the image of container ${rec.name} is no longer in the store`, { hint: 'pull it again first' });
  const dir = store.containerDir(rec.id);
  const target = path.join(dir, 'merged');
  if (fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === target)) return { root: target, release: () => {} };
  const release = mountRoot({ storeRoot: store.root, lowers: containerLowers(store, img.layers, rec.config?.confinement), upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), target, rootless: isRootless(), driver: rec.config?.storage ?? { name: 'overlay' } });
  return { root: target, release };
}

/** The container's root as its processes see it (volumes included) while it runs; else its overlay. */
async function containerRoot(store: Store, rec: ContainerRecord): Promise<{ root: string; release(): void }> {
  const pid = rec.state === 'running' ? containerPid(store, rec) : 0;
  return pid ? { root: `/proc/${pid}/root`, release: () => {} } : overlayRoot(store, rec);
}

/** A stopped container's volumes are not mounted in its overlay: a path under one leads to the volume's own directory. */
function volumeRedirect(store: Store, rec: ContainerRecord, root: string, full: string): string {
  if (root.startsWith('/proc/')) return full;
  const inside = `/${path.relative(root, full)}`;
  const vols = (rec.config?.volumes ?? []).filter((v) => v.type !== 'tmpfs').sort((a, b) => b.destination.length - a.destination.length);
  for (const v of vols) {
    const d = v.destination.replace(/\/+$/, '');
    if (inside === d || inside.startsWith(`${d}/`)) return path.join(v.type === 'volume' ? volumeDataDir(store, v.source) : v.source, inside.slice(d.length));
  }
  return full;
}

function containerSide(store: Store, rec: ContainerRecord, root: string, given: string): Side {
  const cwd = rec.config?.workdir ?? '/';
  const p = given === '' ? cwd : given;
  const abs = path.posix.isAbsolute(p) ? p : path.posix.join(cwd, p);
  return { kind: 'container', full: volumeRedirect(store, rec, root, resolveInRoot(root, abs)), given: p, where: `container ${rec.name}`, rec, root };
}

// Podman's own words, which scripts match: the message says what to fix, and carries no hint.
const notFound = (s: Side) => new TspodError('E_NOT_FOUND', s.kind === 'host' ? `"${s.full}" could not be found on the host` : `"${s.given}" could not be found on ${s.where}: no such file or directory`);

/** stdin as a plain tar stream: gzip or zstd is undone; anything that is not a tar is refused. */
async function stdinTar(input: AsyncIterable<Buffer> = process.stdin): Promise<AsyncIterable<Buffer>> {
  const it = input[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  while (have < 512) { const n = await it.next(); if (n.done) break; chunks.push(n.value as Buffer); have += (n.value as Buffer).length; }
  const head = Buffer.concat(chunks);
  const all = Readable.from((async function* () { yield head; for (;;) { const n = await it.next(); if (n.done) return; yield n.value as Buffer; } })(), { objectMode: false });
  const dec = decompressor(head);
  const tarMagic = (b: Buffer) => b.length >= 262 && b.toString('latin1', 257, 262) === 'ustar';
  if (!dec && !tarMagic(head)) throw new TspodError('E_USAGE', 'source must be a (compressed) tar archive when copying from stdin');
  return dec ? all.pipe(dec) : all;
}

export async function copy(store: Store, srcArg: string, destArg: string, o: CopyOptions = {}): Promise<void> {
  const s = srcArg === '-' ? undefined : splitArg(store, srcArg);
  const d = destArg === '-' ? undefined : splitArg(store, destArg);
  if (!s?.rec && !d?.rec) throw new UsageError('one side of cp must be a container: CONTAINER:PATH', 'e.g. tspod cp ./file web:/tmp');
  const releases: Array<() => void> = [];
  try {
    const side = async (a: { rec?: ContainerRecord; path: string } | undefined): Promise<Side> => {
      if (!a) return { kind: 'stream', full: '-', given: '-', where: 'stdin' };
      if (!a.rec) return { kind: 'host', full: path.resolve(a.path), given: a.path, where: 'the host' };
      const { root, release } = await containerRoot(store, a.rec);
      releases.push(release);
      return containerSide(store, a.rec, root, a.path);
    };
    const src = await side(s);
    const dest = await side(d);
    // Owners: into a container, its user's (Podman's --archive) or as the files were (-a=false); onto the host, yours.
    let owner: Owner = 'caller';
    if (dest.rec) {
      const [{ defaultUser }, { toHost }] = await Promise.all([import('./confine.js'), import('../storage/mapped.js')]);
      const c = dest.rec.config?.confinement;
      const user = resolveUser(dest.root!, dest.rec.config?.user ?? defaultUser(c));
      // Owned as the container's user sees it, through its own user namespace where it has one.
      owner = o.archive === false ? 'archive' : { uid: toHost(c?.uidMap ?? [], user.uid), gid: toHost(c?.gidMap ?? [], user.gid) };
    }
    if (src.kind === 'stream') {
      if (!isDir(dest.full)) throw new TspodError('E_USAGE', 'destination must be a directory when copying from stdin');
      await unpackLayer(await stdinTar(o.tarIn), dest.full, { overlayXattrPrefix: 'user.overlay.', copy: { owner } });
      return;
    }
    if (!exists(src.full)) throw notFound(src);
    const contents = /\/\.$/.test(src.given) && isDir(src.full);
    const name = path.posix.basename(src.given.replace(/\/+\.?$/, '')) || path.basename(src.full);
    if (dest.kind === 'stream') {
      for await (const chunk of writePath(src.full, contents ? '' : name)) {
        if (o.tarOut) await o.tarOut(chunk);
        else if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
      }
      return;
    }
    await place(src, dest, name, contents, owner, o);
  } finally {
    for (const r of releases.reverse()) r();
  }
}

/**
 * Where SRC lands at DEST: an existing directory takes it under SRC's name (or its contents, for
 * SRC/.); a path that does not exist becomes the copy (its parent must exist); an existing file
 * is replaced by a file. A directory and a file replace each other only with --overwrite.
 */
async function place(src: Side, dest: Side, name: string, contents: boolean, owner: Owner, o: CopyOptions): Promise<void> {
  const srcIsDir = isDir(src.full);
  if (exists(dest.full) && !isDir(dest.full) && !fs.statSync(dest.full).isFile()) {
    throw new TspodError('E_USAGE', `invalid destination: "${dest.given}" must be a directory or a regular file`);
  }
  if (srcIsDir && !contents && exists(dest.full) && !isDir(dest.full)) throw new TspodError('E_USAGE', 'destination must be a directory when copying a directory');
  let dir: string;
  let landingName = name;
  if (isDir(dest.full)) {
    dir = dest.full;
  } else {
    if (/\/\.?$/.test(dest.given) || !isDir(path.dirname(dest.full))) throw notFound(dest);
    dir = path.dirname(dest.full);
    landingName = path.basename(dest.full);
  }
  const landing = path.join(dir, landingName);
  if (!contents && exists(landing) && isDir(landing) !== srcIsDir) {
    const shown = dest.kind === 'container' ? `/${path.relative(dest.root!, landing)}` : `/${landingName}`;
    if (!o.overwrite) throw new TspodError('E_OVERWRITE', `error creating "${shown}": ${srcIsDir ? 'mkdir' : 'open'} ${shown}: file exists (--overwrite replaces it)`);
    fs.rmSync(landing, { recursive: true, force: true });
  }
  if (contents) {
    // DIR/. into an existing directory fills it; onto a new path makes that directory.
    const into = isDir(dest.full) ? dest.full : landing;
    fs.mkdirSync(into, { recursive: true });
    await unpackLayer(writePath(src.full, ''), into, { overlayXattrPrefix: 'user.overlay.', copy: { owner } });
    return;
  }
  await unpackLayer(writePath(src.full, landingName), dir, { overlayXattrPrefix: 'user.overlay.', copy: { owner } });
}

export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

/** What a path in a container is (Docker's container path stat: Go's FileMode bits for dir and symlink). */
export async function statInContainer(store: Store, ref: string, given: string): Promise<PathStat> {
  const rec = findContainer(store, ref);
  const { root, release } = await containerRoot(store, rec);
  try {
    const side = containerSide(store, rec, root, given);
    let st: fs.Stats;
    try { st = fs.lstatSync(side.full); } catch { throw notFound(side); }
    const link = st.isSymbolicLink() ? fs.readlinkSync(side.full) : '';
    if (link) { try { st = fs.statSync(side.full); } catch { /* dangling: the link itself */ } }
    const mode = (st.mode & 0o7777) + (st.isDirectory() ? 2 ** 31 : 0) + (link ? 2 ** 27 : 0);
    return { name: path.posix.basename(side.given) || '/', size: st.size, mode, mtime: st.mtime.toISOString(), linkTarget: link };
  } finally {
    release();
  }
}
