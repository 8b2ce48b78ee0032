// The only module that loads koffi: thin typed wrappers over the libc calls Node lacks.
// Loaded on first use so that commands which never need them never pay for koffi.
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';

type Fn = (...args: unknown[]) => number;
interface Libc { mknod: Fn; lsetxattr: Fn; lgetxattr: Fn; flock: Fn; socket: Fn; connect: Fn; shutdown: Fn; mount: Fn; umount2: Fn; errno: () => number }
let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi');
  const lib = koffi.load('libc.so.6');
  libc = {
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('long lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
    flock: lib.func('int flock(int fd, int operation)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    connect: lib.func('int connect(int fd, const void *addr, uint32_t len)'),
    shutdown: lib.func('int shutdown(int fd, int how)'),
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    errno: () => koffi.errno() as number,
  };
  return libc;
}

export class SysError extends Error {
  constructor(readonly call: string, readonly errno: number, readonly path: string) {
    super(`${call}(${path}) failed: ${errnoName(errno)}`);
  }
}

/** EINVAL for 22: the name users can look up. */
export function errnoName(errno: number): string {
  const hit = Object.entries(os.constants.errno).find(([, n]) => n === errno);
  return hit ? hit[0] : `errno ${errno}`;
}

/** mount(2), for an overlay root; relative paths in data resolve against the process's cwd. */
export function mount(source: string, target: string, fstype: string, data: string): void {
  const l = load();
  if (l.mount(source, target, fstype, 0, data) !== 0) throw new SysError('mount', l.errno(), target);
}

const MNT_DETACH = 2;
const EINVAL = 22;

/** Lazy unmount; a target that is not mounted (EINVAL) or gone (ENOENT) is fine. */
export function unmountLazy(target: string): void {
  const l = load();
  if (l.umount2(target, MNT_DETACH) === 0) return;
  const errno = l.errno();
  if (errno !== EINVAL && errno !== ERRNO.ENOENT) throw new SysError('umount2', errno, target);
}

const S_IFCHR = 0o020000;
const makedev = (major: number, minor: number) => BigInt(((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12));

export function mknodChar(path: string | Buffer, mode: number, major: number, minor: number): void {
  const l = load();
  if (l.mknod(cpath(path), S_IFCHR | (mode & 0o7777), makedev(major, minor)) !== 0) throw new SysError('mknod', l.errno(), pathText(path));
}

export function mknod(path: string | Buffer, typeBits: number, mode: number, major: number, minor: number): void {
  const l = load();
  if (l.mknod(cpath(path), typeBits | (mode & 0o7777), makedev(major, minor)) !== 0) throw new SysError('mknod', l.errno(), pathText(path));
}

/** A path for a `const char *`: a Buffer (a name that is not UTF-8) gets its terminating NUL. */
const cpath = (p: string | Buffer) => typeof p === 'string' ? p : Buffer.concat([p, Buffer.from([0])]);
const pathText = (p: string | Buffer) => typeof p === 'string' ? p : p.toString('utf8');

export function lsetxattr(path: string | Buffer, name: string, value: Buffer): void {
  const l = load();
  if (l.lsetxattr(cpath(path), name, value, value.length, 0) !== 0) throw new SysError('lsetxattr', l.errno(), pathText(path));
}

/** An xattr's value, or undefined when the file has none of that name. */
export function lgetxattr(path: string | Buffer, name: string): Buffer | undefined {
  const l = load();
  const size = l.lgetxattr(cpath(path), name, null, 0);
  if (size < 0) {
    const errno = l.errno();
    if (errno === ERRNO.ENODATA) return undefined;
    throw new SysError('lgetxattr', errno, pathText(path));
  }
  const buf = Buffer.alloc(size);
  if (l.lgetxattr(cpath(path), name, buf, size) < 0) throw new SysError('lgetxattr', l.errno(), pathText(path));
  return buf;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
const EWOULDBLOCK = 11;
const EINTR = 4;

/** flock(2), retried when a signal interrupts the wait. With LOCK_NB: false when someone else holds it. */
export function flock(fd: number, operation: number): boolean {
  const l = load();
  for (;;) {
    if (l.flock(fd, operation) === 0) return true;
    const errno = l.errno();
    if (errno === EWOULDBLOCK && operation & LOCK_NB) return false;
    if (errno !== EINTR) throw new SysError('flock', errno, `fd ${fd}`);
  }
}

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;

/**
 * Connect to a unix SOCK_SEQPACKET socket (conmon's attach socket), which Node's net module cannot
 * open. The fd is blocking: read it with fs.read (the thread pool), write it with fs.writeSync.
 */
export function connectSeqpacket(path: string): number {
  const l = load();
  const fd = l.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SysError('socket', l.errno(), path);
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  if (Buffer.byteLength(path) > 107) throw new SysError('connect', ERRNO.ENAMETOOLONG, path);
  addr.write(path, 2);
  if (l.connect(fd, addr, 2 + Buffer.byteLength(path) + 1) !== 0) {
    const errno = l.errno();
    fs.closeSync(fd);
    throw new SysError('connect', errno, path);
  }
  return fd;
}

/** shutdown(2): 'both' also wakes a read blocked on the socket in another thread. */
export function shutdownSocket(fd: number, how: 'write' | 'both' = 'both'): void {
  load().shutdown(fd, how === 'write' ? 1 : 2);
}

export const ERRNO = { EPERM: 1, ENOENT: 2, EEXIST: 17, EINVAL: 22, ENOTSUP: 95, ERANGE: 34, ENAMETOOLONG: 36, ENODATA: 61, ECONNREFUSED: 111 } as const;
