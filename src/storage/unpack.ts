// Unpack one uncompressed layer tar into an empty directory, safely: no entry may write outside
// it. Paths are resolved component by component and a symlink is never followed on the way in;
// an existing entry is unlinked before it is replaced, so nothing is ever written through a link.
// OCI whiteouts become overlayfs whiteouts (0/0 character devices, and the opaque xattr).
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { extract as tarExtract, type Header as Headers } from 'tar-stream';
import { HostileLayerError, TspodError } from '../errors.js';
import { lsetxattr, mknod, mknodChar, SysError } from '../sys/index.js';

export interface UnpackOptions {
  /** xattr namespace overlayfs reads: "user.overlay." with the userxattr option (rootless), else "trusted.overlay." */
  overlayXattrPrefix: string;
  onWarning?: (message: string) => void;
}

export interface UnpackResult { size: number; entries: number }

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Clean a tar entry name into a path relative to the layer root; reject any that climbs out. */
export function cleanEntryName(name: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new HostileLayerError(name, 'the path climbs out of the layer with ".."');
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

class LayerWriter {
  /** Directories this unpack created or verified as real directories (never symlinks). */
  private readonly dirs = new Set<string>(['']);
  /**
   * Directories this unpack created empty, and every path it wrote: in a fresh directory nothing
   * can be in the way of an entry the layer has not written yet, so there is nothing to lstat.
   */
  private readonly fresh = new Set<string>(['']);
  private readonly written = new Set<string>();
  private readonly dirTimes: Array<[string, Date]> = [];
  private readonly warned = new Set<string>();
  size = 0;
  entries = 0;

  private readonly ownerIsRoot = process.getuid?.() === 0 && process.getgid?.() === 0;

  constructor(private readonly root: string, private readonly opts: UnpackOptions) {}

  private abs(rel: string): string { return rel ? path.join(this.root, rel) : this.root; }

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
        throw new HostileLayerError(entryName, `it would be written through the symlink "${cur}"`);
      } else if (!st.isDirectory()) {
        throw new HostileLayerError(entryName, `its parent "${cur}" is not a directory`);
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
      fs.rmSync(this.abs(rel), { recursive: true, force: true });
      for (const set of [this.dirs, this.fresh, this.written]) {
        for (const d of set) if (d === rel || d.startsWith(`${rel}/`)) set.delete(d);
      }
      this.written.add(rel);
    } else {
      fs.unlinkSync(this.abs(rel));
    }
    return false;
  }

  private chown(target: string | number, uid: number, gid: number, entryName: string): void {
    // What this process creates is already owned by 0:0 (root of the user namespace, or real root).
    if (uid === 0 && gid === 0 && this.ownerIsRoot) return;
    try {
      if (typeof target === 'number') fs.fchownSync(target, uid, gid); else fs.lchownSync(target, uid, gid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EINVAL') {
        throw new TspodError('E_ID_RANGE', `layer entry "${entryName}" is owned by ${uid}:${gid}, outside the ids mapped in your user namespace (0-${mappedMax()})`,
          { hint: 'give your user 65536 subordinate ids (sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER), then stop the tspod pause process (kill $(cut -d" " -f1 $TSPOD_RUNTIME_DIR/pause.pid)) so the next tspod maps them' });
      }
      throw e;
    }
  }

  private setXattrs(full: string, header: Headers): void {
    const pax = header.pax;
    if (!pax) return;
    for (const [key, value] of Object.entries(pax)) {
      if (!key.startsWith('SCHILY.xattr.')) continue;
      const name = key.slice('SCHILY.xattr.'.length);
      try {
        lsetxattr(full, name, Buffer.from(String(value), 'utf8'));
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        this.warnOnce(`xattr:${name}`, `extended attribute ${name} could not be kept (errno ${e.errno}); the filesystem or the user namespace does not allow it`);
      }
    }
  }

  async entry(header: Headers, body: AsyncIterable<Buffer>): Promise<void> {
    this.entries++;
    const rel = cleanEntryName(header.name);
    const mode = header.mode ?? 0o644;
    const uid = header.uid ?? 0, gid = header.gid ?? 0;
    const base = path.posix.basename(rel);

    if (rel === '') {
      // The root directory entry ("./"): only its metadata applies.
      if (header.type === 'directory') { this.chown(this.root, uid, gid, header.name); fs.chmodSync(this.root, mode & 0o7777); }
      return skip(body);
    }
    this.ensureParents(rel, header.name);
    const parent = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);

    if (base === OPAQUE) {
      lsetxattr(this.abs(parent), `${this.opts.overlayXattrPrefix}opaque`, Buffer.from('y'));
      return skip(body);
    }
    if (base.startsWith(WHITEOUT)) {
      const target = path.posix.join(parent, base.slice(WHITEOUT.length));
      this.clear(target, false);
      mknodChar(this.abs(target), 0, 0, 0);
      return skip(body);
    }

    const full = this.abs(rel);
    switch (header.type) {
      case 'directory': {
        if (!this.clear(rel, true)) { fs.mkdirSync(full, 0o755); this.fresh.add(rel); }
        this.dirs.add(rel);
        this.chown(full, uid, gid, header.name);
        fs.chmodSync(full, mode & 0o7777);
        this.setXattrs(full, header);
        this.dirTimes.push([full, header.mtime ?? new Date(0)]);
        return skip(body);
      }
      case 'file':
      case 'contiguous-file': {
        this.clear(rel, false);
        // 'wx' is O_CREAT|O_EXCL: it never follows a symlink at the final component.
        const fd = fs.openSync(full, 'wx', 0o600);
        try {
          for await (const chunk of body) {
            // Big chunks go to the thread pool so other layers keep unpacking while the disk works.
            if (chunk.length >= ASYNC_WRITE_MIN) await writeAsync(fd, chunk);
            else fs.writeSync(fd, chunk);
            this.size += chunk.length;
          }
          this.chown(fd, uid, gid, header.name);
          fs.fchmodSync(fd, mode & 0o7777); // after chown, which clears setuid bits
          const t = header.mtime ?? new Date(0);
          fs.futimesSync(fd, t, t);
        } finally {
          fs.closeSync(fd);
        }
        this.setXattrs(full, header);
        return;
      }
      case 'symlink': {
        this.clear(rel, false);
        fs.symlinkSync(header.linkname ?? '', full);
        this.chown(full, uid, gid, header.name);
        const t = header.mtime ?? new Date(0);
        fs.lutimesSync(full, t, t);
        return skip(body);
      }
      case 'link': {
        const target = cleanEntryName(header.linkname ?? '');
        if (!target) throw new HostileLayerError(header.name, 'a hard link to the layer root');
        this.ensureParents(target, header.name);
        let st: fs.Stats;
        try { st = fs.lstatSync(this.abs(target)); } catch { throw new HostileLayerError(header.name, `hard link to "${target}", which is not in the layer`); }
        if (st.isDirectory()) throw new HostileLayerError(header.name, 'a hard link to a directory');
        if (target === rel) return skip(body);
        this.clear(rel, false);
        fs.linkSync(this.abs(target), full);
        return skip(body);
      }
      case 'fifo': {
        this.clear(rel, false);
        // mkfifo through mknod: S_IFIFO
        mknod(full, 0o010000, mode, 0, 0);
        this.chown(full, uid, gid, header.name);
        return skip(body);
      }
      case 'character-device':
      case 'block-device': {
        // Device nodes can't be created in a user namespace; containers get /dev from the runtime.
        this.warnOnce('device', `device nodes in the layer (such as ${rel}) were skipped: they can't be created without root`);
        return skip(body);
      }
      default:
        this.warnOnce(`type:${header.type}`, `layer entries of type ${header.type} were skipped (${rel})`);
        return skip(body);
    }
  }

  finish(): void {
    // Directory times last: creating entries inside them changed them.
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const [p, t] = this.dirTimes[i];
      try { fs.utimesSync(p, t, t); } catch { /* removed later in the layer */ }
    }
  }
}

const ASYNC_WRITE_MIN = 32 * 1024;

function writeAsync(fd: number, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (offset: number) => fs.write(fd, chunk, offset, chunk.length - offset, null, (err, written) => {
      if (err) reject(err);
      else if (offset + written < chunk.length) next(offset + written);
      else resolve();
    });
    next(0);
  });
}

/** Let an entry's body (usually empty) flow away; the extractor moves on once it has. */
function skip(body: AsyncIterable<Buffer>): void {
  (body as unknown as Readable).resume();
}

/** Unpack a tar stream into `root` (an empty directory). */
export async function unpackLayer(tar: Readable, root: string, opts: UnpackOptions): Promise<UnpackResult> {
  const extract = tarExtract();
  const writer = new LayerWriter(root, opts);
  tar.on('error', (e) => extract.destroy(e));
  tar.pipe(extract);
  for await (const entry of extract) {
    await writer.entry(entry.header, entry as AsyncIterable<Buffer>);
  }
  writer.finish();
  return { size: writer.size, entries: writer.entries };
}
