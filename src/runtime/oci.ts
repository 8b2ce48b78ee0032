// The OCI runtime driver: find runc or crun, and run a bundle in the foreground.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { RuntimeError } from '../errors.js';
import { findExecutable, processAlive } from '../sys/proc.js';
import { startProcess, drained, type Started } from '../sys/spawn.js';
import { K8sLogWriter } from './logfile.js';
import { runtimeChoice } from '../config.js';

export interface RuntimeInfo { name: string; path: string }

/** cgroup v2 is mounted at /sys/fs/cgroup as cgroup2; v1 (and hybrid) otherwise. */
export function cgroupVersion(): 'v1' | 'v2' {
  try { return fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1'; } catch { return 'v1'; }
}

/**
 * crun 1.8 refuses cgroup v1 hybrid mode, so on v1 runc comes first; on v2 crun (faster) comes first.
 * A choice (`--runtime NAME|PATH`, global or the container's, or containers.conf's) overrides that.
 */
export function findRuntime(choice?: string): RuntimeInfo {
  const chosen = runtimeChoice(choice);
  if (chosen) {
    const p = chosen.path ?? findExecutable(chosen.name);
    if (!p || !fs.existsSync(p)) throw new RuntimeError(`OCI runtime "${choice ?? chosen.name}" not found: install it (apt-get install runc) or pass a full path to --runtime`);
    return { name: chosen.name, path: p };
  }
  const order = cgroupVersion() === 'v2' ? ['crun', 'runc'] : ['runc', 'crun'];
  for (const name of order) {
    const p = findExecutable(name);
    if (p) return { name, path: p };
  }
  throw new RuntimeError('no OCI runtime found (looked for runc and crun): install one, e.g. apt-get install runc');
}

/** --runtime-flag FLAG (global, repeatable): given to the runtime before its command, as `--FLAG`. */
export function runtimeFlags(): string[] {
  const v = process.env.TSPOD_RUNTIME_FLAGS;
  return v ? (JSON.parse(v) as string[]).map((f) => (f.startsWith('-') ? f : `--${f}`)) : [];
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** we forwarded SIGINT, SIGTERM or SIGHUP: somebody asked for the container to end */
  interrupted: boolean;
  /** --timeout ran out and the container was killed */
  timedOut?: boolean;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export interface ForegroundOptions {
  stdin: boolean;
  /** the runtime's own log (JSON), where its errors are */
  logFile: string;
  pidFile: string;
  /** the container's output is copied here too, unless it has a terminal */
  containerLog?: { path: string; maxSize?: number };
  /** which of its streams reach ours (run --attach); both when not given */
  attach?: { stdout: boolean; stderr: boolean };
  /** --preserve-fds N: our fds 3 .. 3+N-1 passed on to the container */
  preserveFds?: number;
  /** --timeout: the container is killed after this many seconds */
  timeoutSec?: number;
}

/**
 * Run a container in the foreground: the runtime keeps our stdin (or its own pty with -t, which
 * it puts in raw mode and resizes on SIGWINCH) and forwards signals to the container. Without a
 * terminal, its output passes through us on its way to our stdout and stderr, and into its log.
 */
export async function runForeground(rt: RuntimeInfo, stateRoot: string, bundle: string, id: string, opts: ForegroundOptions): Promise<RunResult> {
  const keep = opts.preserveFds ?? 0;
  const args = [...runtimeFlags(), '--root', stateRoot, '--log', opts.logFile, '--log-format', 'json', 'run', ...(keep ? ['--preserve-fds', String(keep)] : []), '--bundle', bundle, '--pid-file', opts.pidFile, id];
  const log = opts.containerLog && new K8sLogWriter(opts.containerLog.path, opts.containerLog.maxSize);
  // Its own session, so the terminal's signals reach the container once, through us.
  let child: Started;
  try {
    const out = (attached: boolean) => (log ? 'pipe' : attached ? 'inherit' : 'ignore') as 'pipe' | 'inherit' | 'ignore';
    child = startProcess(rt.path, args, { stdio: [opts.stdin ? 'inherit' : 'ignore', out(opts.attach?.stdout ?? true), out(opts.attach?.stderr ?? true), ...Array<'inherit'>(keep).fill('inherit')], newSession: true });
  } catch (e) {
    throw new RuntimeError(`cannot start ${rt.name}: ${(e as Error).message}`);
  }
  const outputs = log ? [['stdout', child.pipes.get(1)!, process.stdout, opts.attach?.stdout ?? true], ['stderr', child.pipes.get(2)!, process.stderr, opts.attach?.stderr ?? true]] as const : [];
  for (const [name, from, to, attached] of outputs) {
    from.on('data', (d: Buffer) => {
      log!.write(name, d);
      // A slow reader of our output slows the container down, as a pipe would.
      if (attached && !to.write(d)) { from.pause(); to.once('drain', () => from.resume()); }
    });
    // Our reader went away (`| head`): close the pipe, so the container gets its SIGPIPE as before.
    to.on('error', () => from.destroy());
  }
  let interrupted = false;
  const forward = (sig: NodeJS.Signals) => {
    if (sig === 'SIGINT' || sig === 'SIGTERM' || sig === 'SIGHUP') interrupted = true;
    child.kill(sig);
  };
  for (const s of FORWARDED) process.on(s, forward);
  // SIGKILL cannot be forwarded through the runtime: it is asked to kill the container itself.
  let timedOut = false;
  const timer = opts.timeoutSec ? setTimeout(() => { timedOut = true; void runtimeCommand(stateRoot, ['kill', id, 'KILL'], rt); }, opts.timeoutSec * 1000) : undefined;
  try {
    // The last output may still be in the pipes when runc exits.
    const [{ code, signal }] = await Promise.all([child.exited, ...outputs.map(([, from]) => drained(from))]);
    return { exitCode: code, signal, interrupted, timedOut };
  } finally {
    clearTimeout(timer);
    for (const s of FORWARDED) process.off(s, forward);
    log?.close();
  }
}

/** The runtime's own error, if its log has one (the container's exit status is not an error). */
export function runtimeError(logFile: string): string | undefined {
  let text: string;
  try { text = fs.readFileSync(logFile, 'utf8'); } catch { return undefined; }
  let msg: string | undefined;
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if (rec.level === 'error' || rec.level === 'fatal') msg = rec.msg;
    } catch { /* not json */ }
  }
  return msg;
}

/**
 * Remove the runtime's state of a container, killing what is left of it. For a runc container that
 * ended with no process left, that is removing its (empty) cgroup directories and its state
 * directory, which is all `runc delete` would do, without the ~10 ms of starting runc; anything
 * else (a process still there, a cgroup that won't go, another runtime) goes through the runtime.
 */
export function deleteContainer(rt: RuntimeInfo, stateRoot: string, id: string): void {
  const dir = path.join(stateRoot, id);
  if (rt.name === 'runc' && removeEndedState(dir)) return;
  if (!fs.existsSync(dir)) return;
  spawnSync(rt.path, ['--root', stateRoot, 'delete', '--force', id], { stdio: 'ignore' });
}

function removeEndedState(dir: string): boolean {
  let state: { init_process_pid?: number; cgroup_paths?: Record<string, string> };
  try { state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')); } catch { return !fs.existsSync(dir); }
  if (state.init_process_pid && processAlive(state.init_process_pid)) return false;
  for (const cg of new Set(Object.values(state.cgroup_paths ?? {}))) {
    try { fs.rmdirSync(cg); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false; }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}

export function runtimeVersion(rt: RuntimeInfo): string {
  const r = spawnSync(rt.path, ['--version'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n')[0] ?? '';
}

/** One runtime subcommand (state, start, pause...) against tspod's state root, run to completion. */
export async function runtimeCommand(stateRoot: string, args: string[], rt: RuntimeInfo = findRuntime()): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = startProcess(rt.path, [...runtimeFlags(), '--root', stateRoot, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const [stdout, stderr] = [1, 2].map((fd) => {
    const pipe = child.pipes.get(fd)!;
    const chunks: Buffer[] = [];
    pipe.on('data', (d: Buffer) => chunks.push(d));
    return drained(pipe).then(() => Buffer.concat(chunks).toString('utf8'));
  });
  const [{ code }, out, err] = await Promise.all([child.exited, stdout, stderr]);
  return { status: code, stdout: out, stderr: err };
}
