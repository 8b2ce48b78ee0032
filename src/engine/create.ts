// create: resolve the image (pulling it if asked), claim a name, and write the container's record
// and directories. Nothing is mounted and nothing runs until `start`.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { TspodError, ImageNotFoundError, UsageError, EXIT_TSPOD } from '../errors.js';
import type { Store, ContainerRecord, ImageRecord, RestartPolicy, VolumeMount } from '../storage/store.js';
import { findImage, pullImage, type PullOptions } from './images.js';
import { generateName } from './names.js';
import { containerArgs, parseEnv, readEnvFile, type ImageConfig } from './process.js';
import { NAME_PATTERN } from './containers.js';
import { parseVolumeFlags, imageVolumes } from './volumes.js';
import { parseLabels } from './labels.js';
import { mark } from '../trace.js';

export interface CreateOptions {
  image: string;
  command: string[];
  name?: string;
  rm?: boolean;
  env?: string[];
  envFiles?: string[];
  workdir?: string;
  user?: string;
  /** the entrypoint's words ([] clears the image's) */
  entrypoint?: string[];
  hostname?: string;
  network?: string;
  /** --ip, --network-alias: on user networks */
  ip?: string;
  networkAliases?: string[];
  readOnly?: boolean;
  interactive?: boolean;
  /** Docker's StdinOnce (the API's docker run -i): stdin closes with the attached client's input */
  stdinOnce?: boolean;
  tty?: boolean;
  /** KEY=VALUE labels, as --label */
  labels?: string[];
  /** rotate the detached log at this many bytes (--log-opt max-size) */
  logSizeMax?: number;
  /** no, always, unless-stopped, on-failure[:N] */
  restart?: string;
  /** -v SOURCE:DEST[:ro], NAME:DEST, or DEST for an anonymous volume */
  volumes?: string[];
  pull?: 'always' | 'missing' | 'never';
  runtime?: string;
  pullOptions?: PullOptions;
  /** k8s-file (default) or none */
  logDriver?: string;
  /** seconds `stop` waits before SIGKILL when it is given no -t */
  stopTimeout?: number;
  /** --dns IP (or none), --dns-search DOMAIN, --dns-option OPT */
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  /** --add-host NAME:IP */
  addHost?: string[];
  /** --no-hosts */
  noHosts?: boolean;
  /** --http-proxy (default true): the caller's proxy variables go into the container */
  httpProxy?: boolean;
  /** --env-host: the whole environment of tspod's caller, under --env-file and -e */
  envHost?: boolean;
  /** --volumes-from CONTAINER[:ro|rw]: that container's volumes and bind mounts, at the same places */
  volumesFrom?: string[];
  /** the build process this container is a RUN step of */
  builderPid?: number;
  /** overlay's volatile for a container nothing needs after a crash (build's RUN) */
  volatileRoot?: boolean;
  /** false for build's RUN: the image's VOLUMEs get no anonymous volumes, so what RUN writes there lands in the layer */
  imageVolumes?: boolean;
  /** -p/--publish [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO] */
  publish?: string[];
  /** -P: every exposed port on a free host port */
  publishAll?: boolean;
  /** --expose PORT[/PROTO] */
  expose?: string[];
  /** the warning for ports a network mode discards */
  onWarning?: (message: string) => void;
  /** --timeout: seconds the container may run before it is killed */
  timeout?: number;
  /** --stop-signal */
  stopSignal?: string;
  /** --replace: a container holding the name is removed first */
  replace?: boolean;
  /** --cidfile: the new id is written there; an existing file is an error */
  cidFile?: string;
  /** --tmpfs PATH[:OPTIONS] */
  tmpfs?: string[];
  /** --unsetenv NAME (repeatable), --unsetenv-all */
  unsetenv?: string[];
  unsetenvAll?: boolean;
  /** --tz ZONE or local */
  tz?: string;
  /** --cap-add, --security-opt, --userns, --memory...: checked whole by confine.ts */
  confinement?: import('./confine.js').ConfinementFlags;
  /** tspod's arguments as given (run or create ...), kept for generate systemd --new */
  createCommand?: string[];
  /** --pod NAME|ID|new:NAME: the pod to join (its infra's namespaces), made first with new: */
  pod?: string;
  /** --secret NAME[,type=mount|env][,target=...] */
  secrets?: string[];
  /** --hostuser: host accounts (names or uids) added to the container's /etc/passwd */
  hostUsers?: string[];
  /** --annotation KEY=VALUE */
  annotations?: Record<string, string>;
  /** --health-cmd, --health-interval, ..., --no-healthcheck */
  health?: import('./health.js').HealthFlags;
  /** run --sdnotify=container: systemd's NOTIFY_SOCKET, mounted into the container */
  notifySocket?: string;
  /** run --sdnotify as given (inspect's SdNotifyMode) */
  sdNotifyMode?: string;
  /** --systemd true (when the command is an init), always, or false: run systemd inside as it expects */
  systemd?: string;
}

async function ensureImage(store: Store, opts: CreateOptions): Promise<ImageRecord> {
  // An archive (docker-archive:FILE, oci-archive:FILE) is read each time, as Podman does: a pull of it.
  const policy = /^(docker-archive|oci-archive):/.test(opts.image) ? 'always' : opts.pull ?? 'missing';
  let img = policy === 'always' ? undefined : await findImage(store, opts.image);
  if (!img) {
    if (policy === 'never') throw new ImageNotFoundError(opts.image);
    const report = await pullImage(store, opts.image, opts.pullOptions);
    img = store.readImages().find((i) => i.id === report.id);
    if (!img) throw new ImageNotFoundError(opts.image);
  }
  return img;
}

/** The image's name the user meant (an image may have several), as Podman records it; the first when given an id. */
function nameAsGiven(img: ImageRecord, input: string): string {
  const tagged = /:[\w][\w.-]*$/.test(input.slice(input.lastIndexOf('/') + 1)) ? input : `${input}:latest`;
  return img.names.find((n) => n === tagged || n.endsWith(`/${tagged}`)) ?? img.names[0] ?? img.id;
}

/** The file a --tz names: the host's /etc/localtime for "local", else the zone from the host's zoneinfo. */
export function zoneFile(tz: string): string {
  const file = tz === 'local' ? '/etc/localtime' : path.join('/usr/share/zoneinfo', tz);
  if (tz.includes('..') || !fs.existsSync(file)) throw new TspodError('E_USAGE', `running container create option: finding timezone: unknown time zone ${tz}`, { hint: 'give a zone from /usr/share/zoneinfo, e.g. Europe/Paris, or local' });
  return fs.realpathSync(file);
}

/** --hostuser NAME|UID: that account's line of the host's /etc/passwd. */
function hostPasswdLine(user: string): string {
  const lines = fs.readFileSync('/etc/passwd', 'utf8').split('\n');
  const line = lines.find((l) => { const [name, , uid] = l.split(':'); return name === user || uid === user; });
  if (!line) throw new TspodError('E_NO_USER', `user ${user} not found in the host's /etc/passwd`, { exitCode: 126 });
  return line;
}

/** --dns, --add-host and --no-hosts in Podman's words. */
function checkDnsAndHosts(opts: CreateOptions): void {
  const dnsError = (message: string, hint?: string) => new TspodError('E_USAGE', message, { hint });
  for (const d of opts.dns ?? []) {
    if (d !== 'none' && !net.isIP(d)) throw dnsError(`${d} is not an ip address`, 'give --dns an IPv4 or IPv6 address, or none');
  }
  if (opts.dns?.includes('none') && opts.dns.length > 1) throw dnsError('--dns none cannot be used with other --dns servers');
  for (const h of opts.addHost ?? []) {
    const i = h.indexOf(':');
    const [name, ip] = i < 0 ? [h, ''] : [h.slice(0, i), h.slice(i + 1)];
    if (!name || !ip) throw dnsError(`bad format for add-host: "${h}"`, 'use --add-host NAME:IP');
    if (ip !== 'host-gateway' && !net.isIP(ip)) throw dnsError(`invalid IP address in add-host: "${ip}"`, 'use --add-host NAME:IP, or NAME:host-gateway for the host');
  }
  if (opts.noHosts && opts.addHost?.length) throw dnsError('--no-hosts and --add-host cannot be set together');
}

const PROXY_VARS = ['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy'].flatMap((v) => [v, v.toUpperCase()]);

/** tspod's own variables of the caller's environment, which --env-host leaves behind. */
const HOST_ONLY_ENV = new Set(['TSPOD_EVENTS_BACKEND', 'TSPOD_HOST_UID', 'TSPOD_HOST_GID', 'TSPOD_LAUNCHER', 'TSPOD_TRACE', 'TSPOD_STORE', 'TSPOD_RUNTIME_DIR', 'TSPOD_DEFAULT_MOUNTS_FILE', 'NODE_EXTRA_CA_CERTS', 'TSPOD_EXTRA_CA_CERTS']);

/** The proxy settings of the caller's environment, which a container gets unless --http-proxy=false (as Podman). */
function proxyEnv(): string[] {
  return PROXY_VARS.filter((v) => process.env[v] !== undefined).map((v) => `${v}=${process.env[v]}`);
}

/** --restart as Docker spells it. */
export function parseRestartPolicy(value: string | undefined): RestartPolicy | undefined {
  if (value === undefined || value === '' || value === 'no') return undefined;
  const m = /^(always|unless-stopped|on-failure)(?::(\d+))?$/.exec(value);
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) throw new UsageError(`invalid --restart policy "${value}"`, 'use no, always, unless-stopped, or on-failure[:MAX_RETRIES]');
  return { name: m[1] as RestartPolicy['name'], maxRetries: m[2] === undefined ? undefined : Number(m[2]) };
}

/** --default-mounts-file: SOURCE:DESTINATION lines (Podman's mounts.conf), bind-mounted read-only where no mount of the container's own is. */
function defaultMounts(own: VolumeMount[]): VolumeMount[] {
  const file = process.env.TSPOD_DEFAULT_MOUNTS_FILE;
  if (!file) return [];
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    throw new TspodError('E_USAGE', `--default-mounts-file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  const taken = new Set(own.map((m) => m.destination));
  const out: VolumeMount[] = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const [source, destination] = line.split(':');
    if (!source?.startsWith('/') || !destination?.startsWith('/')) throw new TspodError('E_USAGE', `--default-mounts-file ${file}: "${line}" is not SOURCE:DESTINATION with absolute paths`);
    if (taken.has(destination) || !fs.existsSync(source)) continue;
    taken.add(destination);
    out.push({ type: 'bind', source, destination, readOnly: true });
  }
  return out;
}

/** The mounts --volumes-from brings: each container's volumes and binds (not tmpfs), unless a mount of its own is at that place. */
async function volumesFrom(store: Store, refs: string[], own: VolumeMount[]): Promise<VolumeMount[]> {
  const { findContainer } = await import('./containers.js');
  const out: VolumeMount[] = [];
  const taken = new Set(own.map((m) => m.destination));
  for (const ref of refs) {
    const [name, mode] = ref.split(':');
    if (mode !== undefined && !['ro', 'rw', 'z', 'Z'].includes(mode)) throw new UsageError(`--volumes-from ${ref}: "${mode}" is not an option`, 'use CONTAINER, CONTAINER:ro or CONTAINER:rw');
    const rec = findContainer(store, name);
    for (const v of rec.config?.volumes ?? []) {
      if (v.type === 'tmpfs' || taken.has(v.destination)) continue;
      taken.add(v.destination);
      // Shared, not owned: removing this container never removes the other's anonymous volume.
      out.push({ ...v, anonymous: false, readOnly: mode === 'ro' ? true : mode === 'rw' ? false : v.readOnly });
    }
  }
  return out;
}

export function validateName(name: string): void {
  if (!NAME_PATTERN.test(name)) throw new TspodError('E_USAGE', `invalid container name "${name}"`, { hint: 'names use [a-zA-Z0-9][a-zA-Z0-9_.-]*' });
}

export async function createContainer(store: Store, opts: CreateOptions): Promise<ContainerRecord> {
  store.init();
  if (opts.cidFile && fs.existsSync(opts.cidFile)) throw new TspodError('E_USAGE', `container id file exists. Ensure another container is not using it or delete ${opts.cidFile}`);
  if (opts.logDriver !== undefined && !['k8s-file', 'none'].includes(opts.logDriver)) {
    throw new TspodError('E_USAGE', `running container create option: invalid log driver: ${opts.logDriver === 'journald' ? 'journald is not available to tspod (no journal socket here)' : 'invalid argument'}`, { hint: opts.logDriver === 'journald' ? 'use k8s-file (the default) or none' : undefined });
  }
  if (opts.stopSignal !== undefined) (await import('./lifecycle.js')).parseSignal(opts.stopSignal);
  const conf = (await import('../config.js')).containersConf();
  const tz = opts.tz ?? conf.tz;
  if (tz !== undefined) zoneFile(tz);
  const hostUsers = (opts.hostUsers ?? []).map(hostPasswdLine);
  let podId: string | undefined;
  if (opts.pod) {
    // A member takes the namespaces its pod shares from the infra; the infra itself is created with the pod's id.
    const pods = await import('./pods.js');
    const isNew = opts.pod.startsWith('new:');
    const pod = isNew ? await pods.createPod(store, { name: opts.pod.slice(4), hostname: opts.hostname }) : pods.listPods(store).find((p) => p.id === opts.pod && !p.infraId) ?? pods.findPod(store, opts.pod);
    // new:NAME --hostname names the pod's host; the member has it through the shared UTS namespace.
    if (isNew) opts = { ...opts, hostname: undefined };
    podId = pod.id;
    if (pod.infraId) {
      const m = pods.memberOptions(store, pod.id);
      if (m.network && opts.network) throw new UsageError(`--network ${opts.network} cannot be set for a container in pod ${pod.name}: it shares the pod's network`, 'drop --network, or create the pod without sharing net');
      if (m.network && opts.publish?.length) throw new UsageError(`-p cannot be set for a container in pod ${pod.name}: publish ports on the pod (tspod pod create -p ...)`);
      const uts = opts.confinement?.uts ?? m.uts;
      if (opts.hostname && uts) throw new UsageError('invalid config provided: cannot set hostname when joining the pod UTS namespace: invalid configuration', `drop --hostname: the pod's (tspod pod create --hostname) is the member's`);
      opts = { ...opts, network: m.network ?? opts.network, confinement: { ...opts.confinement, ipc: opts.confinement?.ipc ?? m.ipc, uts, pid: opts.confinement?.pid ?? m.pid } };
    }
  }
  const { parseNetwork } = await import('../net/slirp/network.js');
  const { isRootless } = await import('../paths.js');
  const networkMode = parseNetwork(opts.network, isRootless()).mode;
  // The runtime as chosen (a name or a path, as Podman's inspect shows it), fixed for the container's life.
  const runtime = opts.runtime ?? process.env.TSPOD_RUNTIME ?? conf.runtime ?? (await import('../runtime/oci.js')).findRuntime().name;
  const { checkConfinement, resourcesApply } = await import('./confine.js');
  const confinement = checkConfinement(store, opts.confinement ?? {}, { network: networkMode, runtime, rootless: isRootless() });
  if (opts.confinement?.resources) resourcesApply(opts.confinement.resources, opts.onWarning ?? ((m) => process.stderr.write(`${m}\n`)));
  const driver = (await import('../storage/driver.js')).chooseDriver();
  const secrets = opts.secrets?.length ? (await import('./secrets.js')).parseSecretFlags(store, opts.secrets) : undefined;
  const restart = parseRestartPolicy(opts.restart);
  checkDnsAndHosts(opts);
  (await import('./autoupdate.js')).checkAutoUpdateImage(parseLabels(opts.labels ?? []), opts.image);
  if (restart && opts.rm) throw new UsageError('--rm conflicts with --restart', 'a container that is removed when it exits cannot be restarted: drop one of them');
  const mounts = parseVolumeFlags(opts.volumes ?? [], opts.tmpfs ?? []);
  if (opts.volumesFrom?.length) mounts.push(...await volumesFrom(store, opts.volumesFrom, mounts));
  mounts.push(...defaultMounts(mounts));
  // -e and --env-file are read now, as Docker does (a later change of the file does not matter),
  // and before any pull: a missing file is the user's mistake, found at once.
  const hostEnv = opts.envHost ? Object.entries(process.env).filter(([k]) => !HOST_ONLY_ENV.has(k)).map(([k, v]) => `${k}=${v}`) : [];
  const env = [...(opts.httpProxy === false ? [] : proxyEnv()), ...hostEnv, ...(opts.envFiles ?? []).flatMap(readEnvFile), ...parseEnv(opts.env ?? [])];
  const img = await ensureImage(store, opts);
  mark('create: image found');
  const imageCfg = (JSON.parse(store.readBlob(`sha256:${img.id}`).toString('utf8')) as ImageConfig).config ?? {};
  const { resolvePorts, exposedKeys } = await import('./ports.js');
  const imageExposed = Object.keys(imageCfg.ExposedPorts ?? {});
  let ports = opts.publish?.length || opts.publishAll ? await resolvePorts(opts.publish ?? [], { publishAll: opts.publishAll, expose: opts.expose, imageExposed }) : [];
  // As Podman: a network the container does not own has no ports of its own to publish.
  if (opts.network?.startsWith('container:')) {
    const { findContainer } = await import('./containers.js');
    opts = { ...opts, network: `container:${findContainer(store, opts.network.slice('container:'.length)).id}` };
  }
  if (ports.length && (['host', 'none'].includes(opts.network ?? '') || opts.network?.startsWith('container:') || opts.network?.startsWith('ns:'))) {
    opts.onWarning?.('Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use');
    ports = [];
  }
  const exposed = exposedKeys(opts.expose, imageExposed);
  const args = containerArgs(imageCfg, opts.command, opts.entrypoint);
  const healthcheck = (await import('./health.js')).healthConfig(opts.health ?? {}, (imageCfg as { Healthcheck?: Parameters<typeof import('./health.js').healthConfig>[1] }).Healthcheck);
  if (opts.systemd !== undefined && !['true', 'false', 'always'].includes(opts.systemd)) throw new UsageError(`--systemd ${opts.systemd}: give true, false or always`);
  // As Podman: systemd as pid 1 gets tmpfs where it writes, its stop signal, and container_uuid (at start).
  const systemdMode = opts.systemd === 'always' || ((opts.systemd ?? 'true') === 'true' && /^(\/usr)?\/sbin\/init$|(^|\/)systemd$/.test(args[0] ?? ''));
  if (systemdMode) {
    const given = new Set([...(opts.tmpfs ?? []).map((t) => t.split(':')[0]), ...mounts.map((m) => m.destination)]);
    mounts.push(...parseVolumeFlags([], ['/run', '/run/lock', '/tmp', '/var/log/journal'].filter((d) => !given.has(d))));
    opts = { ...opts, stopSignal: opts.stopSignal ?? 'RTMIN+3' };
  }
  if (args.length === 0) throw new TspodError('E_NO_COMMAND', 'no command given, and the image has no Cmd or Entrypoint', { hint: `give one: tspod run ${opts.image} /bin/sh` });
  if (opts.workdir !== undefined && !opts.workdir.startsWith('/')) throw new TspodError('E_USAGE', `the working directory "${opts.workdir}" is not absolute`, { hint: 'give -w an absolute path' });
  if (networkMode === 'bridge') {
    const { findNetwork } = await import('./networks.js');
    const names = opts.network!.split(',');
    for (const n of names) findNetwork(store, n, EXIT_TSPOD);
    if (new Set(names).size < names.length) throw new UsageError(`--network ${opts.network}: a network is named twice`, 'name each network once');
  } else if (opts.ip || opts.networkAliases?.length) {
    throw new UsageError(`${opts.ip ? '--ip' : '--network-alias'} is only for containers on user networks`, 'create one (tspod network create NAME) and give --network NAME');
  }
  if (opts.ip && !net.isIPv4(opts.ip)) throw new UsageError(`--ip ${opts.ip}: not an IPv4 address`, 'give one inside the network\'s subnet, e.g. --ip 10.89.0.10');

  const id = crypto.randomBytes(32).toString('hex');
  const dir = store.containerDir(id);
  // The directory comes locked, and the lock is held until the record is written: a directory
  // without a record whose lock is free was left by a killed create, and is swept.
  const release = store.makeContainerDir(id);
  let name = opts.name;
  let claimed = false;
  try {
    if (name !== undefined) {
      validateName(name);
      if (opts.replace && store.idForName(name)) {
        const { findContainer } = await import('./containers.js');
        const { removeContainer } = await import('./lifecycle.js');
        try { await removeContainer(store, findContainer(store, name), { force: true, timeoutSec: opts.stopTimeout ?? 10 }); } catch { /* gone meanwhile */ }
      }
      claimed = store.claimName(name, id) || (await import('./recover.js')).reclaimStaleName(store, name, id);
      if (!claimed) throw new TspodError('E_NAME_IN_USE', `the container name "${name}" is already in use`, { hint: `remove that container (tspod rm ${name}) or choose another name` });
    } else {
      do { name = generateName(); } while (!store.claimName(name, id));
      claimed = true;
    }
    const labels = parseLabels(opts.labels ?? []);
    // Created by a systemd unit: auto-update restarts that unit.
    if (process.env.PODMAN_SYSTEMD_UNIT && labels.PODMAN_SYSTEMD_UNIT === undefined && !opts.builderPid) labels.PODMAN_SYSTEMD_UNIT = process.env.PODMAN_SYSTEMD_UNIT;
    const rec: ContainerRecord = {
      id, name, imageId: img.id, imageName: nameAsGiven(img, opts.image), created: new Date().toISOString(), command: args, state: 'created', labels,
      autoRemove: !!opts.rm, ...(podId ? { pod: podId } : {}), ...(opts.createCommand ? { createCommand: opts.createCommand } : {}), ...(opts.builderPid ? { builderPid: opts.builderPid } : {}), stopSignal: opts.stopSignal ?? imageCfg.StopSignal,
      config: {
        env, entrypoint: opts.entrypoint ?? imageCfg.Entrypoint ?? undefined, user: opts.user, workdir: opts.workdir, hostname: opts.hostname, network: opts.network, ip: opts.ip, networkAliases: opts.networkAliases?.length ? opts.networkAliases : undefined, readOnly: opts.readOnly, tty: opts.tty,
        interactive: opts.interactive, stdinOnce: opts.stdinOnce || undefined, logSizeMax: opts.logSizeMax ?? (conf.logSizeMax !== undefined && conf.logSizeMax > 0 ? conf.logSizeMax : undefined), runtime, restart,
        volumes: [...mounts, ...(opts.imageVolumes === false ? [] : imageVolumes(imageCfg, mounts))],
        logDriver: opts.logDriver, stopTimeout: opts.stopTimeout, timeout: opts.timeout || undefined, ports: ports.length ? ports : undefined, exposed: exposed.length ? exposed : undefined, tz,
        dns: opts.dns?.length ? opts.dns : undefined, dnsSearch: opts.dnsSearch?.length ? opts.dnsSearch : undefined, dnsOption: opts.dnsOption?.length ? opts.dnsOption : undefined,
        addHost: opts.addHost?.length ? opts.addHost : undefined, noHosts: opts.noHosts || undefined, unsetenv: opts.unsetenv?.length ? opts.unsetenv : undefined, unsetenvAll: opts.unsetenvAll || undefined, hostUsers: hostUsers.length ? hostUsers : undefined, volatileRoot: opts.volatileRoot || undefined,
        confinement, secrets, healthcheck, notifySocket: opts.notifySocket, sdNotifyMode: opts.sdNotifyMode, systemd: systemdMode || undefined, annotations: opts.annotations && Object.keys(opts.annotations).length ? opts.annotations : undefined, storage: driver.name === 'overlay' ? undefined : { name: driver.name, mountProgram: driver.mountProgram },
      },
    };
    // The overlay root takes its mode from the upper dir: the top layer's, as if there were no upper
    // (an image whose / is 555 keeps it), and traversable by every container user.
    let rootMode = 0o755;
    try { if (img.layers.length) rootMode = (fs.statSync(store.diffDir(img.layers[img.layers.length - 1])).mode & 0o7777) | 0o111; } catch { /* default */ }
    fs.mkdirSync(path.join(dir, 'merged'), { mode: 0o755 });
    fs.mkdirSync(path.join(dir, 'upper'));
    fs.chmodSync(path.join(dir, 'upper'), rootMode);
    for (const d of ['work', 'userdata']) fs.mkdirSync(path.join(dir, d), { mode: 0o700 });
    const { ensureVolumes } = await import('./volumes.js');
    ensureVolumes(store, rec.config!.volumes!);
    store.writeContainer(rec);
    release();
    if (opts.cidFile) fs.writeFileSync(opts.cidFile, id, { flag: 'wx' });
    (await import('./events.js')).containerEvent(rec, 'create');
    mark('create: record written');
    return rec;
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    if (claimed && name !== undefined && store.idForName(name) === id) store.releaseName(name);
    release();
    throw e;
  }
}
