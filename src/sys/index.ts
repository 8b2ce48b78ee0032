// The only module that loads native code: thin typed wrappers over the libc calls Node lacks, from
// tspod's own small addon (src/sys/native/tspod_sys.c, built into dist/native). Loaded on first use.
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

/** Each call returns what libc returned, or -errno. */
interface Native {
  flock(fd: number, op: number): number;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string | Buffer, flags: number): number;
  mknod(path: string | Buffer, mode: number, major: number, minor: number): number;
  lsetxattr(path: string | Buffer, name: string, value: Buffer): number;
  lgetxattr(path: string | Buffer, name: string): Buffer | number;
  llistxattr(path: string | Buffer): Buffer | number;
  connectSeqpacket(path: string): number;
  notify(socket: string, message: string): number;
  shutdown(fd: number, how: number): number;
  bindNewNetns(target: string): number;
  x32Syscalls(): boolean;
  bindNewUsernsNetns(userTarget: string, netTarget: string, uidMap: string, gidMap: string): number;
  spawn(file: string, argv: string[], envp: string[], fds: number[], newSession: boolean): number;
  pipe(): [number, number] | number;
  waitExit(pid: number): number;
  windowSize(fd: number): number;
  makeRaw(fd: number): Buffer | number;
  restoreTerminal(fd: number, saved: Buffer): number;
}
let native: Native | undefined;

/** A file tspod built into dist/, found from this module (bundled in dist/bundle, or built by tsc in dist/src/sys). */
export function distFile(name: string): string {
  let dir = path.dirname(new URL(import.meta.url).pathname);
  while (path.basename(dir) !== 'dist' && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, name);
}

function load(): Native {
  if (native) return native;
  native = createRequire(import.meta.url)(distFile('native/tspod_sys.node')) as Native;
  return native;
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

const pathText = (p: string | Buffer) => typeof p === 'string' ? p : p.toString('utf8');

/** A native call's result: its value, or a SysError for -errno. */
function check(call: string, rc: number, p: string | Buffer): number {
  if (rc < 0) throw new SysError(call, -rc, pathText(p));
  return rc;
}

/** mount(2), for an overlay root; relative paths in data resolve against the process's cwd. */
export function mount(source: string, target: string, fstype: string, data: string, flags = 0): void {
  check('mount', load().mount(source, target, fstype, flags, data), target);
}

/** mount(2) flags */
export const MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8;

const MNT_DETACH = 2;

/** Lazy unmount; a target that is not mounted (EINVAL) or gone (ENOENT) is fine. */
export function unmountLazy(target: string): void {
  const rc = load().umount2(target, MNT_DETACH);
  if (rc < 0 && -rc !== ERRNO.EINVAL && -rc !== ERRNO.ENOENT) throw new SysError('umount2', -rc, target);
}

const S_IFCHR = 0o020000;

export function mknodChar(p: string | Buffer, mode: number, major: number, minor: number): void {
  check('mknod', load().mknod(p, S_IFCHR | (mode & 0o7777), major, minor), p);
}

export function mknod(p: string | Buffer, typeBits: number, mode: number, major: number, minor: number): void {
  check('mknod', load().mknod(p, typeBits | (mode & 0o7777), major, minor), p);
}

export function lsetxattr(p: string | Buffer, name: string, value: Buffer): void {
  check('lsetxattr', load().lsetxattr(p, name, value), p);
}

/** An xattr's value, or undefined when the file has none of that name. */
export function lgetxattr(p: string | Buffer, name: string): Buffer | undefined {
  const r = load().lgetxattr(p, name);
  if (typeof r !== 'number') return r;
  if (-r === ERRNO.ENODATA) return undefined;
  throw new SysError('lgetxattr', -r, pathText(p));
}

/** The names of a file's xattrs (none where the file system keeps none). */
export function llistxattr(p: string | Buffer): string[] {
  const r = load().llistxattr(p);
  if (typeof r === 'number') {
    if (-r === ERRNO.ENOTSUP) return [];
    throw new SysError('llistxattr', -r, pathText(p));
  }
  return r.toString('latin1').split('\0').filter(Boolean);
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
const EWOULDBLOCK = 11;

/** flock(2) (retried when a signal interrupts the wait). With LOCK_NB: false when someone else holds it. */
export function flock(fd: number, operation: number): boolean {
  const rc = load().flock(fd, operation);
  if (rc === 0) return true;
  if (-rc === EWOULDBLOCK && operation & LOCK_NB) return false;
  throw new SysError('flock', -rc, `fd ${fd}`);
}

/**
 * Connect to a unix SOCK_SEQPACKET socket (conmon's attach socket), which Node's net module cannot
 * open. The fd is blocking: read it with fs.read (the thread pool), write it with fs.writeSync.
 */
export function connectSeqpacket(p: string): number {
  return check('connect', load().connectSeqpacket(p), p);
}

/** shutdown(2): 'both' also wakes a read blocked on the socket in another thread. */
export function shutdownSocket(fd: number, how: 'write' | 'both' = 'both'): void {
  load().shutdown(fd, how === 'write' ? 1 : 2);
}

/** A new network namespace, bind-mounted on `target` (an existing file); no process is started. */
export function bindNewNetns(target: string): void {
  check('unshare(CLONE_NEWNET) and bind', load().bindNewNetns(target), target);
}

/** A user namespace with these maps ("INSIDE OUTSIDE COUNT" lines) and a network namespace it owns, bound to two files. */
export function bindNewUsernsNetns(userTarget: string, netTarget: string, uidMap: string, gidMap: string): void {
  check('a user and network namespace', load().bindNewUsernsNetns(userTarget, netTarget, uidMap, gidMap), netTarget);
}

/** posix_spawn(3): the child's fd i is fds[i] (-1 for /dev/null). Returns the pid. */
export function posixSpawn(file: string, argv: string[], envp: string[], fds: number[], newSession: boolean): number {
  return check('posix_spawn', load().spawn(file, argv, envp, fds, newSession), file);
}

/** pipe2(O_CLOEXEC): [read end, write end]. */
export function pipe(): [number, number] {
  const r = load().pipe();
  if (typeof r === 'number') throw new SysError('pipe2', -r, '');
  return r;
}

/**
 * A thread waits for the child `pid`: the returned pipe's read end yields, once it has ended, two
 * native-endian int32s, its exit code (or -1) and the signal that killed it (or 0).
 */
export function waitExit(pid: number): number {
  return check('waitpid thread', load().waitExit(pid), `pid ${pid}`);
}

export const ERRNO = { EPERM: 1, ENOENT: 2, EEXIST: 17, EINVAL: 22, ENOTSUP: 95, ERANGE: 34, ENAMETOOLONG: 36, ENODATA: 61, ECONNREFUSED: 111 } as const;

/** The size of the terminal on `fd`, or undefined when it is none (or has no size yet). */
export function windowSize(fd: number): { rows: number; columns: number } | undefined {
  const r = load().windowSize(fd);
  if (r <= 0) return undefined;
  const rows = Math.floor(r / 65536), columns = r % 65536;
  return rows && columns ? { rows, columns } : undefined;
}

/** The size of our terminal: the first of stdin, stdout and stderr that is one. */
export function callerTerminalSize(): { rows: number; columns: number } | undefined {
  for (const fd of [0, 1, 2]) {
    const size = windowSize(fd);
    if (size) return size;
  }
  return undefined;
}

/**
 * Put the terminal on `fd` in raw mode, as cfmakeraw does (no output processing either: the
 * container's pty already turns \n into \r\n). Returns what gives its settings back, or undefined
 * when `fd` is not a terminal.
 */
export function makeRawTerminal(fd: number): (() => void) | undefined {
  const saved = load().makeRaw(fd);
  if (typeof saved === 'number') return undefined;
  return () => { load().restoreTerminal(fd, saved); };
}

/** Whether the kernel runs x32 system calls (x86-64 only). */
export function x32Syscalls(): boolean {
  return load().x32Syscalls();
}

/** sd_notify: a message ("READY=1\nMAINPID=N") to systemd's NOTIFY_SOCKET. */
export function sdNotify(socket: string, message: string): void {
  check('sd_notify', load().notify(socket, message), socket);
}
