// Containers: RunOptions in, a RunReport out; no printing. A foreground run creates the container's
// record and overlay root, sets up the network, writes the OCI spec and hands over to the runtime.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { TspodError, ImageNotFoundError, RuntimeError, EXIT_NOT_FOUND, EXIT_CANNOT_INVOKE, EXIT_TSPOD } from '../errors.js';
import { Store, shortLayerName, type ContainerRecord, type ImageRecord } from '../storage/store.js';
import { isRootless, runtimeDir } from '../paths.js';
import { findImage, pullImage, type PullOptions } from './images.js';
import { generateName } from './names.js';
import { mark } from '../trace.js';
import { processAlive } from '../sys/proc.js';

export interface RunOptions {
  image: string;
  command: string[];
  name?: string;
  rm?: boolean;
  env?: string[];
  envFiles?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  network?: string;
  readOnly?: boolean;
  interactive?: boolean;
  tty?: boolean;
  /** start under conmon and return at once */
  detach?: boolean;
  /** KEY=VALUE labels, as --label */
  labels?: string[];
  /** rotate the detached log at this many bytes (--log-opt max-size) */
  logSizeMax?: number;
  pull?: 'always' | 'missing' | 'never';
  runtime?: string;
  pullOptions?: PullOptions;
}

export interface RunReport { id: string; name: string; exitCode: number }

interface ImageConfig {
  config?: { Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string; StopSignal?: string };
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const signals = os.constants.signals as Record<string, number>;

function terminalSize(): { height: number; width: number } | undefined {
  for (const s of [process.stdin, process.stdout, process.stderr] as Array<NodeJS.ReadStream | NodeJS.WriteStream>) {
    const t = s as NodeJS.WriteStream;
    if (t.isTTY && t.columns && t.rows) return { height: t.rows, width: t.columns };
  }
  return undefined;
}

async function ensureImage(store: Store, opts: RunOptions): Promise<ImageRecord> {
  const policy = opts.pull ?? 'missing';
  let img = policy === 'always' ? undefined : await findImage(store, opts.image);
  if (!img) {
    if (policy === 'never') throw new ImageNotFoundError(opts.image, 'it is not in the store and --pull=never forbids pulling it');
    const report = await pullImage(store, opts.image, opts.pullOptions);
    img = store.readImages().find((i) => i.id === report.id);
    if (!img) throw new ImageNotFoundError(opts.image);
  }
  return img;
}

/** KEY=VALUE lines; a bare KEY takes the host's value, as Docker does. */
export function parseEnv(entries: string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.includes('=')) out.push(e);
    else if (process.env[e] !== undefined) out.push(`${e}=${process.env[e]}`);
  }
  return out;
}

function readEnvFile(file: string): string[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    throw new TspodError('E_USAGE', `cannot read env file ${file}: ${(e as NodeJS.ErrnoException).code}`, { hint: 'check the path given to --env-file' });
  }
  return parseEnv(text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
}

function mergeEnv(base: string[], overrides: string[]): string[] {
  const map = new Map<string, string>();
  for (const e of [...base, ...overrides]) {
    const i = e.indexOf('=');
    map.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return [...map].map(([k, v]) => `${k}=${v}`);
}

/** What the container runs: Docker's rules for Entrypoint, Cmd, --entrypoint and the arguments. */
export function containerArgs(cfg: ImageConfig['config'], command: string[], entrypoint?: string): string[] {
  if (entrypoint !== undefined) return [...(entrypoint ? [entrypoint] : []), ...command];
  return [...(cfg?.Entrypoint ?? []), ...(command.length ? command : cfg?.Cmd ?? [])];
}

/** Find the executable as the container would, to fail with 127 or 126 as Podman does. */
async function checkExecutable(rootfs: string, argv0: string, env: string[], cwd: string): Promise<void> {
  const { resolveInRoot } = await import('../runtime/rootpath.js');
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  const candidates = argv0.includes('/') ? [path.posix.resolve(cwd, argv0)] : pathVar.split(':').filter(Boolean).map((d) => path.posix.join(d, argv0));
  let denied: string | undefined;
  for (const c of candidates) {
    let st: fs.Stats;
    try { st = fs.statSync(resolveInRoot(rootfs, c)); } catch { continue; }
    if (st.isFile() && (st.mode & 0o111)) return;
    denied ??= c;
  }
  if (denied) throw new TspodError('E_NOT_EXECUTABLE', `${denied}: permission denied: the file is not executable`, { exitCode: EXIT_CANNOT_INVOKE, hint: 'check the command and its mode in the image' });
  throw new TspodError('E_COMMAND_NOT_FOUND', argv0.includes('/') ? `${argv0}: no such file or directory in the container` : `executable file "${argv0}" not found in $PATH of the container`,
    { exitCode: EXIT_NOT_FOUND, hint: 'check the command name, or the image\'s PATH' });
}

export async function runContainer(store: Store, opts: RunOptions): Promise<RunReport> {
  mark('run: engine start');
  store.init();
  const img = await ensureImage(store, opts);
  mark('run: image found');
  const cfg = (JSON.parse(store.readBlob(`sha256:${img.id}`).toString('utf8')) as ImageConfig).config ?? {};
  const [{ buildSpec }, { findRuntime, runForeground, runtimeError, deleteContainer }, { mountOverlay, unmount }, { resolveUser }, net, { mkdirInRoot }] = await Promise.all([
    import('../runtime/spec.js'), import('../runtime/oci.js'), import('../runtime/rootfs.js'), import('../runtime/user.js'), import('../net/slirp/network.js'), import('../runtime/rootpath.js'),
  ]);
  mark('run: runtime modules loaded');
  const rt = findRuntime(opts.runtime);
  const rootless = isRootless();
  const networkMode = net.parseNetworkMode(opts.network, rootless);
  const args = containerArgs(cfg, opts.command, opts.entrypoint);
  if (args.length === 0) throw new TspodError('E_NO_COMMAND', 'no command given, and the image has no Cmd or Entrypoint', { hint: `give one: tspod run ${opts.image} /bin/sh` });

  const id = crypto.randomBytes(32).toString('hex');
  let name = opts.name;
  if (name !== undefined) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new TspodError('E_USAGE', `invalid container name "${name}"`, { hint: 'names use [a-zA-Z0-9][a-zA-Z0-9_.-]*' });
    if (!store.claimName(name, id)) throw new TspodError('E_NAME_IN_USE', `the container name "${name}" is already in use`, { hint: `remove that container (tspod rm ${name}) or choose another name` });
  } else {
    do { name = generateName(); } while (!store.claimName(name, id));
  }
  const dir = store.containerDir(id);
  const rootfs = path.join(dir, 'merged');
  const userdata = path.join(dir, 'userdata');
  const labels = Object.fromEntries((opts.labels ?? []).map((l) => { const i = l.indexOf('='); return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)]; }));
  const rec: ContainerRecord = { id, name, imageId: img.id, imageName: img.names[0] ?? img.id, created: new Date().toISOString(), command: args, state: 'created', labels };
  let mounted = false;
  let detached = false;
  let network: import('../net/slirp/network.js').NetworkHandle | undefined;
  const stateRoot = runcStateRoot();
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
    // The overlay root takes its mode from the upper dir: it must be traversable by every container user.
    for (const d of ['upper', 'merged']) fs.mkdirSync(path.join(dir, d), { mode: 0o755 });
    for (const d of ['work', 'userdata']) fs.mkdirSync(path.join(dir, d), { mode: 0o700 });
    store.writeContainer(rec);
    // Overlay wants the top layer first.
    mountOverlay({ storeRoot: store.root, lowers: [...img.layers].reverse().map(shortLayerName), upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), target: rootfs, rootless });
    mounted = true;
    mark('run: overlay mounted');

    const user = resolveUser(rootfs, opts.user ?? cfg.User);
    const hostname = opts.hostname ?? (networkMode === 'host' ? os.hostname() : id.slice(0, 12));
    // Defaults, then the image's Env, then --env-file, then -e: later ones win.
    const defaults = [`PATH=${DEFAULT_PATH}`, 'container=tspod', `HOSTNAME=${hostname}`, `HOME=${user.home}`, 'TERM=xterm'];
    const env = mergeEnv(mergeEnv(defaults, cfg.Env ?? []), [...(opts.envFiles ?? []).flatMap(readEnvFile), ...parseEnv(opts.env ?? [])]);
    const cwd = opts.workdir ?? (cfg.WorkingDir || '/');
    if (!cwd.startsWith('/')) throw new TspodError('E_USAGE', `the working directory "${cwd}" is not absolute`, { hint: 'give -w an absolute path' });
    mkdirInRoot(rootfs, cwd, user.uid, user.gid);
    await checkExecutable(rootfs, args[0], env, cwd);

    mark('run: user, env, workdir, executable resolved');
    fs.mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
    network = await net.setupNetwork(networkMode, runtimeDir(), id);
    mark(`run: network ${networkMode} ready`);
    const etcFiles = net.writeEtcFiles(userdata, network, hostname, name);
    const spec = buildSpec({
      rootfs, readOnly: !!opts.readOnly, args, env, cwd, uid: user.uid, gid: user.gid, additionalGids: user.additionalGids,
      terminal: !!opts.tty, consoleSize: terminalSize(), hostname, network: network.nsPath ? { path: network.nsPath } : networkMode === 'host' ? 'host' : 'new', etcFiles, rootless,
    });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
    mark('run: spec written');
    if (opts.detach) {
      await startDetached(store, rec, { rt, stateRoot, dir, userdata, network, autoRemove: !!opts.rm, stopSignal: cfg.StopSignal, logSizeMax: opts.logSizeMax });
      detached = true;
      return { id, name, exitCode: 0 };
    }
    const logFile = path.join(userdata, 'runtime.log');
    rec.state = 'running';
    rec.startedAt = new Date().toISOString();
    rec.monitorPid = process.pid;
    store.writeContainer(rec);
    const result = await runForeground(rt, stateRoot, dir, id, { stdin: !!opts.interactive || !!opts.tty, logFile });
    mark(`run: ${rt.name} run returned`);
    let exitCode = result.signal ? 128 + (signals[result.signal] ?? 0) : result.exitCode ?? EXIT_TSPOD;
    if (exitCode !== 0) {
      const err = runtimeError(logFile);
      if (err) {
        deleteContainer(rt, stateRoot, id);
        const code = /not found|no such file/i.test(err) ? EXIT_NOT_FOUND : /permission denied/i.test(err) ? EXIT_CANNOT_INVOKE : EXIT_TSPOD;
        const hint = /hybrid mode/.test(err) ? `${rt.name} does not support this machine's cgroup v1 hybrid mode; use --runtime runc`
          : 'see the runtime\'s message above; `tspod --log-level debug run ...` shows more';
        throw new RuntimeError(`${rt.name}: ${err}`, { exitCode: code, hint });
      }
    }
    rec.state = 'exited';
    rec.exitCode = exitCode;
    rec.finishedAt = new Date().toISOString();
    store.writeContainer(rec);
    return { id, name, exitCode };
  } catch (e) {
    rec.state = 'exited';
    try { store.writeContainer(rec); } catch { /* dir gone */ }
    throw e;
  } finally {
    // Cleanup must never hide the container's own result. A detached container's is conmon's job.
    if (!detached) {
      try { network?.teardown(); } catch { /* best effort */ }
      if (mounted) unmount(rootfs);
      if (opts.rm) { try { await removeContainer(store, rec, { force: true }); } catch { /* best effort */ } }
    }
    mark('run: cleaned up');
  }
}

/** A container by name, full id, or unique id prefix of at least 3 characters. */
export function findContainer(store: Store, ref: string): ContainerRecord {
  const byName = store.idForName(ref);
  let id = byName && store.readContainer(byName) ? byName : undefined;
  if (!id && /^[a-f0-9]{3,64}$/.test(ref)) {
    const matches = store.containerIds().filter((c) => c.startsWith(ref));
    if (matches.length > 1) throw new TspodError('E_AMBIGUOUS', `container id prefix "${ref}" matches ${matches.length} containers`, { hint: 'give more characters of the id, or the name' });
    id = matches[0];
  }
  const rec = id ? store.readContainer(id) : undefined;
  if (!rec) throw new TspodError('E_NO_CONTAINER', `no container with name or id "${ref}"`, { hint: 'see `tspod ps -a`' });
  return rec;
}

export interface RemoveContainerOptions { force?: boolean }

/** Remove a container's files and name. A running one needs force: it is killed first. */
export async function removeContainer(store: Store, rec: ContainerRecord, opts: RemoveContainerOptions = {}): Promise<void> {
  const running = reconcile(store, rec).state === 'running';
  if (running && rec.monitorPid !== process.pid) {
    if (!opts.force) throw new TspodError('E_CONTAINER_RUNNING', `container ${rec.name} is running`, { hint: `stop it first, or use \`tspod rm -f ${rec.name}\`` });
    const { runtimeCommand } = await import('../runtime/oci.js');
    runtimeCommand(runcStateRoot(), ['kill', rec.id, 'KILL']);
    // The tspod process watching it records the exit and unmounts; give it a moment.
    for (let i = 0; i < 100 && processAlive(rec.monitorPid!); i++) await new Promise((r) => setTimeout(r, 50));
  }
  const dir = store.containerDir(rec.id);
  const { unmount } = await import('../runtime/rootfs.js');
  if (rec.detached && rec.network) {
    // conmon's cleanup may not have run (or may race us): tearing down twice is harmless.
    const { teardownNetwork } = await import('../net/slirp/network.js');
    try { teardownNetwork(rec.network as import('../net/slirp/network.js').NetworkState); } catch { /* best effort */ }
  }
  unmount(path.join(dir, 'merged'));
  // Rename away first so a half-removed container never shows up as a whole one.
  const doomed = path.join(store.root, 'tmp', `${process.pid}-ctr-${rec.id.slice(0, 12)}`);
  try { fs.renameSync(dir, doomed); } catch { return; }
  fs.rmSync(doomed, { recursive: true, force: true });
  if (store.idForName(rec.name) === rec.id) store.releaseName(rec.name);
}

export interface ListContainersOptions {
  all?: boolean;
  /** Podman's filters: status=, name= (a regular expression), ancestor=, label=KEY[=VALUE], id= */
  filters?: string[];
  /** only the N most recently created */
  last?: number;
}

function matchesFilter(c: ContainerRecord, filter: string): boolean {
  const i = filter.indexOf('=');
  if (i < 0) throw new TspodError('E_USAGE', `invalid filter "${filter}"`, { hint: 'use KEY=VALUE, e.g. status=exited or label=app=web' });
  const key = filter.slice(0, i), value = filter.slice(i + 1);
  switch (key) {
    case 'status': return c.state === value;
    case 'name': return new RegExp(value).test(c.name);
    case 'id': return c.id.startsWith(value);
    case 'ancestor': return c.imageName === value || c.imageId.startsWith(value) || c.imageName.endsWith(`/${value}`) || c.imageName.endsWith(`/${value}:latest`);
    case 'label': {
      const j = value.indexOf('=');
      const k = j < 0 ? value : value.slice(0, j);
      return c.labels !== undefined && k in c.labels && (j < 0 || c.labels[k] === value.slice(j + 1));
    }
    default: throw new TspodError('E_USAGE', `unknown filter "${key}"`, { hint: 'tspod ps filters on status, name, id, ancestor and label' });
  }
}

/** Containers, newest first. A "running" record whose watching process is gone is reported exited. */
export function listContainers(store: Store, opts: ListContainersOptions = {}): ContainerRecord[] {
  const out = store.listContainers().map((c) => reconcile(store, c));
  const filters = opts.filters ?? [];
  // Check every filter before there is anything to match, so a typo fails even on an empty list.
  const probe: ContainerRecord = { id: '', name: '', imageId: '', imageName: '', created: '', command: [], state: 'created' };
  for (const f of filters) matchesFilter(probe, f);
  // A status filter implies -a, as in Podman.
  const all = opts.all || filters.some((f) => f.startsWith('status=')) || opts.last !== undefined;
  const list = out.filter((c) => (all || c.state === 'running') && filters.every((f) => matchesFilter(c, f)))
    .sort((a, b) => b.created.localeCompare(a.created));
  return opts.last !== undefined ? list.slice(0, opts.last) : list;
}

/** Where the runtime keeps its container state: one root for every tspod process of this user. */
const runcStateRoot = () => path.join(runtimeDir(), 'runc');

const LAUNCHER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../bin/tspod');

interface DetachArgs {
  rt: import('../runtime/oci.js').RuntimeInfo; stateRoot: string; dir: string; userdata: string;
  network: import('../net/slirp/network.js').NetworkHandle; autoRemove: boolean; stopSignal?: string; logSizeMax?: number;
}

/** Hand the container to conmon, start it, and record who watches it. */
async function startDetached(store: Store, rec: ContainerRecord, a: DetachArgs): Promise<void> {
  const [{ startConmon }, { runtimeCommand }] = await Promise.all([import('../runtime/conmon.js'), import('../runtime/oci.js')]);
  const exitDir = path.join(a.userdata, 'exits');
  fs.mkdirSync(exitDir, { recursive: true });
  rec.detached = true;
  rec.autoRemove = a.autoRemove;
  rec.network = a.network.state;
  rec.stopSignal = a.stopSignal;
  store.writeContainer(rec);
  await startConmon({
    runtime: a.rt, stateRoot: a.stateRoot, bundle: a.dir, id: rec.id, name: rec.name,
    pidFile: path.join(a.userdata, 'pidfile'), conmonPidFile: path.join(a.userdata, 'conmon.pid'), exitDir,
    logPath: path.join(a.userdata, 'ctr.log'), logSizeMax: a.logSizeMax, exitCommand: [LAUNCHER, 'container', 'cleanup', rec.id],
  });
  rec.monitorPid = Number(fs.readFileSync(path.join(a.userdata, 'conmon.pid'), 'utf8'));
  rec.state = 'running';
  rec.startedAt = new Date().toISOString();
  store.writeContainer(rec);
  const r = runtimeCommand(a.stateRoot, ['start', rec.id], a.rt);
  if (r.status !== 0) {
    throw new RuntimeError(`${a.rt.name} start failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  }
}

function exitFileCode(store: Store, id: string): number | undefined {
  try { return Number(fs.readFileSync(path.join(store.containerDir(id), 'userdata/exits', id), 'utf8').trim()); } catch { return undefined; }
}

/** Run by conmon when a detached container ends: record the exit, free its mounts and network. */
export async function cleanupContainer(store: Store, id: string): Promise<void> {
  const rec = store.readContainer(id);
  if (!rec) return;
  rec.state = 'exited';
  rec.exitCode = exitFileCode(store, id) ?? rec.exitCode;
  rec.finishedAt ??= new Date().toISOString();
  store.writeContainer(rec);
  const [{ teardownNetwork }, { unmount }, { findRuntime, deleteContainer }] = await Promise.all([
    import('../net/slirp/network.js'), import('../runtime/rootfs.js'), import('../runtime/oci.js')]);
  try { if (rec.network) teardownNetwork(rec.network as import('../net/slirp/network.js').NetworkState); } catch { /* best effort */ }
  unmount(path.join(store.containerDir(id), 'merged'));
  try { deleteContainer(findRuntime(), runcStateRoot(), id); } catch { /* no runtime state */ }
  if (rec.autoRemove) await removeContainer(store, rec, { force: true });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A "running" record whose watcher (tspod or conmon) is gone is reported exited, with the exit file's code. */
function reconcile(store: Store, rec: ContainerRecord): ContainerRecord {
  if (rec.state === 'running' && rec.monitorPid && !processAlive(rec.monitorPid)) {
    return { ...rec, state: 'exited', exitCode: exitFileCode(store, rec.id) ?? rec.exitCode };
  }
  return rec;
}

/** The record as it is on disk now, reconciled. */
function current(store: Store, id: string): ContainerRecord | undefined {
  const rec = store.readContainer(id);
  return rec && reconcile(store, rec);
}

function requireRunning(store: Store, rec: ContainerRecord, hint = 'see `tspod ps -a`'): void {
  if (current(store, rec.id)?.state !== 'running') throw new TspodError('E_CONTAINER_NOT_RUNNING', `container ${rec.name} is not running`, { hint });
}

export async function waitContainer(store: Store, rec: ContainerRecord, timeoutMs = Infinity): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = current(store, rec.id);
    if (!now || now.state !== 'running') return now?.exitCode;
    if (Date.now() > deadline) return undefined;
    await sleep(50);
  }
}

/** The image's StopSignal (or SIGTERM), then SIGKILL after the timeout, as Docker and Podman do. */
export async function stopContainer(store: Store, rec: ContainerRecord, timeoutSec = 10): Promise<void> {
  if (current(store, rec.id)?.state !== 'running') return;
  const { runtimeCommand } = await import('../runtime/oci.js');
  const kill = (sig: string) => runtimeCommand(runcStateRoot(), ['kill', rec.id, sig.replace(/^SIG/, '')]);
  kill(rec.stopSignal || 'TERM');
  if ((await waitContainer(store, rec, timeoutSec * 1000)) !== undefined || current(store, rec.id)?.state !== 'running') return;
  kill('KILL');
  await waitContainer(store, rec, 10_000);
}

export interface LogsOptions { follow?: boolean; timestamps?: boolean; tail?: number }

/** Print a container's log (conmon's k8s-file lines: "TIME STREAM F|P TEXT"), following it on request. */
export async function containerLogs(store: Store, rec: ContainerRecord, out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, opts: LogsOptions = {}): Promise<void> {
  const file = path.join(store.containerDir(rec.id), 'userdata/ctr.log');
  let offset = 0, pending = '';
  const emit = (text: string, final: boolean) => {
    const lines = (pending + text).split('\n');
    pending = final ? '' : lines.pop()!;
    let parsed = lines.filter(Boolean).map((l) => /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/.exec(l)).filter((m): m is RegExpExecArray => !!m);
    if (opts.tail !== undefined && offset === 0) parsed = parsed.slice(Math.max(0, parsed.length - opts.tail));
    for (const m of parsed) (m[2] === 'stderr' ? out.stderr : out.stdout).write(`${opts.timestamps ? `${m[1]} ` : ''}${m[4]}${m[3] === 'F' ? '\n' : ''}`);
  };
  for (;;) {
    let chunk = '';
    try {
      const fd = fs.openSync(file, 'r');
      const size = fs.fstatSync(fd).size;
      if (size > offset) { const buf = Buffer.alloc(size - offset); fs.readSync(fd, buf, 0, buf.length, offset); chunk = buf.toString('utf8'); }
      fs.closeSync(fd);
    } catch { /* no log yet */ }
    const running = current(store, rec.id)?.state === 'running';
    emit(chunk, !opts.follow || !running);
    offset += Buffer.byteLength(chunk);
    if (!opts.follow || !running) return;
    await sleep(100);
  }
}

/** Send a signal to a running container through the runtime. */
export async function killContainer(store: Store, rec: ContainerRecord, signal = 'KILL'): Promise<void> {
  requireRunning(store, rec);
  const { runtimeCommand } = await import('../runtime/oci.js');
  const sig = signal.toUpperCase().replace(/^SIG/, '');
  const r = runtimeCommand(runcStateRoot(), ['kill', rec.id, sig]);
  if (r.status !== 0) throw new RuntimeError(`cannot send SIG${sig} to ${rec.name}: ${(r.stderr || '').trim().split('\n').pop()}`, { hint: 'use a signal name such as TERM, HUP or KILL, or a number' });
}

/** Give a container a new name; the old one is freed. */
export function renameContainer(store: Store, rec: ContainerRecord, name: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new TspodError('E_USAGE', `invalid container name "${name}"`, { hint: 'names use [a-zA-Z0-9][a-zA-Z0-9_.-]*' });
  if (!store.claimName(name, rec.id)) throw new TspodError('E_NAME_IN_USE', `the container name "${name}" is already in use`, { hint: 'choose another name' });
  const old = rec.name;
  store.writeContainer({ ...store.readContainer(rec.id)!, name });
  if (store.idForName(old) === rec.id) store.releaseName(old);
}

/** Docker-shaped inspect data for a container. */
export function inspectContainer(store: Store, input: ContainerRecord): Record<string, unknown> {
  const rec = current(store, input.id) ?? input;
  const dir = store.containerDir(rec.id);
  let spec: { process?: { env?: string[]; cwd?: string; user?: { uid: number; gid: number }; terminal?: boolean; args?: string[] }; hostname?: string; root?: { readonly?: boolean } } = {};
  try { spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')); } catch { /* not created yet */ }
  let pid = 0;
  try { pid = rec.state === 'running' ? Number(fs.readFileSync(path.join(dir, 'userdata/pidfile'), 'utf8')) : 0; } catch { /* foreground */ }
  const status = rec.state === 'running' ? 'running' : rec.state === 'created' ? 'created' : 'exited';
  return {
    Id: rec.id,
    Name: rec.name,
    Created: rec.created,
    Path: rec.command[0],
    Args: rec.command.slice(1),
    State: {
      Status: status, Running: status === 'running', Paused: false, Restarting: false, OOMKilled: false, Dead: false,
      Pid: pid, ExitCode: rec.exitCode ?? 0, StartedAt: rec.startedAt ?? '', FinishedAt: rec.finishedAt ?? '',
    },
    Image: rec.imageId,
    ImageName: rec.imageName,
    Config: {
      Hostname: spec.hostname ?? '', Env: spec.process?.env ?? [], Cmd: rec.command, WorkingDir: spec.process?.cwd ?? '/',
      User: spec.process?.user ? `${spec.process.user.uid}:${spec.process.user.gid}` : '', Tty: !!spec.process?.terminal, StopSignal: rec.stopSignal ?? 'SIGTERM',
      Labels: rec.labels ?? {},
    },
    Mounts: [],
    NetworkSettings: { Mode: rec.network?.mode ?? 'unknown', SandboxKey: rec.network?.nsPath ?? '' },
    HostConfig: { AutoRemove: !!rec.autoRemove, ReadonlyRootfs: !!spec.root?.readonly, NetworkMode: rec.network?.mode ?? '' },
    LogPath: path.join(dir, 'userdata/ctr.log'),
  };
}

export interface ExecOptions {
  command: string[];
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
  privileged?: boolean;
}

const ALL_CAPS = ['CAP_AUDIT_CONTROL', 'CAP_AUDIT_READ', 'CAP_AUDIT_WRITE', 'CAP_BLOCK_SUSPEND', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE', 'CAP_CHOWN',
  'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_KILL', 'CAP_LEASE',
  'CAP_LINUX_IMMUTABLE', 'CAP_MAC_ADMIN', 'CAP_MAC_OVERRIDE', 'CAP_MKNOD', 'CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST',
  'CAP_NET_RAW', 'CAP_PERFMON', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_CHROOT', 'CAP_SYS_MODULE', 'CAP_SYS_NICE', 'CAP_SYS_PACCT', 'CAP_SYS_PTRACE', 'CAP_SYS_RAWIO', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_SYSLOG', 'CAP_WAKE_ALARM'];

/** Run a command in a running container through the runtime's exec: its namespaces, env, user, cwd. */
export async function execInContainer(store: Store, rec: ContainerRecord, o: ExecOptions): Promise<number> {
  requireRunning(store, rec, 'start it first; see `tspod ps -a`');
  if (o.command.length === 0) throw new TspodError('E_USAGE', 'exec needs a command', { hint: `tspod exec ${rec.name} sh` });
  const [{ findRuntime }, { resolveUser }, { spawn }] = await Promise.all([import('../runtime/oci.js'), import('../runtime/user.js'), import('node:child_process')]);
  const dir = store.containerDir(rec.id);
  const rootfs = path.join(dir, 'merged');
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { process: { env: string[]; cwd: string; user: { uid: number; gid: number } } };
  const user = o.user ? resolveUser(rootfs, o.user) : { uid: spec.process.user.uid, gid: spec.process.user.gid, additionalGids: [] as number[] };
  const env = mergeEnv(spec.process.env, parseEnv(o.env ?? []));
  const cwd = o.workdir ?? spec.process.cwd;
  await checkExecutable(rootfs, o.command[0], env, cwd);
  const rt = findRuntime();
  const args = ['--root', runcStateRoot(), 'exec', '--cwd', cwd, '--user', `${user.uid}:${user.gid}`,
    ...user.additionalGids.flatMap((g) => ['--additional-gids', String(g)]),
    ...env.flatMap((e) => ['--env', e]), ...(o.tty ? ['--tty'] : []), ...(o.detach ? ['--detach'] : []),
    ...(o.privileged ? ALL_CAPS.flatMap((c) => ['--cap', c]) : []), rec.id, ...o.command];
  const child = spawn(rt.path, args, { stdio: [o.interactive || o.tty ? 'inherit' : 'ignore', 'inherit', 'inherit'] });
  const forward = (sig: NodeJS.Signals) => { try { child.kill(sig); } catch { /* gone */ } };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGWINCH'];
  for (const sg of sigs) process.on(sg, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', (e) => reject(new RuntimeError(`cannot start ${rt.name} exec: ${e.message}`)));
      child.on('exit', (code, signal) => resolve(signal ? 128 + (signals[signal] ?? 0) : code ?? EXIT_TSPOD));
    });
  } finally {
    for (const sg of sigs) process.off(sg, forward);
  }
}

/** The pids of a running container: every process in its pid namespace, found through /proc. */
export async function containerProcesses(store: Store, rec: ContainerRecord): Promise<Array<{ pid: number; ppid: number; uid: number; state: string; command: string; startTicks: number }>> {
  requireRunning(store, rec);
  const { runtimeCommand } = await import('../runtime/oci.js');
  const st = runtimeCommand(runcStateRoot(), ['state', rec.id]);
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

/** Freeze or thaw a container; needs a cgroup the runtime can use, which rootless cgroup v1 never has. */
export async function pauseContainer(store: Store, rec: ContainerRecord, pause: boolean): Promise<void> {
  const { runtimeCommand, cgroupVersion } = await import('../runtime/oci.js');
  const { isRootless } = await import('../paths.js');
  if (isRootless() && cgroupVersion() === 'v1') {
    throw new TspodError('E_CGROUPS', `cannot ${pause ? 'pause' : 'unpause'} ${rec.name}: rootless containers have no freezer cgroup on cgroup v1`, { hint: 'pausing needs cgroup v2 with delegation (systemd.unified_cgroup_hierarchy=1), or root' });
  }
  requireRunning(store, rec);
  const r = runtimeCommand(runcStateRoot(), [pause ? 'pause' : 'resume', rec.id]);
  if (r.status !== 0) throw new RuntimeError(`cannot ${pause ? 'pause' : 'unpause'} ${rec.name}: ${(r.stderr || '').trim().split('\n').pop()}`);
}
