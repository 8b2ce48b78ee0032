// The only module that loads koffi: thin typed wrappers over the libc calls Node lacks.
// Loaded on first use so that commands which never need them never pay for koffi.
import { createRequire } from 'node:module';

type Fn = (...args: unknown[]) => number;
interface Libc { mknod: Fn; lsetxattr: Fn; flock: Fn; errno: () => number }
let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi');
  const lib = koffi.load('libc.so.6');
  libc = {
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    flock: lib.func('int flock(int fd, int operation)'),
    errno: () => koffi.errno() as number,
  };
  return libc;
}

export class SysError extends Error {
  constructor(readonly call: string, readonly errno: number, readonly path: string) {
    super(`${call}(${path}) failed: errno ${errno}`);
  }
}

const S_IFCHR = 0o020000;
const makedev = (major: number, minor: number) => BigInt(((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12));

export function mknodChar(path: string, mode: number, major: number, minor: number): void {
  const l = load();
  if (l.mknod(path, S_IFCHR | (mode & 0o7777), makedev(major, minor)) !== 0) throw new SysError('mknod', l.errno(), path);
}

export function mknod(path: string, typeBits: number, mode: number, major: number, minor: number): void {
  const l = load();
  if (l.mknod(path, typeBits | (mode & 0o7777), makedev(major, minor)) !== 0) throw new SysError('mknod', l.errno(), path);
}

export function lsetxattr(path: string, name: string, value: Buffer): void {
  const l = load();
  if (l.lsetxattr(path, name, value, value.length, 0) !== 0) throw new SysError('lsetxattr', l.errno(), path);
}

export const LOCK_EX = 2;
export const LOCK_UN = 8;
const EINTR = 4;

/** flock(2), blocking; retried when a signal interrupts the wait. */
export function flock(fd: number, operation: number): void {
  const l = load();
  for (;;) {
    if (l.flock(fd, operation) === 0) return;
    const errno = l.errno();
    if (errno !== EINTR) throw new SysError('flock', errno, `fd ${fd}`);
  }
}

export const ERRNO = { EPERM: 1, ENOENT: 2, EEXIST: 17, EINVAL: 22, ENOTSUP: 95, ERANGE: 34 } as const;
