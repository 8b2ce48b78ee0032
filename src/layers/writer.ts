// The layer writer: a directory as an OCI layer tar. It walks in a stable order (names sorted byte
// by byte, a directory before what it holds), so the same tree always gives the same bytes and the
// same diff id. From an overlay upper directory (commit, diff, build steps) it turns whiteouts back
// into OCI entries: a 0/0 character device into `.wh.NAME`, an opaque directory into
// `DIR/.wh..wh..opq`. Owners are written as seen from inside tspod's user namespace, which are the
// container's own ids. Hard links, symlinks, modes, mtimes, xattrs and non-UTF-8 names are kept.
import fs from 'node:fs';
import path from 'node:path';
import { tarHeader, padding, TAR_END, type WriteEntry } from './tar-writer.js';
import { lgetxattr, llistxattr } from '../sys/index.js';
import { fileBytes, type LayoutRecorder } from '../storage/tar-layout.js';

export interface LayerWriteOptions {
  /** overlay's xattr namespace in this directory ("user.overlay." rootless), when it is an upper dir */
  overlayXattrPrefix?: string;
  /** paths (relative, no leading "/") to leave out: the mount points tspod made for etc files and volumes */
  skip?: (rel: string, st: fs.Stats, full: Buffer) => boolean;
  /** owners to write instead of the files' own (build's COPY: --chown, else 0:0) */
  owner?: { uid: number; gid: number };
  /** the ids to write for the files' own (a container with a user namespace of its own stores them shifted) */
  ids?: (uid: number, gid: number) => [number, number];
  /** a mode to write instead of the files' own (COPY --chmod) */
  chmod?: number;
  /** an mtime to write instead of the files' own (0 for build's content digest) */
  mtime?: number;
  /** record the tar's layout while writing it (a directory adopted as a layer keeps its files: only the layout is new) */
  layout?: LayoutRecorder;
  /** collects what `skip` left out (writeLayer), for a caller that must take it out of the directory too */
  skipped?: Buffer[];
}

/** A change a layer makes, as `diff` prints it. */
export interface Change { kind: 'A' | 'C' | 'D'; path: string }

const latin1 = (b: Buffer) => b.toString('latin1');

interface Walked { rel: string; full: Buffer; st: fs.Stats }

/** Every entry under `root`, sorted, parents first. */
function* walk(root: Buffer, rel = ''): Generator<Walked> {
  const dir = rel ? Buffer.concat([root, Buffer.from('/'), Buffer.from(rel, 'latin1')]) : root;
  const names = (fs.readdirSync(dir, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare);
  for (const name of names) {
    const childRel = rel ? `${rel}/${latin1(name)}` : latin1(name);
    const full = Buffer.concat([dir, Buffer.from('/'), name]);
    const st = fs.lstatSync(full);
    // fuse-overlayfs's marks of an opaque directory (isOpaque): a file, and a whiteout of a name no layer has.
    if ((name.equals(FUSE_OPAQUE) && st.isFile()) || (name.equals(FUSE_OPAQUE_WHITEOUT) && isWhiteout(st))) continue;
    yield { rel: childRel, full, st };
    if (st.isDirectory()) yield* walk(root, childRel);
  }
}

function xattrsOf(full: Buffer, overlayPrefix?: string): Map<string, Buffer> | undefined {
  let names: string[];
  try { names = llistxattr(full); } catch { return undefined; }
  const out = new Map<string, Buffer>();
  for (const n of names) {
    // overlayfs's own attributes say what the upper dir means; they are never content.
    if (/^(trusted|user)\.overlay\./.test(n) || (overlayPrefix && n.startsWith(overlayPrefix))) continue;
    const v = lgetxattr(full, n);
    if (v) out.set(n, v);
  }
  return out.size ? out : undefined;
}

const isWhiteout = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;

/** fuse-overlayfs, without the right to set overlay's xattr, marks an opaque directory with this file in it. */
const FUSE_OPAQUE = Buffer.from('.wh..wh..opq'), FUSE_OPAQUE_WHITEOUT = Buffer.from('.wh..opq');

/** An upper directory that hides what lower layers have there: overlay's xattr, or fuse-overlayfs's file. */
function isOpaque(full: Buffer, prefix: string | undefined): boolean {
  if (prefix && lgetxattr(full, `${prefix}opaque`)?.toString() === 'y') return true;
  try { return fs.lstatSync(Buffer.concat([full, Buffer.from('/'), FUSE_OPAQUE])).isFile(); } catch { return false; }
}

/**
 * The changes an upper directory holds (for `diff`): each path once, parents before children. A
 * directory that overlay only copied up to hold what was left out (mount points) is no change.
 */
export function upperChanges(upper: string, lower: (rel: string) => fs.Stats | undefined, o: LayerWriteOptions = {}): Change[] {
  const out: Array<Change & { same?: boolean }> = [];
  for (const { rel, full, st } of walk(Buffer.from(upper))) {
    if (o.skip?.(rel, st, full)) continue;
    const shown = `/${Buffer.from(rel, 'latin1').toString('utf8')}`;
    if (isWhiteout(st)) { out.push({ kind: 'D', path: shown }); continue; }
    const opaque = st.isDirectory() && isOpaque(full, o.overlayXattrPrefix);
    const below = lower(rel);
    const same = !!below && st.isDirectory() && below.isDirectory() && below.mode === st.mode && below.uid === st.uid && below.gid === st.gid;
    out.push({ kind: below && !opaque ? 'C' : 'A', path: shown, same });
  }
  // The walk puts a directory's entries right after it: one that follows with its prefix is a change inside.
  return out.filter((c, i) => !(c.kind === 'C' && c.same && !out[i + 1]?.path.startsWith(`${c.path}/`)))
    .map(({ kind, path: p }) => ({ kind, path: p }));
}

/** The layer tar of `root`, streamed in batches: a chunk per header and body would cost more in the consumers' async steps than the files' reads. */
export async function* writeLayer(root: string, o: LayerWriteOptions = {}): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  let batch: Buffer[] = [];
  let bytes = 0;
  for (const w of walk(Buffer.from(root))) {
    if (o.skip?.(w.rel, w.st, w.full)) { o.skipped?.push(w.full); continue; }
    for (const chunk of entry(w.rel, w.full, w.st, o, links)) {
      batch.push(chunk);
      bytes += chunk.length;
      if (bytes >= BATCH) { yield Buffer.concat(batch, bytes); batch = []; bytes = 0; }
    }
  }
  o.layout?.addRaw(TAR_END);
  batch.push(TAR_END);
  yield Buffer.concat(batch);
}

const BATCH = 256 * 1024;

/**
 * Several layers' diff directories (topmost first) as the one layer they make together (build
 * --squash): each path from the topmost layer that has it, a whiteout or an opaque directory
 * hiding what the layers below hold there, and whiteouts kept for what lies under them all.
 */
export async function* mergedLayer(dirs: string[], o: LayerWriteOptions): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  const roots = dirs.map((d) => Buffer.from(d));
  const join = (root: Buffer, rel: string) => (rel ? Buffer.concat([root, Buffer.from('/'), Buffer.from(rel, 'latin1')]) : root);
  const opaque = (full: Buffer) => isOpaque(full, o.overlayXattrPrefix);
  async function* level(rel: string, layers: Buffer[]): AsyncGenerator<Buffer> {
    const names = new Map<string, Buffer>();
    for (const root of layers) {
      let list: Buffer[] = [];
      try { list = fs.readdirSync(join(root, rel), { encoding: 'buffer' }) as Buffer[]; } catch { /* not a directory in this one */ }
      for (const n of list) names.set(latin1(n), n);
    }
    for (const name of [...names.values()].sort(Buffer.compare)) {
      const childRel = rel ? `${rel}/${latin1(name)}` : latin1(name);
      let top: { full: Buffer; st: fs.Stats; i: number } | undefined;
      for (let i = 0; i < layers.length && !top; i++) {
        const full = join(layers[i], childRel);
        try { top = { full, st: fs.lstatSync(full), i }; } catch { /* not in this one */ }
      }
      if (!top) continue;
      yield* entry(childRel, top.full, top.st, o, links);
      if (!top.st.isDirectory()) continue;
      // The layers below the topmost that still show this directory: down to the first opaque one.
      const below: Buffer[] = [];
      for (let i = top.i; i < layers.length; i++) {
        const full = join(layers[i], childRel);
        let st: fs.Stats;
        try { st = fs.lstatSync(full); } catch { continue; }
        if (!st.isDirectory()) break;
        below.push(layers[i]);
        if (opaque(full)) break;
      }
      yield* level(childRel, below);
    }
  }
  yield* level('', roots);
  yield TAR_END;
}

/**
 * One path as a tar (cp): the path itself named `name`, and under it what a directory holds; with
 * `name` '' a directory's contents alone (cp DIR/. DEST).
 */
export async function* writePath(full: string, name: string, o: LayerWriteOptions = {}): AsyncGenerator<Buffer> {
  yield* pathEntries(full, name, o, new Map());
  yield TAR_END;
}

/** writePath's entries without the end of the archive, for a layer made of several paths; `links` spans them. */
export async function* pathEntries(full: string, name: string, o: LayerWriteOptions, links: Map<string, string>): AsyncGenerator<Buffer> {
  const buf = Buffer.from(full);
  const st = fs.lstatSync(buf);
  if (name && !o.skip?.('', st, buf)) yield* entry(name, buf, st, o, links);
  if (st.isDirectory()) {
    for (const w of walk(buf)) if (!o.skip?.(w.rel, w.st, w.full)) yield* entry(name ? `${name}/${w.rel}` : w.rel, w.full, w.st, o, links);
  }
}

/** An entry's header blocks, and its body when it is a file (a hard link's first name carries it). */
function* entry(rel: string, full: Buffer, st: fs.Stats, o: LayerWriteOptions, links: Map<string, string>): Generator<Buffer> {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  const parent = rel.slice(0, Math.max(0, rel.lastIndexOf('/')));
  const [uid, gid] = o.ids ? o.ids(st.uid, st.gid) : [st.uid, st.gid];
  const common = { mode: o.chmod ?? st.mode & 0o7777, uid: o.owner?.uid ?? uid, gid: o.owner?.gid ?? gid, mtime: o.mtime ?? Math.floor(st.mtimeMs / 1000) };
  if (o.overlayXattrPrefix && isWhiteout(st)) {
    yield raw(o, tarHeader({ ...common, name: parent ? `${parent}/.wh.${base}` : `.wh.${base}`, type: 'file', mode: 0o600, size: 0 }));
    return;
  }
  let e: WriteEntry;
  if (st.isDirectory()) e = { ...common, name: `${rel}/`, type: 'directory' };
  else if (st.isSymbolicLink()) e = { ...common, name: rel, type: 'symlink', linkname: latin1(fs.readlinkSync(full, { encoding: 'buffer' }) as Buffer) };
  else if (st.isFIFO()) e = { ...common, name: rel, type: 'fifo' };
  else if (st.isCharacterDevice() || st.isBlockDevice()) {
    e = { ...common, name: rel, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: (st.rdev >> 8) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) { yield raw(o, tarHeader({ ...common, name: rel, type: 'link', linkname: first })); return; }
    if (st.nlink > 1) links.set(key, rel);
    e = { ...common, name: rel, type: 'file', size: st.size };
  } else return; // sockets: nothing a layer can hold
  e.xattrs = xattrsOf(full, o.overlayXattrPrefix);
  yield raw(o, tarHeader(e));
  if (e.type === 'file') {
    o.layout?.addFile(rel, st.size);
    yield* fileBytes(full, st.size, () => Object.assign(new Error(`${path.posix.join('/', rel)} shrank while it was written into the layer`), { code: 'E_CHANGED' }));
    yield raw(o, padding(st.size));
  }
  if (e.type === 'directory' && isOpaque(full, o.overlayXattrPrefix)) {
    yield raw(o, tarHeader({ ...common, name: `${rel}/.wh..wh..opq`, type: 'file', mode: 0o600, size: 0 }));
  }
}

/** A header or padding block, recorded in the layout as raw bytes. */
function raw(o: LayerWriteOptions, b: Buffer): Buffer {
  o.layout?.addRaw(b);
  return b;
}
