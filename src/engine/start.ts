// start: mount the container's root, build its OCI spec and network, and hand it to the runtime,
// either attached (tspod itself watches it, as `run` and `start -a` do) or detached under conmon.
// After it ends, afterExit() records the exit, frees what it held, and applies the restart policy.
import fs from 'node:fs';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { TspodError, RuntimeError, EXIT_NOT_FOUND, EXIT_CANNOT_INVOKE, EXIT_TSPOD } from '../errors.js';
import type { Store, ContainerRecord, IdMap } from '../storage/store.js';
import { isRootless, runtimeDir, packageVersion } from '../paths.js';
import { mark } from '../trace.js';
import { processAlive } from '../sys/proc.js';
import { createContainer, zoneFile, type CreateOptions } from './create.js';
import { DEFAULT_PATH, mergeEnv, checkExecutable, type ImageConfig } from './process.js';
import { withContainer, current, exitFileCode, runcStateRoot, containerGone, sleep, launcher, containerPid } from './containers.js';

type Net = typeof import('../net/slirp/network.js');

export interface RunOptions extends CreateOptions {
  /** start under conmon and return at once */
  detach?: boolean;
  /** run --attach: the streams given (stdin, stdout, stderr); all when not given */
  attach?: string[];
  /** run --conmon-pidfile: conmon's pid is written there too */
  conmonPidFile?: string;
  /** --sdnotify: conmon (default; READY and MAINPID once the container runs, under systemd's NOTIFY_SOCKET) or ignore */
  sdnotify?: string;
  /** run --preserve-fds N (attached runs) */
  preserveFds?: number;
}

export interface RunReport { id: string; name: string; exitCode: number }

export interface StartOptions {
  /** tspod watches the container and returns its exit code; otherwise conmon does and start returns at once */
  attach?: boolean;
  /** with attach: pass our stdin to the container */
  interactive?: boolean;
  /** started by the restart policy: give up if the user stopped or removed it meanwhile */
  byPolicy?: boolean;
  /** with attach: which output streams reach ours (run --attach) */
  streams?: { stdout: boolean; stderr: boolean };
  /** with attach: --preserve-fds N */
  preserveFds?: number;
  /** detached: called once conmon holds the created container, before its process runs (the API's waiting attaches connect then) */
  beforeStart?: (rec: ContainerRecord) => Promise<void>;
}

const signals = os.constants.signals as Record<string, number>;

/** The caller's terminal size, for the container's pty to start with. */
async function terminalSize(): Promise<{ height: number; width: number } | undefined> {
  const size = (await import('../sys/index.js')).callerTerminalSize();
  return size && { height: size.rows, width: size.columns };
}

interface Prepared {
  rt: import('../runtime/oci.js').RuntimeInfo;
  stateRoot: string;
  dir: string;
  rootfs: string;
  userdata: string;
  network: import('../net/slirp/network.js').NetworkHandle;
  /** undo everything prepare() did */
  undo(): Promise<void>;
}

/**
 * --network container:ID: the other container must be running; this one joins its network
 * namespace (by its first process) and sees its /etc/hosts and /etc/resolv.conf, as in Podman.
 */
function joinedNetwork(store: Store, id: string, rec: ContainerRecord): { nsPath: string; etcFiles: Record<string, string> } {
  const other = current(store, id);
  if (!other) throw new TspodError('E_NO_CONTAINER', `container ${id} whose network namespace ${rec.name} joins is gone`, { hint: `remove ${rec.name}, or create it again with another --network` });
  const pid = containerPid(store, other);
  if (!pid) throw new TspodError('E_CONTAINER_NOT_RUNNING', `cannot join the network namespace of container ${other.name}: it is not running`, { hint: `start it first: tspod start ${other.name}` });
  const files: Record<string, string> = {};
  for (const [inside, name] of [['/etc/hosts', 'hosts'], ['/etc/resolv.conf', 'resolv.conf']]) {
    const file = path.join(store.containerDir(id), 'userdata', name);
    if (fs.existsSync(file)) files[inside] = file;
  }
  return { nsPath: `/proc/${pid}/ns/net`, etcFiles: files };
}

/** What a container on user networks asks of each: its --ip (the first network's) and aliases, which always include its short id. */
async function userNetworkWants(store: Store, rec: ContainerRecord): Promise<{ name: string; wants: import('../net/usernet.js').Want[] }> {
  const { findNetwork } = await import('./networks.js');
  const cfg = rec.config ?? { env: [] };
  const names = (cfg.network ?? '').split(',');
  return { name: rec.name, wants: names.map((n, i) => ({ network: findNetwork(store, n), ip: i === 0 ? cfg.ip : undefined, aliases: [...(cfg.networkAliases ?? []), rec.id.slice(0, 12)] })) };
}

/** A mapping as /proc/PID/uid_map takes it. */
const idMapLines = (maps: IdMap[]) => maps.map((m) => `${m.container} ${m.host} ${m.size}\n`).join('');

/** Everything the runtime needs: the overlay root, user, env, workdir, volumes, network and spec. Undone on failure. */
async function prepare(store: Store, rec: ContainerRecord, attach: boolean): Promise<Prepared> {
  const cfg = rec.config ?? { env: [] };
  const img = store.readImages().find((i) => i.id === rec.imageId);
  if (!img) throw new TspodError('E_NO_IMAGE', `the image of container ${rec.name} (${rec.imageName}) is no longer in the store`, { hint: `pull it again (tspod pull ${rec.imageName}), or remove the container` });
  const imageCfg = (JSON.parse(store.readBlob(`sha256:${img.id}`).toString('utf8')) as ImageConfig).config ?? {};
  const [{ buildSpec }, { findRuntime }, { mountRoot, mountShm, unmountContainer }, { resolveUser, resolveGroups }, net, { linkMtab, mkdirInRoot, resolveInRoot }, { volumeSpecMounts }] = await Promise.all([
    import('../runtime/spec.js'), import('../runtime/oci.js'), import('../runtime/rootfs.js'), import('../runtime/user.js'),
    import('../net/slirp/network.js') as Promise<Net>, import('../runtime/rootpath.js'), import('./volumes.js'),
  ]);
  mark('start: runtime modules loaded');
  const rt = findRuntime(cfg.runtime);
  const rootless = isRootless();
  const networkSpec = net.parseNetwork(cfg.network, rootless);
  const networkMode = networkSpec.mode;
  const joined = networkMode === 'container' ? joinedNetwork(store, networkSpec.options[0], rec) : undefined;
  const dir = store.containerDir(rec.id);
  const rootfs = path.join(dir, 'merged');
  const userdata = path.join(dir, 'userdata');
  const stateRoot = runcStateRoot();
  fs.rmSync(path.join(userdata, 'pidfile'), { force: true });
  // The network helper starts first and comes up while the root is mounted and the spec is built.
  let network: import('../net/slirp/network.js').NetworkHandle | undefined;
  const bridge = networkMode === 'bridge' ? await userNetworkWants(store, rec) : undefined;
  const confined = cfg.confinement;
  const ownUserns = confined?.uidMap && confined.gidMap ? { uid: confined.uidMap, gid: confined.gidMap } : undefined;
  // A container with a user namespace of its own gets a network namespace that namespace owns.
  const maps = ownUserns && { uidMap: idMapLines(ownUserns.uid), gidMap: idMapLines(ownUserns.gid) };
  const networkReady = net.setupNetwork(networkSpec, runtimeDir(), rec.id, cfg.ports, { joined: joined && { nsPath: joined.nsPath }, bridge, userns: maps }).then((n) => { network = n; return n; });
  networkReady.catch(() => undefined); // its failure is met where it is awaited, not as an unhandled rejection meanwhile
  const undo = async () => {
    try { await network?.teardown(); } catch { /* best effort */ }
    unmountContainer(dir);
  };
  try {
    const [{ confinementSpec, defaultUser, sharesShm, shmDir, reachableByContainerRoot, addKeepIdUser }, { containerLowers, toHost }] = await Promise.all([import('./confine.js'), import('../storage/mapped.js')]);
    // A user namespace of the container's own sees the layers through copies with its owners (mapped.ts).
    // ...unless fuse-overlayfs shifts them as it serves them.
    const storage = cfg.storage ?? { name: 'overlay' as const };
    const fuseShift = ownUserns && storage.name === 'fuse-overlayfs';
    const lowers = containerLowers(store, img.layers, fuseShift ? undefined : confined);
    if (ownUserns) reachableByContainerRoot(store, rec.id, ownUserns.uid);
    mountRoot({ storeRoot: store.root, lowers, upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), target: rootfs, rootless, volatile: !!rec.autoRemove || !!rec.config?.volatileRoot, driver: storage, idMaps: fuseShift ? ownUserns : undefined });
    mark('start: overlay mounted');
    if (sharesShm(confined)) {
      fs.mkdirSync(shmDir(store, rec.id), { recursive: true });
      mountShm(shmDir(store, rec.id), confined?.shmSize);
    }
    if (ownUserns) fs.chownSync(path.join(dir, 'upper'), toHost(ownUserns.uid, 0), toHost(ownUserns.gid, 0));
    linkMtab(rootfs, toHost(ownUserns?.uid ?? [], 0), toHost(ownUserns?.gid ?? [], 0));
    addKeepIdUser(rootfs, confined, { user: cfg.user, workdir: cfg.workdir ?? (imageCfg.WorkingDir || '/'), volumes: (cfg.volumes ?? []).map((v) => v.destination), owner: { uid: toHost(ownUserns?.uid ?? [], 0), gid: toHost(ownUserns?.gid ?? [], 0) } });
    const user = resolveUser(rootfs, cfg.user ?? defaultUser(confined) ?? imageCfg.User);
    const groupAdd = (confined?.groupAdd ?? []).filter((g) => g !== 'keep-groups');
    if (groupAdd.length) user.additionalGids = [...new Set([...user.additionalGids, ...resolveGroups(rootfs, groupAdd)])];
    // Sharing another's UTS namespace (a pod's member) is having its hostname.
    const utsOwner = confined?.uts?.startsWith('container:') ? store.readContainer(confined.uts.slice('container:'.length)) : undefined;
    const hostname = cfg.hostname ?? utsOwner?.config?.hostname ?? (networkMode === 'host' ? os.hostname() : rec.id.slice(0, 12));
    // Defaults, then the image's Env, then --env-file and -e: later ones win.
    const defaults = [`PATH=${DEFAULT_PATH}`, 'container=podman', `HOSTNAME=${hostname}`, `HOME=${user.home}`, 'TERM=xterm', ...listenEnv(), ...(cfg.systemd ? [`container_uuid=${rec.id.slice(0, 32)}`] : [])];
    // --unsetenv drops defaults and the image's variables by name, --unsetenv-all all of them; -e still applies.
    const kept = (list: string[]) => (cfg.unsetenvAll ? [] : list.filter((e) => !cfg.unsetenv?.includes(e.split('=')[0])));
    const env = mergeEnv(mergeEnv(kept(defaults), kept(imageCfg.Env ?? [])), cfg.env);
    const cwd = cfg.workdir ?? (imageCfg.WorkingDir || '/');
    // The image's working directory is made when missing; one given with -w must exist, or be a
    // volume (or hold one), as in Podman.
    // What start itself makes in the root or a volume is owned as the container's user sees it.
    const owner = ownUserns ? { uid: toHost(ownUserns.uid, user.uid), gid: toHost(ownUserns.gid, user.gid) } : { uid: user.uid, gid: user.gid };
    if (cfg.workdir === undefined) mkdirInRoot(rootfs, cwd, owner.uid, owner.gid);
    else if (!fs.existsSync(resolveInRoot(rootfs, cwd)) && !(cfg.volumes ?? []).some((v) => v.destination === cwd || v.destination.startsWith(`${cwd.replace(/\/$/, '')}/`))) {
      throw new TspodError('E_WORKDIR', `workdir "${cwd}" does not exist on container ${rec.id}`, { exitCode: EXIT_CANNOT_INVOKE, hint: 'create it in the image, or mount a volume there' });
    }
    // Podman's marker that processes are in a container: empty, unless privileged (as Podman), when
    // it says which engine, container and image (toolbox and distrobox read it).
    fs.writeFileSync(path.join(userdata, 'containerenv'), cfg.confinement?.privileged
      ? `engine="tspod-${packageVersion()}"\nname="${rec.name}"\nid="${rec.id}"\nimage="${rec.imageName}"\nimageid="${rec.imageId}"\nrootless=${rootless ? 1 : 0}\n` : '');
    await checkExecutable(rootfs, rec.command[0], env, cwd);
    const volumes = await volumeSpecMounts(store, rec, rootfs, owner);
    // --sdnotify=container: systemd's socket, where the container's own process tells it READY.
    if (cfg.notifySocket) {
      volumes.push({ destination: NOTIFY_IN_CONTAINER, type: 'bind', source: cfg.notifySocket, options: ['bind', 'rw'] });
      env.push(`NOTIFY_SOCKET=${NOTIFY_IN_CONTAINER}`);
    }
    if (cfg.secrets?.length) {
      // Each secret's data as it is now: a file of the container's own, bound read-only; or a variable.
      const { secretData } = await import('./secrets.js');
      const secretDir = path.join(userdata, 'secrets');
      fs.rmSync(secretDir, { recursive: true, force: true });
      fs.mkdirSync(secretDir, { mode: 0o711 });
      for (const s of cfg.secrets) {
        const data = secretData(store, s);
        if (s.type === 'env') { env.push(`${s.target}=${data.toString('utf8')}`); continue; }
        const file = path.join(secretDir, s.id);
        fs.writeFileSync(file, data, { mode: 0o600 });
        fs.chownSync(file, toHost(ownUserns?.uid ?? [], s.uid), toHost(ownUserns?.gid ?? [], s.gid));
        fs.chmodSync(file, s.mode);
        volumes.push({ destination: s.target, type: 'bind', source: file, options: ['bind', 'ro', 'rprivate', 'nosuid', 'nodev', 'noexec'] });
      }
    }
    mark('start: user, env, workdir, executable, volumes resolved');
    fs.mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
    const conf = (await import('../config.js')).containersConf();
    const ready = await networkReady;
    mark(`start: network ${networkMode} started`);
    if (joined) fs.writeFileSync(path.join(userdata, 'hostname'), `${hostname}\n`);
    const etcFiles: Record<string, string> = joined ? { ...joined.etcFiles, '/etc/hostname': path.join(userdata, 'hostname'), '/run/.containerenv': path.join(userdata, 'containerenv') } : { ...net.writeEtcFiles(userdata, ready, hostname, rec.name, {
      dnsServers: cfg.dns ?? conf.dnsServers, dnsSearches: cfg.dnsSearch ?? conf.dnsSearches, dnsOptions: cfg.dnsOption ?? conf.dnsOptions,
      addHosts: cfg.addHost, noHosts: cfg.noHosts ?? conf.noHosts, baseHostsFile: conf.baseHostsFile, hostGatewayIp: conf.hostContainersInternalIp,
    }), '/run/.containerenv': path.join(userdata, 'containerenv') };
    // A pod's member finds itself by name, as Podman adds it to the pod's /etc/hosts: the infra's, and its own line.
    if (joined && rec.pod && joined.etcFiles['/etc/hosts']) {
      let hosts = '';
      try { hosts = fs.readFileSync(joined.etcFiles['/etc/hosts'], 'utf8'); } catch { /* none */ }
      fs.writeFileSync(path.join(userdata, 'hosts'), `${hosts}${hosts && !hosts.endsWith('\n') ? '\n' : ''}127.0.0.1\t${rec.name}\n`);
      etcFiles['/etc/hosts'] = path.join(userdata, 'hosts');
    }
    if (cfg.tz !== undefined) etcFiles['/etc/localtime'] = zoneFile(cfg.tz);
    if (cfg.hostUsers?.length) {
      // --hostuser: the image's /etc/passwd with the host's accounts added, over the image's.
      let passwd = '';
      try { passwd = fs.readFileSync(resolveInRoot(rootfs, '/etc/passwd'), 'utf8'); } catch { /* none in the image */ }
      const names = new Set(passwd.split('\n').map((l) => l.split(':')[0]));
      const added = cfg.hostUsers.filter((l) => !names.has(l.split(':')[0]));
      fs.writeFileSync(path.join(userdata, 'passwd'), `${passwd}${passwd && !passwd.endsWith('\n') ? '\n' : ''}${added.map((l) => `${l}\n`).join('')}`);
      etcFiles['/etc/passwd'] = path.join(userdata, 'passwd');
    }
    const spec = buildSpec({
      rootfs, readOnly: !!cfg.readOnly, args: rec.command, env, cwd, uid: user.uid, gid: user.gid, additionalGids: user.additionalGids,
      terminal: !!cfg.tty, consoleSize: attach && cfg.tty ? await terminalSize() : undefined, hostname, volumes,
      network: ready.nsPath ? { path: ready.nsPath } : networkMode === 'host' ? 'host' : 'new', etcFiles, rootless, annotations: cfg.annotations,
      ...confinementSpec(store, rec, { networkMode, rootless, usernsPath: ready.nsPath && maps ? (await import('../net/netns.js')).usernsFileOf(ready.nsPath) : undefined }),
    });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
    mark('start: spec written');
    return { rt, stateRoot, dir, rootfs, userdata, network: ready, undo };
  } catch (e) {
    // A network that failed tore itself down; one still coming up is waited for, then taken down.
    await networkReady.catch(() => undefined);
    await undo();
    throw e;
  }
}

const NOTIFY_IN_CONTAINER = '/run/notify/notify.sock';

/**
 * Socket activation passes through, as with Podman: under a unit systemd gave sockets (LISTEN_FDS),
 * the container's process is told of them as their owner (LISTEN_PID=1) and gets them from fd 3.
 */
function listenEnv(): string[] {
  const n = listenFdCount();
  if (!n) return [];
  return ['LISTEN_PID=1', `LISTEN_FDS=${n}`, ...(process.env.LISTEN_FDNAMES !== undefined ? [`LISTEN_FDNAMES=${process.env.LISTEN_FDNAMES}`] : [])];
}

/** LISTEN_FDS as a count, 0 when unset or not one. */
function listenFdCount(): number {
  const n = Number(process.env.LISTEN_FDS);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** What follows a container's start, detached or attached: its health checks scheduled, its event recorded. */
async function started(store: Store, rec: ContainerRecord): Promise<void> {
  if (rec.config?.healthcheck) await (await import('./health.js')).scheduleHealthchecks(store, rec);
  (await import('./events.js')).containerEvent(rec, 'start');
}

/** How many of the LISTEN_FDS descriptors (from 3 on) this process really has open. */
function openListenFds(): number | undefined {
  const n = listenFdCount();
  let open = 0;
  while (open < n) { try { fs.fstatSync(3 + open); open++; } catch { break; } }
  return open || undefined;
}

/**
 * Start a created or exited container. Attached: returns its exit code once it ends (restarting it
 * first as its policy says). Detached: returns undefined as soon as conmon reports it started.
 */
export async function startContainer(store: Store, ref: ContainerRecord, o: StartOptions = {}): Promise<number | undefined> {
  let lastExit: number | undefined;
  // A pod's member needs the infra that holds its namespaces running.
  if (ref.pod) await (await import('./pods.js')).ensureInfraRunning(store, ref);
  for (;;) {
    // An ended container that nobody has cleaned up yet still holds its mounts.
    await settleEnded(store, ref.id);
    const prepared = await withContainer(store, ref.id, async (rec) => {
      if (rec.state === 'running') throw new TspodError('E_CONTAINER_RUNNING', `container ${rec.name} is already running`, { hint: `stop it first (tspod stop ${rec.name}), or use tspod restart` });
      if (o.byPolicy && rec.stoppedByUser) return null;
      const runId = crypto.randomBytes(8).toString('hex');
      // Marked before the first mount: if this process is killed before the record says who
      // watches the container, the next ps, rm or cleanup finds the mark and undoes the start.
      store.writeContainer({ ...rec, starting: runId });
      const back = { ...rec, state: rec.state === 'restarting' ? 'exited' as const : rec.state };
      let p: Prepared;
      try { p = await prepare(store, rec, !!o.attach); } catch (e) { store.writeContainer(back); throw e; }
      // With a terminal, conmon owns the pty even in the foreground, as with Podman: the runtime's
      // own foreground pty copies only to a terminal of ours and leaves out the \r before \n.
      const viaConmon = !o.attach || (!!rec.config?.tty && !o.preserveFds);
      const next: ContainerRecord = { ...rec, stoppedByUser: false, network: p.network.state, detached: viaConmon, attachedPid: o.attach && viaConmon ? process.pid : undefined, exitCode: undefined, finishedAt: undefined, runId, starting: runId };
      if (viaConmon) {
        let sock: number | undefined;
        // Where this run's output starts in the log: what conmon loses on the terminal is replayed from there.
        let logStart = 0;
        try { logStart = fs.statSync(path.join(p.userdata, 'ctr.log')).size; } catch { /* no log yet */ }
        try {
          await launchDetached(store, next, p, o.attach ? async () => { sock = await (await import('./attach.js')).connectAttach(store, next); } : o.beforeStart && (() => o.beforeStart!(next)));
        } catch (e) {
          if (sock !== undefined) fs.closeSync(sock);
          await p.undo();
          (await import('../runtime/oci.js')).deleteContainer(p.rt, p.stateRoot, rec.id);
          store.writeContainer(back);
          throw e;
        }
        await started(store, next);
        return sock === undefined ? null : { attachSock: sock as number, runId, logStart };
      }
      try { await p.network.up; } catch (e) { await p.undo(); store.writeContainer(back); throw e; }
      mark(`start: network up`);
      store.writeContainer({ ...next, starting: undefined, state: 'running', startedAt: new Date().toISOString(), monitorPid: process.pid });
      await started(store, next);
      return { ...p, runId };
    });
    if (prepared === undefined) {
      if (o.byPolicy) return lastExit;
      throw containerGone(ref.name);
    }
    if (prepared === null) return lastExit;
    if ('attachSock' in prepared && prepared.attachSock !== undefined) {
      const { pumpAttach } = await import('./attach.js');
      const ended = await pumpAttach(store, ref, prepared.attachSock, { stdin: !!o.interactive, sigProxy: false, out: { stdout: process.stdout, stderr: process.stderr }, replayFrom: prepared.logStart });
      // Detached with Ctrl-P Ctrl-Q: it runs on, and its cleanup removes it (--rm) once we are gone.
      if (!ended) return undefined;
      const { waitContainer, removeContainer } = await import('./lifecycle.js');
      await waitContainer(store, ref);
      const after = await afterExit(store, ref.id, { runId: prepared.runId, runtimeDelete: true });
      const exitCode = after.rec?.exitCode ?? EXIT_TSPOD;
      if (!after.restart) {
        if (ref.autoRemove) await removeContainer(store, ref, { force: true, volumes: true });
        return exitCode;
      }
      lastExit = exitCode;
      o = { ...o, byPolicy: true };
      await sleep(restartDelay(after.rec!.restartCount ?? 1));
      continue;
    }

    const { runForeground, runtimeError, deleteContainer } = await import('../runtime/oci.js');
    const logFile = path.join(prepared.userdata, 'runtime.log');
    fs.rmSync(logFile, { force: true });
    fs.rmSync(path.join(prepared.userdata, 'pidfile'), { force: true });
    const cfg = ref.config;
    const result = await runForeground(prepared.rt, prepared.stateRoot, prepared.dir, ref.id, {
      stdin: !!o.interactive, logFile, pidFile: path.join(prepared.userdata, 'pidfile'),
      // With a terminal the runtime owns the pty and our terminal: nothing passes through to log.
      attach: o.streams, preserveFds: o.preserveFds ?? openListenFds(), timeoutSec: cfg?.timeout,
      containerLog: cfg?.tty || cfg?.logDriver === 'none' ? undefined : { path: path.join(prepared.userdata, 'ctr.log'), maxSize: cfg?.logSizeMax },
    });
    mark(`start: ${prepared.rt.name} run returned`);
    // Killed by --timeout: -1, as conmon reports it.
    const exitCode = result.timedOut ? -1 : result.signal ? 128 + (signals[result.signal] ?? 0) : result.exitCode ?? EXIT_TSPOD;
    // A runtime that failed before the container's process existed (no pid file) failed itself,
    // whatever its status: Podman's "OCI runtime error".
    const failure = exitCode === 0 ? undefined : runtimeError(logFile)
      ?? (fs.existsSync(path.join(prepared.userdata, 'pidfile')) ? undefined : `the runtime exited with status ${exitCode} before starting the container`);
    if (failure) deleteContainer(prepared.rt, prepared.stateRoot, ref.id);
    const after = await afterExit(store, ref.id, { runId: prepared.runId, exitCode, userStop: result.interrupted, noRestart: !!failure });
    if (failure) {
      // Podman's statuses for runtime errors: 127 not found, else 126.
      const code = /not found|no such file/i.test(failure) ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE;
      const hint = /hybrid mode/.test(failure) ? `${prepared.rt.name} does not support this machine's cgroup v1 hybrid mode; use --runtime runc`
        : 'see the runtime\'s message above; `tspod --log-level debug run ...` shows more';
      throw Object.assign(new RuntimeError(`${prepared.rt.name}: ${failure}`, { exitCode: code, hint }), { runtimeStatus: exitCode });
    }
    if (!after.restart) return exitCode;
    lastExit = exitCode;
    // From here on it is the policy that starts it: a stop meanwhile wins.
    o = { ...o, byPolicy: true };
    await sleep(restartDelay(after.rec!.restartCount ?? 1));
  }
}

/** Hand the container to conmon, start it, and record who watches it. Called under the container's lock. */
async function launchDetached(store: Store, rec: ContainerRecord, p: Prepared, beforeStart?: () => Promise<void>): Promise<void> {
  const [{ startConmon }, { runtimeCommand }] = await Promise.all([import('../runtime/conmon.js'), import('../runtime/oci.js')]);
  const exitDir = path.join(p.userdata, 'exits');
  fs.rmSync(exitDir, { recursive: true, force: true });
  fs.mkdirSync(exitDir, { recursive: true });
  store.writeContainer(rec);
  await startConmon({
    runtime: p.rt, stateRoot: p.stateRoot, bundle: p.dir, id: rec.id, name: rec.name,
    pidFile: path.join(p.userdata, 'pidfile'), conmonPidFile: path.join(p.userdata, 'conmon.pid'), exitDir,
    logPath: rec.config?.logDriver === 'none' ? undefined : path.join(p.userdata, 'ctr.log'), logSizeMax: rec.config?.logSizeMax, terminal: !!rec.config?.tty, stdin: !!rec.config?.interactive, stdinOnce: rec.config?.stdinOnce, timeoutSec: rec.config?.timeout,
    exitCommand: [launcher(), 'container', 'cleanup', '--run', rec.runId!, rec.id],
  });
  const monitorPid = Number(fs.readFileSync(path.join(p.userdata, 'conmon.pid'), 'utf8'));
  // The network helper came up while conmon had the runtime create the container.
  await p.network.up;
  mark('start: created, network up');
  await beforeStart?.();
  const r = await runtimeCommand(p.stateRoot, ['start', rec.id], p.rt);
  if (r.status !== 0) throw new RuntimeError(`${p.rt.name} start failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  store.writeContainer({ ...rec, starting: undefined, monitorPid, state: 'running', startedAt: new Date().toISOString() });
}

/** Docker's rules: a user's stop wins; on-failure counts its retries. */
function shouldRestart(rec: ContainerRecord): boolean {
  const policy = rec.config?.restart;
  if (!policy || policy.name === 'no' || rec.stoppedByUser) return false;
  if (policy.name === 'on-failure') return rec.exitCode !== 0 && (policy.maxRetries === undefined || (rec.restartCount ?? 0) < policy.maxRetries);
  return true;
}

/** 100 ms, doubling per restart, at most 10 s: a crash loop does not eat the machine. */
const restartDelay = (count: number) => Math.min(100 * 2 ** Math.max(0, count - 1), 10_000);

/**
 * After the container's process ended: record the exit, free its network and mounts, and decide
 * whether its restart policy brings it back. A --rm container is removed. Done once: whoever comes
 * first (the watching tspod, conmon's exit command, or a stop, rm or start that sees the exit)
 * does it under the lock; the others find the record no longer running and leave it.
 */
async function afterExit(store: Store, id: string, o: { runId?: string; exitCode?: number; userStop?: boolean; noRestart?: boolean; runtimeDelete?: boolean }): Promise<{ rec?: ContainerRecord; restart: boolean }> {
  const release = await store.lockContainerAsync(id);
  if (!release) return { restart: false };
  let rec: ContainerRecord | undefined;
  let restart = false;
  try {
    const before = store.readContainer(id);
    if (!before || before.state !== 'running' || (o.runId && before.runId !== o.runId)) return { rec: before, restart: false };
    const [{ teardownNetwork }, { unmountContainer }, { findRuntime, deleteContainer }] = await Promise.all([
      import('../net/slirp/network.js') as Promise<Net>, import('../runtime/rootfs.js'), import('../runtime/oci.js')]);
    rec = {
      ...before, state: 'exited', exitCode: o.exitCode ?? exitFileCode(store, id) ?? before.exitCode, finishedAt: new Date().toISOString(),
      stoppedByUser: before.stoppedByUser || o.userStop, monitorPid: undefined,
    };
    try { if (before.network) await teardownNetwork(before.network as import('../net/slirp/network.js').NetworkState); } catch { /* best effort */ }
    mark('exit: network down');
    unmountContainer(store.containerDir(id));
    mark('exit: unmounted');
    if (o.runtimeDelete) { try { deleteContainer(findRuntime(before.config?.runtime), runcStateRoot(), id); } catch { /* no runtime state */ } }
    restart = !o.noRestart && shouldRestart(rec);
    if (restart) Object.assign(rec, { state: 'restarting', restartCount: (before.restartCount ?? 0) + 1, monitorPid: process.pid });
    store.writeContainer(rec);
  } finally {
    release();
  }
  (await import('./events.js')).containerEvent(rec, 'died', { containerExitCode: String(rec.exitCode ?? 0) });
  if (rec.config?.healthcheck) await (await import('./health.js')).unscheduleHealthchecks(rec);
  if (rec.pod && !restart) await (await import('./pods.js')).applyExitPolicy(store, rec);
  // An attached run removes it itself once it has read the exit code, unless it is gone.
  if (rec.autoRemove && !restart && !(rec.attachedPid && rec.attachedPid !== process.pid && processAlive(rec.attachedPid))) {
    const { removeContainer } = await import('./lifecycle.js');
    // --rm takes the anonymous volumes along, as in Docker and Podman.
    await removeContainer(store, rec, { force: true, volumes: true });
  }
  return { rec, restart };
}

/**
 * A command that finds a container ended (its record still says running, but conmon's exit file
 * or its watcher's death says otherwise) cleans up after it at once, without its restart policy.
 */
export async function settleEnded(store: Store, id: string): Promise<void> {
  if (store.readContainer(id)?.state !== 'running' || current(store, id)?.state !== 'exited') return;
  await afterExit(store, id, { runtimeDelete: true, noRestart: true });
}

/** Run by conmon when a detached container ends: record the exit, free its mounts and network, restart it if its policy says so. */
export async function cleanupContainer(store: Store, id: string, runId?: string): Promise<void> {
  const { rec, restart } = await afterExit(store, id, { runId, runtimeDelete: true });
  if (!rec || !restart) return;
  await sleep(restartDelay(rec.restartCount ?? 1));
  await startContainer(store, rec, { byPolicy: true });
}

/** Tell a Type=notify unit that the container's conmon is its main process, and that it is ready unless the container says so itself. */
export async function notifySystemd(store: Store, id: string, socket: string, ready: boolean): Promise<void> {
  const monitor = fs.readFileSync(path.join(store.containerDir(id), 'userdata/conmon.pid'), 'utf8').trim();
  (await import('../sys/index.js')).sdNotify(socket, `MAINPID=${monitor}\n${ready ? 'READY=1\n' : ''}`);
}

/** run = create + start, attached unless -d. A container that never started is removed if --rm was given. */
export async function runContainer(store: Store, opts: RunOptions): Promise<RunReport> {
  mark('run: engine start');
  // systemd's socket is tspod's to answer (--sdnotify), never the runtime's or conmon's to find in their environment.
  const notifySocket = process.env.NOTIFY_SOCKET;
  delete process.env.NOTIFY_SOCKET;
  const sdnotify = opts.sdnotify ?? 'conmon';
  if (!['conmon', 'container', 'ignore'].includes(sdnotify)) throw new TspodError('E_USAGE', `--sdnotify ${sdnotify}: give conmon, container or ignore`, { hint: 'conmon: READY once the container runs; container: the container says READY itself; ignore: nothing' });
  // With container, the container's process reaches systemd's socket, mounted in: only a path can be.
  const toContainer = sdnotify === 'container' && notifySocket ? notifySocket : undefined;
  if (toContainer && !toContainer.startsWith('/')) throw new TspodError('E_USAGE', `--sdnotify=container: NOTIFY_SOCKET ${toContainer} is not a path, so it cannot be mounted into the container`, { hint: 'use --sdnotify=conmon' });
  const rec = await createContainer(store, { ...opts, notifySocket: toContainer, sdNotifyMode: sdnotify });
  const streams = opts.attach?.length ? { stdout: opts.attach.includes('stdout'), stderr: opts.attach.includes('stderr') } : undefined;
  try {
    const exitCode = await startContainer(store, rec, { attach: !opts.detach, interactive: (!!opts.interactive || !!opts.tty) && (!opts.attach?.length || opts.attach.includes('stdin')), streams, preserveFds: opts.preserveFds });
    if (opts.conmonPidFile && opts.detach) fs.copyFileSync(path.join(store.containerDir(rec.id), 'userdata/conmon.pid'), opts.conmonPidFile);
    // --sdnotify=conmon under a Type=notify unit: ready once the container runs, its monitor the unit's main process.
    // With container: conmon is the main process, and READY is the container's to say.
    if (notifySocket && opts.detach && sdnotify !== 'ignore') await notifySystemd(store, rec.id, notifySocket, sdnotify === 'conmon');
    return { id: rec.id, name: rec.name, exitCode: exitCode ?? 0 };
  } catch (e) {
    if (opts.rm) {
      const { removeContainer } = await import('./lifecycle.js');
      try { await removeContainer(store, rec, { force: true, volumes: true }); } catch { /* best effort */ }
    }
    throw e;
  }
}
