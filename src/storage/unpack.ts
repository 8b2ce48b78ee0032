// Unpack one uncompressed layer tar into an empty directory, safely: no entry may write outside
// it. Paths are resolved component by component and a symlink is never followed on the way in;
// an existing entry is unlinked before it is replaced, so nothing is ever written through a link.
// OCI whiteouts become overlayfs whiteouts (0/0 character devices, and the opaque xattr); as the
// image spec says, a whiteout applies only to lower layers, never to what its own layer holds.
// Names are byte strings (see tar-reader.ts): every path reaches the file system as a Buffer.
import fs from 'node:fs';
import path from 'node:path';
import { HostileLayerError, TspodError } from '../errors.js';
import { lsetxattr, mknod, mknodChar, SysError } from '../sys/index.js';
import { TarReader, type TarHeader, type TarSink } from './tar-reader.js';
import type { LayoutRecorder } from './tar-layout.js';
import { addSubidsCommand, accountName } from '../userns/subid.js';
import { hostUid, runtimeDir } from '../paths.js';

export interface UnpackOptions {
  /** xattr namespace overlayfs reads: "user.overlay." with the userxattr option (rootless), else "trusted.overlay." */
  overlayXattrPrefix: string;
  onWarning?: (message: string) => void;
  /** records the tar's layout, so the layer can be written out again byte for byte */
  layout?: LayoutRecorder;
  /**
   * cp, not a layer: the directory may hold files already (entries replace them), `.wh.` names are
   * plain names, and owners are `owner` for every entry, or left as this process makes them ('caller').
   */
  copy?: { owner: { uid: number; gid: number } | 'caller' | 'archive' };
}

export interface UnpackResult { size: number; entries: number; /** the layout can give back this tar */ replayable: boolean }

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** A byte string (one character per byte) back to the bytes it stands for. */
const bytes = (s: string) => Buffer.from(s, 'latin1');
/** How a byte-string name reads to a person, for messages. */
export const shown = (s: string) => bytes(s).toString('utf8');

/**
 * xattrs only overlayfs may set: an image carrying them could hide lower files or turn its files
 * into whiteouts on the host, since the kernel honours them in the store.
 */
const OVERLAY_PRIVATE = /^(trusted|user)\.overlay\./;

/** Clean a tar entry name into a path relative to the layer root; reject any that climbs out. */
export function cleanEntryName(name: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new HostileLayerError(shown(name), 'the path climbs out of the layer with ".."');
    parts.push(part);
  }
  return parts.join('/');
}

/** The highest id mapped in this user namespace, from /proc/self/uid_map. */
function mappedMax(): number {
  try {
    return Math.max(...fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split('\n').map((l) => { const [inside, , count] = l.trim().split(/\s+/).map(Number); return inside + count - 1; }));
  } catch { return 0; }
}

class LayerWriter implements TarSink {
  /** Directories this unpack created or verified as real directories (never symlinks). */
  private readonly dirs = new Set<string>(['']);
  /**
   * Directories this unpack created empty, and every path it wrote: in a fresh directory nothing
   * can be in the way of an entry the layer has not written yet, so there is nothing to lstat.
   */
  private readonly fresh = new Set<string>(['']);
  private readonly written = new Set<string>();
  /** paths this layer whited out: a directory made there later must hide the lower one's contents */
  private readonly whiteouts = new Set<string>();
  private readonly dirTimes: Array<[Buffer, number]> = [];
  /** the file whose body is being written, and what to set once it is */
  private file?: { fd: number; header: TarHeader; full: Buffer };
  private readonly warned = new Set<string>();
  size = 0;
  entries = 0;
  /** false once a body the layout points at was replaced later in the layer */
  replayable = true;
  private readonly bodies = new Set<string>();

  private readonly ownerIsRoot = process.getuid?.() === 0 && process.getgid?.() === 0;

  /** the layer root as a byte string, like every name below it */
  private readonly root: string;

  constructor(root: string, private readonly opts: UnpackOptions) {
    if (opts.copy) this.fresh.clear();
    this.root = Buffer.from(root, 'utf8').toString('latin1');
  }

  private abs(rel: string): Buffer { return bytes(rel ? path.join(this.root, rel) : this.root); }

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.opts.onWarning?.(message);
  }

  /** Make sure every parent of `rel` is a real directory inside the root, creating missing ones. */
  private ensureParents(rel: string, entryName: string): void {
    const parts = rel.split('/');
    parts.pop();
    let cur = '';
    for (const part of parts) {
      cur = cur ? `${cur}/${part}` : part;
      if (this.dirs.has(cur)) continue;
      let st: fs.Stats | undefined;
      try { st = fs.lstatSync(this.abs(cur)); } catch { /* missing */ }
      if (!st) {
        fs.mkdirSync(this.abs(cur), 0o755);
        this.fresh.add(cur);
      } else if (st.isSymbolicLink()) {
        throw new HostileLayerError(shown(entryName), `it would be written through the symlink "${shown(cur)}"`);
      } else if (!st.isDirectory()) {
        throw new HostileLayerError(shown(entryName), `its parent "${shown(cur)}" is not a directory`);
      }
      this.dirs.add(cur);
    }
  }

  /** Remove whatever is at `rel` (unless it is a directory and `keepDir`), never following links. */
  private clear(rel: string, keepDir: boolean): boolean {
    const parent = path.posix.dirname(rel);
    const firstTime = !this.written.has(rel);
    this.written.add(rel);
    if (firstTime && this.fresh.has(parent === '.' ? '' : parent)) return false;
    let st: fs.Stats;
    try { st = fs.lstatSync(this.abs(rel)); } catch { return false; }
    if (st.isDirectory() && keepDir) return true;
    if (st.isDirectory()) {
      if (this.opts.layout) this.replayable = false;
      fs.rmSync(this.abs(rel), { recursive: true, force: true });
      for (const set of [this.dirs, this.fresh, this.written, this.whiteouts]) {
        for (const d of set) if (d === rel || d.startsWith(`${rel}/`)) set.delete(d);
      }
      this.written.add(rel);
    } else {
      // A body the layout points at, replaced later in the same layer, can't be replayed from the diff.
      if (this.bodies.has(rel)) this.replayable = false;
      fs.unlinkSync(this.abs(rel));
    }
    return false;
  }

  private chown(target: Buffer | number, headerUid: number, headerGid: number, entryName: string): void {
    const owner = this.opts.copy?.owner;
    if (owner === 'caller') return;
    const [uid, gid] = owner && owner !== 'archive' ? [owner.uid, owner.gid] : [headerUid, headerGid];
    // What this process creates is already owned by 0:0 (root of the user namespace, or real root).
    if (uid === 0 && gid === 0 && this.ownerIsRoot) return;
    try {
      if (typeof target === 'number') fs.fchownSync(target, uid, gid); else fs.lchownSync(target, uid, gid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EINVAL') {
        throw new TspodError('E_ID_RANGE', `layer entry "${shown(entryName)}" is owned by ${uid}:${gid}, outside the ids mapped in your user namespace (0-${mappedMax()})`,
          { hint: `give your user 65536 subordinate ids in /etc/subuid and /etc/subgid (${addSubidsCommand(accountName(hostUid()))}), then stop the tspod pause process (kill $(cut -d" " -f1 ${runtimeDir()}/pause.pid)) so the next tspod maps them` });
      }
      throw e;
    }
  }

  private setXattrs(full: Buffer, header: TarHeader): void {
    if (!header.xattrs) return;
    for (const [name, raw] of header.xattrs) {
      if (OVERLAY_PRIVATE.test(name)) {
        this.warnOnce('xattr:overlay', `the layer sets overlayfs's own attribute ${name} (on ${shown(header.name)}): ignored, as every overlay attribute an image carries`);
        continue;
      }
      // Values are bytes (security.capability is binary). A v3 capability's root uid is the
      // container's: written inside the user namespace, the kernel maps it as it maps owners.
      try {
        lsetxattr(full, name, raw);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        this.warnOnce(`xattr:${name}`, `extended attribute ${name} could not be kept (errno ${e.errno}); the filesystem or the user namespace does not allow it`);
      }
    }
  }

  /** An entry's header: everything but a file's data happens here. True when the body is wanted. */
  begin(header: TarHeader): boolean {
    this.entries++;
    const rel = cleanEntryName(header.name);
    const mode = header.mode;
    const { uid, gid } = header;
    const base = path.posix.basename(rel);

    if (rel === '') {
      // The root directory entry ("./"): only its metadata applies.
      if (header.type === 'directory') { this.chown(this.abs(''), uid, gid, header.name); fs.chmodSync(this.abs(''), mode & 0o7777); }
      return false;
    }
    this.ensureParents(rel, header.name);
    const parent = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);

    if (base === OPAQUE && !this.opts.copy) {
      this.makeOpaque(parent);
      return false;
    }
    if (base.startsWith(WHITEOUT) && !this.opts.copy) {
      const target = path.posix.join(parent, base.slice(WHITEOUT.length));
      if (this.written.has(target) && !this.whiteouts.has(target)) {
        // This layer's own entry stays. A directory of its own still hides the lower one's contents.
        if (this.dirs.has(target)) this.makeOpaque(target);
        return false;
      }
      this.clear(target, false);
      mknodChar(this.abs(target), 0, 0, 0);
      this.whiteouts.add(target);
      return false;
    }

    const full = this.abs(rel);
    switch (header.type) {
      case 'directory': {
        if (!this.clear(rel, true)) { fs.mkdirSync(full, 0o755); this.fresh.add(rel); }
        this.dirs.add(rel);
        // Whited out earlier in this layer and made again: what the lower layers had there stays deleted.
        if (this.whiteouts.delete(rel)) this.makeOpaque(rel);
        this.chown(full, uid, gid, header.name);
        fs.chmodSync(full, mode & 0o7777);
        this.setXattrs(full, header);
        this.dirTimes.push([full, header.mtime]);
        return false;
      }
      case 'file': {
        this.clear(rel, false);
        this.opts.layout?.addFile(rel, header.size);
        this.bodies.add(rel);
        this.whiteouts.delete(rel);
        // 'wx' is O_CREAT|O_EXCL: it never follows a symlink at the final component.
        this.file = { fd: fs.openSync(full, 'wx', 0o600), header, full };
        return true;
      }
      case 'symlink': {
        this.clear(rel, false);
        this.whiteouts.delete(rel);
        fs.symlinkSync(bytes(header.linkname), full);
        this.chown(full, uid, gid, header.name);
        fs.lutimesSync(full, header.mtime, header.mtime);
        return false;
      }
      case 'link': {
        const target = cleanEntryName(header.linkname);
        if (!target) throw new HostileLayerError(shown(header.name), 'a hard link to the layer root');
        this.ensureParents(target, header.name);
        let st: fs.Stats;
        try { st = fs.lstatSync(this.abs(target)); } catch { throw new HostileLayerError(shown(header.name), `hard link to "${shown(target)}", which is not in the layer`); }
        if (st.isDirectory()) throw new HostileLayerError(shown(header.name), 'a hard link to a directory');
        if (target === rel) return false;
        this.clear(rel, false);
        this.whiteouts.delete(rel);
        fs.linkSync(this.abs(target), full);
        return false;
      }
      case 'fifo': {
        this.clear(rel, false);
        this.whiteouts.delete(rel);
        // mkfifo through mknod: S_IFIFO
        mknod(full, 0o010000, mode, 0, 0);
        this.chown(full, uid, gid, header.name);
        return false;
      }
      case 'character-device':
      case 'block-device': {
        // Device nodes can't be created in a user namespace; containers get /dev from the runtime.
        this.warnOnce('device', `device nodes in the layer (such as ${shown(rel)}) were skipped: they can't be created without root`);
        return false;
      }
      default:
        this.warnOnce(`type:${header.flag}`, `layer entries of type ${JSON.stringify(header.flag)} were skipped (${shown(rel)})`);
        return false;
    }
  }

  /** Hide what lower layers hold in this directory (overlay's opaque attribute). */
  private makeOpaque(rel: string): void {
    lsetxattr(this.abs(rel), `${this.opts.overlayXattrPrefix}opaque`, Buffer.from('y'));
  }

  raw(chunk: Buffer): void { this.opts.layout?.addRaw(chunk); }

  /** A piece of the current file's data, written at once: on tmpfs or the page cache a write is a copy. */
  data(chunk: Buffer): void {
    const fd = this.file!.fd;
    for (let off = 0; off < chunk.length;) off += fs.writeSync(fd, chunk, off, chunk.length - off);
    this.size += chunk.length;
  }

  /** The current file is complete: owner, then mode (chown clears setuid bits), times, xattrs. */
  end(): void {
    const { fd, header, full } = this.file!;
    this.file = undefined;
    try {
      this.chown(fd, header.uid, header.gid, header.name);
      fs.fchmodSync(fd, header.mode & 0o7777);
      fs.futimesSync(fd, header.mtime, header.mtime);
    } finally {
      fs.closeSync(fd);
    }
    this.setXattrs(full, header);
  }

  /** Close a file left open by a failed unpack (the caller discards the directory). */
  abandon(): void {
    if (this.file) { fs.closeSync(this.file.fd); this.file = undefined; }
  }

  finish(): void {
    // Directory times last: creating entries inside them changed them.
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const [p, t] = this.dirTimes[i];
      try { fs.utimesSync(p, t, t); } catch { /* removed later in the layer */ }
    }
  }
}

/** Unpack a tar stream into `root` (an empty directory). */
export async function unpackLayer(tar: AsyncIterable<Buffer>, root: string, opts: UnpackOptions): Promise<UnpackResult> {
  const writer = new LayerWriter(root, opts);
  const reader = new TarReader(writer);
  try {
    for await (const chunk of tar) reader.push(chunk);
    reader.end();
  } finally {
    writer.abandon();
  }
  writer.finish();
  return { size: writer.size, entries: writer.entries, replayable: writer.replayable };
}
