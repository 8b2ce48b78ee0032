// exec: a new process in a running container, through the runtime's exec, so it joins the
// container's namespaces and takes its environment, user and working directory unless told otherwise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TspodError, RuntimeError, EXIT_TSPOD } from '../errors.js';
import type { Store, ContainerRecord } from '../storage/store.js';
import { requireRunning, runcStateRoot } from './containers.js';
import { mergeEnv, parseEnv, checkExecutable } from './process.js';
import { startProcess, drained, type Started } from '../sys/spawn.js';
import { ALL_CAPS } from '../runtime/spec.js';

const signals = os.constants.signals as Record<string, number>;

const shellQuote = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);

export interface ExecOptions {
  command: string[];
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
  privileged?: boolean;
  /** the process's stdout and stderr are collected here instead of passing through (health checks) */
  capture?: { stdout: string; stderr: string };
  /** killed after this many ms (health checks' --health-timeout) */
  timeoutMs?: number;
  /** the process's streams go to and from these rather than ours (the API service's clients) */
  streams?: { stdin?: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
  /** the process's pid, once it runs */
  onStarted?: (pid: number) => void;
}

/** Run a command in a running container through the runtime's exec: its namespaces, env, user, cwd. */
export async function execInContainer(store: Store, rec: ContainerRecord, o: ExecOptions): Promise<number> {
  requireRunning(store, rec, 'start it first; see `tspod ps -a`');
  if (o.command.length === 0) throw new TspodError('E_USAGE', 'exec needs a command', { hint: `tspod exec ${rec.name} sh` });
  const [{ findRuntime, runtimeFlags }, { resolveUser }] = await Promise.all([import('../runtime/oci.js'), import('../runtime/user.js')]);
  const dir = store.containerDir(rec.id);
  const rootfs = path.join(dir, 'merged');
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { process: { env: string[]; cwd: string; user: { uid: number; gid: number } } };
  const user = o.user ? resolveUser(rootfs, o.user) : { uid: spec.process.user.uid, gid: spec.process.user.gid, additionalGids: [] as number[] };
  const env = mergeEnv(spec.process.env, parseEnv(o.env ?? []));
  const cwd = o.workdir ?? spec.process.cwd;
  await checkExecutable(rootfs, o.command[0], env, cwd);
  const rt = findRuntime(rec.config?.runtime);
  const args = [...runtimeFlags(), '--root', runcStateRoot(), 'exec', '--cwd', cwd, '--user', `${user.uid}:${user.gid}`,
    ...user.additionalGids.flatMap((g) => ['--additional-gids', String(g)]),
    ...env.flatMap((e) => ['--env', e]), ...(o.tty ? ['--tty'] : []), ...(o.detach ? ['--detach'] : []),
    ...(o.privileged ? ALL_CAPS.flatMap((c) => ['--cap', c]) : []), rec.id, ...o.command];
  let child: Started;
  try {
    // Detached, the process must not hold our output open: a caller reading it to its end would wait for the process.
    // A terminal for a caller that has none (the API's exec -t): runc's foreground pty needs one of
    // ours to copy to, so script(1) gives it one and copies that to the pipes.
    const viaScript = !!(o.streams && o.tty);
    const [file, argv] = viaScript ? ['script', ['-q', '-e', '-c', [rt.path, ...args].map(shellQuote).join(' '), '/dev/null']] : [rt.path, args];
    child = startProcess(file, argv, { stdio: o.detach ? ['ignore', 'ignore', 'ignore'] : o.capture ? ['ignore', 'pipe', 'pipe'] : o.streams ? [o.streams.stdin || viaScript ? 'pipe' : 'ignore', 'pipe', 'pipe'] : [o.interactive || o.tty ? 'inherit' : 'ignore', 'inherit', 'inherit'] });
  } catch (e) {
    throw new RuntimeError(`cannot start ${rt.name} exec: ${(e as Error).message}`);
  }
  o.onStarted?.(child.pid);
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  const sigs: NodeJS.Signals[] = o.streams ? [] : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGWINCH'];
  const streams = o.streams;
  if (streams) {
    child.pipes.get(1)!.on('data', (d: Buffer) => streams.stdout.write(d));
    child.pipes.get(2)!.on('data', (d: Buffer) => streams.stderr.write(d));
    const toChild = child.pipes.get(0);
    if (streams.stdin && toChild) {
      toChild.on('error', () => { /* the process stopped reading */ });
      streams.stdin.on('data', (d: Buffer) => toChild.write(d));
      streams.stdin.on('end', () => toChild.end());
    }
  }
  for (const sg of sigs) process.on(sg, forward);
  const capture = o.capture;
  if (capture) {
    child.pipes.get(1)!.on('data', (d: Buffer) => { capture.stdout += d.toString('utf8'); });
    child.pipes.get(2)!.on('data', (d: Buffer) => { capture.stderr += d.toString('utf8'); });
  }
  const timer = o.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), o.timeoutMs) : undefined;
  try {
    const { code, signal } = await child.exited;
    if (capture || streams) await Promise.all([1, 2].map((fd) => drained(child.pipes.get(fd)!)));
    child.pipes.get(0)?.destroy();
    return signal ? 128 + (signals[signal] ?? 0) : code ?? EXIT_TSPOD;
  } finally {
    if (timer) clearTimeout(timer);
    for (const sg of sigs) process.off(sg, forward);
  }
}

