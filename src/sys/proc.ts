// Processes and executables: the small checks several modules share.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Whether the process runs. A killed process whose parent is gone stays a zombie where PID 1 does
 * not reap (these machines, many CI containers), and kill(pid, 0) still finds it: its state in
 * /proc/PID/stat (Z, or X) says it is dead.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let stat: string;
  try { stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch { return false; }
  // "PID (COMM) STATE ...": COMM may itself hold spaces and parentheses, so read after the last ')'.
  const state = stat[stat.lastIndexOf(')') + 2];
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** A program on PATH or in the usual system dirs (a `su` session's PATH often lacks sbin); a path is taken as given. */
export function findExecutable(name: string): string | null {
  if (name.includes('/')) return fs.existsSync(name) ? name : null;
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SYSTEM_DIRS]) {
    const p = path.join(dir, name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

/** /proc/PID/stat's fields after the command name: [state, ppid, ...]. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch { return undefined; }
}

const PF_EXITING = 0x4;

/**
 * Whether the process runs and is not on its way out: one in exit (PF_EXITING in its flags, field 9
 * of /proc/PID/stat) writes nothing more, though its teardown (a pid namespace's last process, its
 * mounts) can take milliseconds before it is a zombie.
 */
export function processRunning(pid: number): boolean {
  const f = pid > 0 ? statFields(pid) : undefined;
  return !!f && !'ZXx'.includes(f[0]) && (Number(f[6]) & PF_EXITING) === 0;
}

const pids = () => fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);

/** A process and all its descendants, parents first. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of pids()) {
    const f = statFields(pid);
    if (!f) continue;
    const ppid = Number(f[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const visit = (pid: number) => { out.push(pid); for (const c of children.get(pid) ?? []) visit(c); };
  visit(root);
  return out;
}

/** Whether one of the process's arguments is exactly `arg`: that a pid read from a file is still the process it was. */
export function hasArgument(pid: number, arg: string): boolean {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(arg); } catch { return false; }
}

/**
 * SIGKILL a helper if it is still the one started with `arg` among its arguments, and wait (up to
 * a second) until it is gone: its sockets close as it dies, so its ports are free when we return.
 */
export function killHelper(pid: number, arg: string): void {
  if (!pid || !processAlive(pid) || !hasArgument(pid, arg)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  const killed = { pid, started: startTime(pid) };
  if (deferred) { deferred.push(killed); return; }
  waitGone([killed]);
}

/** When the process started (clock ticks since boot, /proc/PID/stat field 22): a pid used again by another process has another. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch { return undefined; }
}

/** Block this thread for `ms`: for the few waits that happen inside synchronous code. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Wait (up to a second) until each killed process is gone: dead, a zombie, or its pid another process's. */
function waitGone(killed: Array<{ pid: number; started?: string }>): void {
  const alive = (k: { pid: number; started?: string }) => processAlive(k.pid) && startTime(k.pid) === k.started;
  for (let i = 0; i < 500 && killed.some(alive); i++) sleepSync(2);
}

/** Helpers killed while deaths are deferred, waited for together. */
let deferred: Array<{ pid: number; started?: string }> | undefined;

/**
 * From now on killHelper does not wait: a build, whose RUN steps end one after another, lets a
 * step's network helper die (its tap device goes, 15-40 ms in the kernel) while the next work
 * runs, and waits for all of them before it returns. Returns that wait.
 */
export function deferHelperDeaths(): () => void {
  deferred = [];
  return () => { const pids = deferred ?? []; deferred = undefined; waitGone(pids); };
}
