// Detached containers are watched by conmon, as with Podman: it creates the container through the
// runtime, outlives tspod, writes the logs (k8s-file format) and the exit code, and runs
// `tspod container cleanup ID` when the container ends. Its sync pipe reports the container's pid.
import { startProcess } from '../sys/spawn.js';
import { RuntimeError } from '../errors.js';
import { findExecutable } from '../sys/proc.js';
import { runtimeFlags, type RuntimeInfo } from './oci.js';

export interface ConmonOptions {
  runtime: RuntimeInfo;
  stateRoot: string;
  bundle: string;
  id: string;
  name: string;
  pidFile: string;
  conmonPidFile: string;
  exitDir: string;
  /** the k8s-file log; none: no log (--log-driver none) */
  logPath?: string;
  logSizeMax?: number;
  /** a pty for the container (conmon receives it through the runtime's console socket) */
  terminal?: boolean;
  /** keep the container's stdin open for `tspod attach` */
  stdin?: boolean;
  /** with stdin: it closes when the first attached client's input ends, rather than staying open for the next */
  stdinOnce?: boolean;
  /** --timeout: conmon kills the container after this many seconds */
  timeoutSec?: number;
  /** the command conmon runs when the container exits */
  exitCommand: string[];
}

export async function startConmon(o: ConmonOptions): Promise<number> {
  const conmon = findExecutable('conmon');
  if (!conmon) throw new RuntimeError('conmon not found: it watches detached containers', { hint: 'install it: sudo apt-get install conmon' });
  const args = [
    '--api-version', '1', '-c', o.id, '-u', o.id, '-r', o.runtime.path, '-b', o.bundle, '-p', o.pidFile, '-n', o.name,
    '--exit-dir', o.exitDir, '--full-attach', '--socket-dir-path', o.bundle, '-l', o.logPath ? `k8s-file:${o.logPath}` : 'none:', '--log-level', 'error',
    ...runtimeFlags().flatMap((f) => ['--runtime-arg', f]), '--runtime-arg', '--root', '--runtime-arg', o.stateRoot, '--conmon-pidfile', o.conmonPidFile,
    ...(o.logSizeMax ? ['--log-size-max', String(o.logSizeMax)] : []), ...(o.timeoutSec ? ['--timeout', String(o.timeoutSec)] : []),
    ...(o.terminal ? ['--terminal'] : []), ...(o.stdin ? ['--stdin', ...(o.stdinOnce ? [] : ['--leave-stdin-open'])] : []),
    '--exit-command', o.exitCommand[0], ...o.exitCommand.slice(1).flatMap((a) => ['--exit-command-arg', a]),
  ];
  // conmon forks its monitor and exits; the monitor keeps these pipes open for the container's
  // lifetime, so they are let go of once it has reported, or this process (and whoever waits on our
  // stdout) would wait for the container to end.
  const child = startProcess(conmon, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { ...process.env, _OCI_SYNCPIPE: '3' }, newSession: true, wait: false });
  const stderrPipe = child.pipes.get(2)!, sync = child.pipes.get(3)!;
  let text = '', stderr = '';
  stderrPipe.on('data', (d: Buffer) => { stderr += d; });
  const result = await new Promise<{ data: number; message?: string }>((resolve, reject) => {
    sync.on('data', (d: Buffer) => {
      text += d;
      try { resolve(JSON.parse(text)); } catch { /* more to come */ }
    });
    sync.on('end', () => reject(new RuntimeError(`conmon ended without reporting the container: ${stderr.trim() || text.trim()}`)));
  }).finally(() => { stderrPipe.destroy(); sync.destroy(); });
  if (result.data < 0) {
    const msg = (result.message ?? '').split('\n').filter((l) => /level=error/.test(l)).map((l) => /msg="((?:[^"\\]|\\.)*)"/.exec(l)?.[1] ?? l).pop() ?? result.message ?? 'unknown error';
    throw new RuntimeError(`${o.runtime.name}: ${msg.replace(/\\"/g, '"')}`, { hint: 'see `tspod --log-level debug run -d ...`' });
  }
  return result.data;
}
