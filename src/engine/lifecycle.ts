// The state changes and views of an existing container: stop, kill, restart, wait, rm, rename, logs,
// inspect, top, pause. Every record change happens under the container's own lock.
import fs from 'node:fs';
import { treeBytes } from '../storage/usage.js';
import os from 'node:os';
import path from 'node:path';
import { TspodError, RuntimeError } from '../errors.js';
import type { Store, ContainerRecord } from '../storage/store.js';
import { processAlive } from '../sys/proc.js';
import { mark } from '../trace.js';
import { current, requireRunning, updateContainer, withContainer, runcStateRoot, sleep, containerGone, containerPid, listContainers, containerCmd } from './containers.js';
import { validateName } from './create.js';
import { volumeDataDir } from './volumes.js';
import { humanSizeWithPrecision } from '../units.js';
import { inspectPorts } from './ports.js';
import { userNetworkNames } from '../net/mode.js';
import { inspectConfinement } from './confine.js';
import { readHealth, inspectHealthConfig, type HealthState } from './health.js';
import { isRootless } from '../paths.js';

export interface RemoveContainerOptions {
  force?: boolean;
  /** also its anonymous volumes (rm -v) */
  volumes?: boolean;
  /** with force: seconds between the stop signal and SIGKILL (0: SIGKILL at once, the default) */
  timeoutSec?: number;
  /** pod rm: a pod's infra container may go too */
  podRemoval?: boolean;
}

/** The containers that join `id`'s network namespace (--network container:ID). */
export function dependentsOf(store: Store, id: string): ContainerRecord[] {
  return store.listContainers().filter((c) => c.config?.network === `container:${id}`);
}

/**
 * rm of a container others depend on: refused, as Podman, unless `depend` (rm --depend), which
 * removes the dependents first, deepest first. `onRemoved` hears of each one removed.
 */
export async function removeWithDependents(store: Store, rec: ContainerRecord, opts: RemoveContainerOptions & { depend?: boolean; onRemoved?: (id: string) => void }): Promise<void> {
  // rm --depend takes a pod's infra, and the pod, along with the containers joining it.
  const pod = opts.podRemoval || opts.depend || !rec.pod ? undefined : (await import('./pods.js')).infraOf(store, rec);
  if (pod) throw infraError(rec, pod);
  if (!opts.podRemoval) await refuseService(store, rec);
  const dependents = dependentsOf(store, rec.id);
  if (dependents.length && !opts.depend) {
    throw new TspodError('E_DEPENDENT', `container ${rec.id} has dependent containers which must be removed before it: ${dependents.map((d) => d.id).join(', ')}`, { hint: 'remove them first, or use rm --depend' });
  }
  for (const d of dependents) await removeWithDependents(store, d, { ...opts, force: opts.force || opts.depend });
  // Checked above: removeContainer need not look again.
  await removeContainer(store, rec, { ...opts, podRemoval: true });
  opts.onRemoved?.(rec.id);
}

/** A pod's infra holds its members' namespaces: it goes with the pod. */
const infraError = (rec: ContainerRecord, pod: { id: string; name: string }) =>
  new TspodError('E_INFRA', `container ${rec.id} is the infra container of pod ${pod.id} and cannot be removed without removing the pod`, { hint: `tspod pod rm ${pod.name}` });

/** A service container stands for its pods: it goes with them. */
async function refuseService(store: Store, rec: ContainerRecord): Promise<void> {
  const served = rec.isService ? (await import('./pods.js')).podsOfService(store, rec.id) : [];
  if (served.length) throw new TspodError('E_INFRA', `container ${rec.id} is the service container of pod(s) ${served.map((p) => p.id).join(', ')} and cannot be removed without removing the pod(s)`, { hint: `tspod pod rm ${served[0].name}` });
}

const isUp = (rec: ContainerRecord | undefined) => rec?.state === 'running' || rec?.state === 'restarting';

const signalNumbers = os.constants.signals as Record<string, number>;

/** SIGTERM, TERM, 15 -> 15; undefined if it is no signal. */
export function signalNumber(signal: string): number | undefined {
  if (/^\d+$/.test(signal)) return Number(signal) > 0 && Number(signal) < 65 ? Number(signal) : undefined;
  const name = signal.toUpperCase().replace(/^SIG/, '');
  // Real-time signals by their offset, as systemd's stop signal RTMIN+3 (Linux: RTMIN 34, RTMAX 64).
  const rt = /^RT(MIN|MAX)([+-]\d+)?$/.exec(name);
  if (rt) { const n = (rt[1] === 'MIN' ? 34 : 64) + Number(rt[2] ?? 0); return n >= 34 && n <= 64 ? n : undefined; }
  return signalNumbers[`SIG${name}`];
}

function signalName(n: number): string {
  return Object.entries(signalNumbers).find(([, v]) => v === n)?.[0] ?? String(n);
}

/** A signal as Podman parses one (docker's ParseSignal): a number 1-64, or a name with or without SIG, a leading "-" dropped. */
export function parseSignal(raw: string): number {
  const s = raw.startsWith('-') ? raw.slice(1) : raw;
  const n = s ? signalNumber(s) : undefined;
  if (n !== undefined) return n;
  if (/^-?\d+$/.test(s) && Number(s) !== 0) throw new TspodError('E_USAGE', 'valid signals are 1 through 64');
  throw new TspodError('E_USAGE', `invalid signal: ${s}`);
}

/**
 * Signal the container's init directly (its pid is in userdata/pidfile, written by the runtime):
 * what `runc kill` would do, without starting runc. False if it is already gone.
 */
function signalContainer(store: Store, rec: ContainerRecord, signal: number): boolean {
  let pid: number;
  try { pid = Number(fs.readFileSync(path.join(store.containerDir(rec.id), 'userdata/pidfile'), 'utf8')); } catch { return false; }
  if (!pid || current(store, rec.id)?.state !== 'running') return false;
  try { process.kill(pid, signal); return true; } catch { return false; }
}

/** Wait until the process watching the container (tspod or conmon) has recorded its end. */
async function waitForMonitor(rec: ContainerRecord, ms: number): Promise<void> {
  for (let i = 0; i < ms / 50 && rec.monitorPid && processAlive(rec.monitorPid); i++) await sleep(50);
}

const stopSignalOf = (rec: ContainerRecord) => signalNumber(rec.stopSignal || 'TERM') ?? signalNumbers.SIGTERM;

/** Keep a restart policy from bringing the container back, send `first`, and SIGKILL it if it is still up after graceMs. False if it is gone. */
async function bringDown(store: Store, rec: ContainerRecord, first: number, graceMs: number, onWarning?: (m: string) => void): Promise<boolean> {
  // Marked under the lock first, so that no restart policy brings it back while it goes.
  let live = await updateContainer(store, rec.id, { stoppedByUser: true });
  if (!live) return false;
  if (live.state === 'restarting') { await waitForMonitor(live, 15_000); live = current(store, rec.id); }
  if (live?.state !== 'running') return true;
  signalContainer(store, live, first);
  mark('stop: signalled');
  if ((await waitContainer(store, live, graceMs)) === undefined && current(store, rec.id)?.state === 'running') {
    if (first !== signalNumbers.SIGKILL) onWarning?.(`StopSignal ${signalName(first)} failed to stop container ${live.name} in ${graceMs / 1000} seconds, resorting to SIGKILL`);
    signalContainer(store, live, signalNumbers.SIGKILL);
    await waitContainer(store, live, 10_000);
  }
  mark('stop: ended');
  return true;
}

/** Clean up after an ended container now rather than wait for conmon's exit command. */
async function settle(store: Store, rec: ContainerRecord): Promise<void> {
  await (await import('./start.js')).settleEnded(store, rec.id);
}

/**
 * container prune (and system prune, and the API's): every container that does not run goes. One
 * that cannot (a pod's infra, a service container) stays, and its error is returned with the others.
 */
export async function pruneContainers(store: Store): Promise<{ deleted: string[]; errors: string[] }> {
  const deleted: string[] = [];
  const errors: string[] = [];
  for (const rec of await listContainers(store, { all: true })) {
    if (rec.state === 'running' || rec.state === 'restarting') continue;
    try { await removeContainer(store, rec); deleted.push(rec.id); } catch (e) { errors.push((e as Error).message); }
  }
  return { deleted, errors };
}

/** Remove a container's files and name. A running one needs force: it is killed first. */
export async function removeContainer(store: Store, rec: ContainerRecord, opts: RemoveContainerOptions = {}): Promise<void> {
  const { releaseContainer } = await import('./recover.js');
  const pod = opts.podRemoval || !rec.pod ? undefined : (await import('./pods.js')).infraOf(store, rec);
  if (pod) throw infraError(rec, pod);
  if (!opts.podRemoval) await refuseService(store, rec);
  const dir = store.containerDir(rec.id);
  const doomed = path.join(store.root, 'tmp', `${process.pid}-ctr-${rec.id.slice(0, 12)}`);
  // A restart policy may bring the container back between our kill and our lock: then go again.
  for (let attempt = 0; ; attempt++) {
    const now = current(store, rec.id);
    if (!now) return;
    if (isUp(now) && now.monitorPid !== process.pid) {
      if (!opts.force) throw new TspodError('E_CONTAINER_RUNNING', `cannot remove container ${rec.id} as it is running - running or paused containers cannot be removed without force: container state improper`, { exitCode: 2 });
      const grace = opts.timeoutSec ?? 0;
      await bringDown(store, now, grace > 0 ? stopSignalOf(now) : signalNumbers.SIGKILL, grace > 0 ? grace * 1000 : 5000);
    }
    await settle(store, rec);
    let upAgain = false;
    const last = await withContainer(store, rec.id, async (r) => {
      if (isUp(r) && r.monitorPid !== process.pid && attempt < 3) { upAgain = true; return r; }
      // conmon's cleanup may not have run (or may race us, or the container may not have died
      // yet): whatever it still holds goes now. Releasing twice is harmless.
      await releaseContainer(store, r.id, r.config?.runtime);
      // Renamed away under the lock: a half-removed container never shows up as a whole one.
      fs.renameSync(dir, doomed);
      return r;
    });
    if (upAgain) continue;
    if (!last) return;
    fs.rmSync(doomed, { recursive: true, force: true });
    if (store.idForName(last.name) === last.id) store.releaseName(last.name);
    if (last.pod) (await import('./pods.js')).forgetPodOfInfra(store, last.id);
    if (opts.volumes) (await import('./volumes.js')).removeAnonymousVolumes(store, last);
    (await import('./events.js')).containerEvent(last, 'remove');
    return;
  }
}

/**
 * Wait for the container to end; its exit code, or undefined on timeout. inotify on its directory
 * (record rewrites) and on conmon's exit directory wakes us the moment either changes.
 */
export async function waitContainer(store: Store, rec: ContainerRecord, timeoutMs = Infinity): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  const dir = store.containerDir(rec.id);
  let wake = () => {};
  const watchers: fs.FSWatcher[] = [];
  for (const d of [dir, path.join(dir, 'userdata/exits')]) {
    try { watchers.push(fs.watch(d, () => wake())); } catch { /* not there (yet) */ }
  }
  try {
    for (;;) {
      const now = current(store, rec.id);
      if (!now || now.state !== 'running') return now?.exitCode;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      // The timer is cleared on wake-up: a pending one would keep the process alive after the answer.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(100, left));
        wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  } finally {
    for (const w of watchers) w.close();
  }
}

/** The image's StopSignal (or SIGTERM), then SIGKILL after the timeout, as Docker and Podman do. */
export async function stopContainer(store: Store, rec: ContainerRecord, timeoutSec = 10, onWarning?: (m: string) => void): Promise<void> {
  // -t 0 means SIGKILL now, as in Podman (and no warning that the stop signal failed).
  const first = timeoutSec > 0 ? stopSignalOf(rec) : signalNumbers.SIGKILL;
  if (!(await bringDown(store, rec, first, timeoutSec > 0 ? timeoutSec * 1000 : 10_000, onWarning))) throw containerGone(rec.name);
  await settle(store, rec);
  mark('stop: cleaned up');
  (await import('./events.js')).containerEvent(rec, 'stop');
}

/** stop, then start again under conmon, as Podman's restart does. */
export async function restartContainer(store: Store, rec: ContainerRecord, timeoutSec = 10): Promise<void> {
  await stopContainer(store, rec, timeoutSec);
  const { startContainer } = await import('./start.js');
  await startContainer(store, rec, { attach: false });
}

/** Send a signal to a running container's init. */
export async function killContainer(store: Store, rec: ContainerRecord, signal = 'KILL'): Promise<void> {
  requireRunning(store, rec);
  const sig = parseSignal(signal);
  // A kill that ends the container is the user's stop: no restart policy brings it back (as in Docker).
  if (sig === signalNumbers.SIGKILL || sig === signalNumbers.SIGTERM || sig === signalNumbers.SIGINT) await updateContainer(store, rec.id, { stoppedByUser: true });
  if (!signalContainer(store, rec, sig)) throw new TspodError('E_CONTAINER_NOT_RUNNING', `container ${rec.name} is not running`, { hint: 'see `tspod ps -a`' });
  (await import('./events.js')).containerEvent(rec, 'kill', { signal: String(sig) });
}

/** Give a container a new name; the old one is freed. */
export async function renameContainer(store: Store, rec: ContainerRecord, name: string): Promise<void> {
  validateName(name);
  if (!store.claimName(name, rec.id)) throw new TspodError('E_NAME_IN_USE', `the container name "${name}" is already in use`, { hint: 'choose another name' });
  const before = await withContainer(store, rec.id, (r) => { store.writeContainer({ ...r, name }); return r; });
  if (!before) { store.releaseName(name); throw containerGone(rec.name); }
  if (store.idForName(before.name) === rec.id) store.releaseName(before.name);
}

export interface LogsOptions {
  follow?: boolean;
  timestamps?: boolean;
  tail?: number;
  /** only lines at or after this time (ms since the epoch) */
  since?: number;
  /** only lines before this time; a follow ends once it has passed */
  until?: number;
  /** a follow ends when this aborts (the API client left) */
  signal?: AbortSignal;
}

/** --since/--until as Docker reads them: RFC 3339 dates, Unix seconds, or a duration before now (10m, 1h30m). */
export function parseLogTime(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length && parts.map((p) => p[0]).join('') === value) {
    const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    return now - parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]], 0);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new TspodError('E_USAGE', `cannot read the time "${value}"`, { hint: 'use an RFC 3339 date (2026-01-02T15:04:05Z), Unix seconds, or a duration such as 10m' });
  return t;
}

/** Print a container's log (conmon's k8s-file lines: "TIME STREAM F|P TEXT"), following it on request. */
export async function containerLogs(store: Store, rec: ContainerRecord, out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, opts: LogsOptions = {}): Promise<void> {
  if (rec.config?.logDriver === 'none') throw new TspodError('E_NO_LOG', `this container is using the 'none' log driver, cannot read logs: contacting the log driver`);
  const file = path.join(store.containerDir(rec.id), 'userdata/ctr.log');
  let offset = 0, pending = '';
  const inWindow = (time: string) => {
    if (opts.since === undefined && opts.until === undefined) return true;
    const t = Date.parse(time);
    return (opts.since === undefined || t >= opts.since) && (opts.until === undefined || t < opts.until);
  };
  const emit = (text: string, final: boolean) => {
    const lines = (pending + text).split('\n');
    pending = final ? '' : lines.pop()!;
    let parsed = lines.filter(Boolean).map((l) => /^(\S+) (stdout|stderr) ([FP]) ?([^]*)$/.exec(l)).filter((m): m is RegExpExecArray => !!m && inWindow(m[1]));
    if (opts.tail !== undefined && offset === 0) parsed = parsed.slice(Math.max(0, parsed.length - opts.tail));
    for (const m of parsed) (m[2] === 'stderr' ? out.stderr : out.stdout).write(`${opts.timestamps ? `${m[1]} ` : ''}${m[4]}${m[3] === 'F' ? '\n' : ''}`);
  };
  for (;;) {
    // The state first, then the file: a container seen ended has written all it will, so this
    // last read has it (read the other way round, output written just before the end was lost).
    const state = current(store, rec.id)?.state;
    let chunk = '';
    try {
      const fd = fs.openSync(file, 'r');
      const size = fs.fstatSync(fd).size;
      if (size > offset) { const buf = Buffer.alloc(size - offset); fs.readSync(fd, buf, 0, buf.length, offset); chunk = buf.toString('utf8'); }
      fs.closeSync(fd);
    } catch { /* no log yet */ }
    const more = !!opts.follow && (state === 'running' || state === 'restarting') && (opts.until === undefined || Date.now() < opts.until) && !opts.signal?.aborted;
    emit(chunk, !more);
    offset += Buffer.byteLength(chunk);
    if (!more) return;
    await sleep(100);
  }
}

export interface Namespaces { Cgroup: string; IPC: string; MNT: string; NET: string; PIDNS: string; User: string; UTS: string }

/** The namespaces of process `pid` as `ps --ns` shows them: the inode numbers of /proc/PID/ns/*. */
export function processNamespaces(pid: number): Namespaces | undefined {
  if (!pid) return undefined;
  const ns = (name: string) => { try { return /\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/${name}`))?.[1] ?? ''; } catch { return ''; } };
  return { Cgroup: ns('cgroup'), IPC: ns('ipc'), MNT: ns('mnt'), NET: ns('net'), PIDNS: ns('pid'), User: ns('user'), UTS: ns('uts') };
}

/**
 * What a container's files take (inspect --size, ps --size): its writable layer's bytes, and those
 * plus its image's. Files hard-linked within the layer count once; directories a user namespace
 * made unreadable to us are left out.
 */
export function containerSizes(store: Store, rec: ContainerRecord, images = store.readImages()): { rw: number; rootFs: number } {
  const rw = treeBytes(path.join(store.containerDir(rec.id), 'upper'));
  const image = images.find((i) => i.id === rec.imageId)?.size ?? 0;
  return { rw, rootFs: rw + image };
}

/** A container's health as inspect shows it: empty without a health check. */
function healthOf(store: Store, rec: ContainerRecord): HealthState | { Status: ''; FailingStreak: 0; Log: [] } {
  return (rec.config?.healthcheck ? readHealth(store, rec.id) : undefined) ?? (rec.config?.healthcheck ? { Status: 'starting', FailingStreak: 0, Log: [] } : { Status: '', FailingStreak: 0, Log: [] });
}

/** Docker-shaped inspect data for a container, with Podman's additions (and its sizes, with --size). */
export function inspectContainer(store: Store, input: ContainerRecord, o: { size?: boolean } = {}): Record<string, unknown> {
  const rec = current(store, input.id) ?? input;
  const dir = store.containerDir(rec.id);
  let spec: { process?: { env?: string[]; cwd?: string; user?: { uid: number; gid: number }; terminal?: boolean; args?: string[] }; hostname?: string; root?: { readonly?: boolean } } = {};
  try { spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')); } catch { /* never started */ }
  const pidFrom = (file: string) => { try { return rec.state === 'running' ? Number(fs.readFileSync(path.join(dir, 'userdata', file), 'utf8')) : 0; } catch { return 0; } };
  const pid = containerPid(store, rec);
  const cfg = rec.config;
  const ports = inspectPorts(cfg?.ports, cfg?.exposed ?? []);
  return {
    Id: rec.id,
    Name: rec.name,
    Created: rec.created,
    Path: rec.command[0],
    Args: rec.command.slice(1),
    State: {
      Status: rec.state === 'running' && rec.stoppedByUser ? 'stopping' : rec.state, Running: rec.state === 'running', Paused: false, Restarting: rec.state === 'restarting', OOMKilled: false, Dead: false,
      Pid: pid, ConmonPid: pidFrom('conmon.pid'), ExitCode: rec.exitCode ?? 0, StartedAt: rec.startedAt ?? '', FinishedAt: rec.finishedAt ?? '',
      // Podman 4.3 calls it Healthcheck, Docker Health: both.
      ...(() => { const h = healthOf(store, rec); return { Health: h, Healthcheck: h }; })(),
    },
    Image: rec.imageId,
    ImageDigest: store.readImages().find((i) => i.id === rec.imageId)?.digest ?? '',
    ImageName: rec.imageName,
    RestartCount: rec.restartCount ?? 0,
    OCIRuntime: cfg?.runtime ?? '',
    IsService: !!rec.isService,
    Config: {
      Hostname: spec.hostname ?? cfg?.hostname ?? '', Env: spec.process?.env ?? cfg?.env ?? [], Cmd: containerCmd(rec).length ? containerCmd(rec) : null, Entrypoint: (cfg?.entrypoint ?? []).join(' '), WorkingDir: spec.process?.cwd ?? cfg?.workdir ?? '/',
      User: cfg?.user ?? '', Tty: !!cfg?.tty, OpenStdin: !!cfg?.interactive, StopSignal: rec.stopSignal ?? 'SIGTERM',
      Labels: rec.labels ?? {}, Annotations: cfg?.annotations ?? {}, Healthcheck: inspectHealthConfig(cfg?.healthcheck), HealthcheckOnFailureAction: cfg?.healthcheck?.onFailure ?? 'none', SdNotifyMode: cfg?.sdNotifyMode ?? 'conmon', SdNotifySocket: cfg?.notifySocket ?? '', CreateCommand: rec.createCommand ?? [],
    },
    Mounts: (cfg?.volumes ?? []).map((m) => ({
      Type: m.type, Name: m.type === 'volume' ? m.source : undefined, Source: m.type === 'volume' ? volumeDataDir(store, m.source) : m.source,
      Destination: m.destination, RW: !m.readOnly,
    })),
    NetworkSettings: { Mode: rec.network?.mode ?? cfg?.network ?? '', SandboxKey: rec.network?.nsPath ?? '', Ports: ports.ports, ...networkSettings(store, rec) },
    HostConfig: {
      LogConfig: { Type: cfg?.logDriver ?? 'k8s-file', Config: null, Path: cfg?.logDriver === 'none' ? '' : path.join(dir, 'userdata/ctr.log'), Tag: '', Size: cfg?.logSizeMax ? humanSizeWithPrecision(cfg.logSizeMax, 4) : '0B' },
      PortBindings: ports.bindings, AutoRemove: !!rec.autoRemove, ReadonlyRootfs: !!cfg?.readOnly, NetworkMode: rec.network?.mode ?? (userNetworkNames(cfg?.network) ? 'bridge' : cfg?.network ?? ''),
      RestartPolicy: { Name: cfg?.restart?.name ?? 'no', MaximumRetryCount: cfg?.restart?.maxRetries ?? 0 },
      Tmpfs: Object.fromEntries((cfg?.volumes ?? []).filter((m) => m.type === 'tmpfs').map((m) => [m.destination, (m.mountOptions ?? []).join(',')])),
      ...inspectConfinement(cfg?.confinement, isRootless()),
    },
    LogPath: path.join(dir, 'userdata/ctr.log'),
    ...(o.size ? (({ rw, rootFs }) => ({ SizeRw: rw, SizeRootFs: rootFs }))(containerSizes(store, rec)) : {}),
  };
}

/** The pids of a running container: every process in its pid namespace, found through /proc. */
export async function containerProcesses(store: Store, rec: ContainerRecord): Promise<Array<{ pid: number; ppid: number; uid: number; state: string; command: string; startTicks: number }>> {
  requireRunning(store, rec);
  const { runtimeCommand } = await import('../runtime/oci.js');
  const st = await runtimeCommand(runcStateRoot(), ['state', rec.id]);
  const init = st.status === 0 ? (JSON.parse(st.stdout) as { pid: number }).pid : 0;
  if (!init) throw new RuntimeError(`cannot find the processes of ${rec.name}: ${(st.stderr || '').trim()}`);
  const ns = fs.readlinkSync(`/proc/${init}/ns/pid`);
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/ns/pid`) !== ns) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      out.push({ pid: Number(entry), ppid: Number(rest[1]), uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? 0), state: rest[0], command: cmdline || stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), startTicks: Number(rest[19]) });
    } catch { /* exited meanwhile */ }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** Whether containers can be paused here: not rootless on cgroup v1, where no freezer cgroup is ours. */
export async function canPause(): Promise<boolean> {
  const [{ cgroupVersion }, { isRootless }] = await Promise.all([import('../runtime/oci.js'), import('../paths.js')]);
  return !(isRootless() && cgroupVersion() === 'v1');
}

/** Freeze or thaw a container; needs a cgroup the runtime can use, which rootless cgroup v1 never has. */
export async function pauseContainer(store: Store, rec: ContainerRecord, pause: boolean): Promise<void> {
  const { runtimeCommand } = await import('../runtime/oci.js');
  if (!(await canPause())) {
    throw new TspodError('E_CGROUPS', `cannot ${pause ? 'pause' : 'unpause'} ${rec.name}: rootless containers have no freezer cgroup on cgroup v1`, { hint: 'pausing needs cgroup v2 with delegation (systemd.unified_cgroup_hierarchy=1), or root' });
  }
  requireRunning(store, rec);
  const r = await runtimeCommand(runcStateRoot(), [pause ? 'pause' : 'resume', rec.id]);
  if (r.status !== 0) throw new RuntimeError(`cannot ${pause ? 'pause' : 'unpause'} ${rec.name}: ${(r.stderr || '').trim().split('\n').pop()}`);
}

/**
 * The addresses a container on user networks has (while it runs), as Podman's inspect shows them:
 * per network, and the first one's at the top.
 */
function networkSettings(store: Store, rec: ContainerRecord) {
  const names = userNetworkNames(rec.config?.network) ?? (rec.network?.mode === 'bridge' ? [] : undefined);
  if (!names) return {};
  const running = rec.state === 'running' ? rec.network?.attachments ?? [] : [];
  const networks: Record<string, unknown> = {};
  for (const name of names) {
    const a = running.find((x) => x.network === name);
    networks[name] = {
      EndpointID: '', Gateway: a?.gateway ?? '', IPAddress: a?.ip ?? '', IPPrefixLen: a?.prefix ?? 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
      MacAddress: a?.mac ?? '', NetworkID: name, DriverOpts: null, IPAMConfig: null, Links: null, Aliases: a ? [...a.aliases] : [rec.id.slice(0, 12), ...(rec.config?.networkAliases ?? [])],
    };
  }
  const first = running[0];
  return { IPAddress: first?.ip ?? '', IPPrefixLen: first?.prefix ?? 0, Gateway: first?.gateway ?? '', MacAddress: first?.mac ?? '', Networks: networks };
}
