// create and run share every container flag; run adds -d and attaches otherwise.
import fs from 'node:fs';
import { Option } from '../kit.js';
import { TspodCommand, tlsVerifyFlag } from '../base.js';
import { UsageError } from '../../errors.js';
import type { CreateOptions } from '../../engine/create.js';
import { ResourceFlags } from './resource-flags.js';

abstract class ContainerFlags extends ResourceFlags {
  rm = Option.Boolean('--rm', false, { description: 'remove the container when it exits' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'keep stdin open' });
  tty = Option.Boolean('-t,--tty', false, { description: 'allocate a pseudo-terminal' });
  name = Option.String('--name', { description: 'the container name' });
  restart = Option.String('--restart', { description: 'no, always, unless-stopped or on-failure[:N]: applied by the container\'s monitor when it exits' });
  volume = Option.Array('-v,--volume', [], { description: 'HOST_PATH:PATH[:ro], NAME:PATH (a named volume) or PATH (an anonymous volume)' });
  volumesFrom = Option.Array('--volumes-from', [], { description: 'CONTAINER[:ro|rw]: mount that container\'s volumes at the same places' });
  logOpt = Option.Array('--log-opt', [], { description: 'max-size=SIZE (e.g. 10m): rotate a detached container\'s log' });
  label = Option.Array('-l,--label', [], { description: 'KEY=VALUE metadata, shown by inspect and matched by ps --filter label=' });
  env = Option.Array('-e,--env', [], { description: 'set environment variables (KEY=VALUE, or KEY to copy from the host)' });
  envFile = Option.Array('--env-file', [], { description: 'read environment variables from a file' });
  workdir = Option.String('-w,--workdir', { description: 'working directory inside the container' });
  user = Option.String('-u,--user', { description: 'USER[:GROUP], by name or id' });
  entrypoint = Option.String('--entrypoint', { description: 'override the image\'s entrypoint' });
  hostname = Option.String('-h,--hostname', { description: 'the container\'s hostname' });
  network = Option.String('--network,--net', { description: 'slirp4netns (default; pasta when ports are published), pasta, none, host, container:NAME, ns:PATH, or user networks NAME[,NAME...]' });
  ip = Option.String('--ip', { description: 'The container\'s IPv4 address on its (first) user network' });
  networkAlias = Option.Array('--network-alias', [], { description: 'Another name for the container on its user networks' });
  publish = Option.Array('-p,--publish', [], { description: 'Publish a container\'s port to the host: [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp], ranges as 8000-8001:80-81' });
  publishAll = Option.Boolean('-P,--publish-all', false, { description: 'Publish every exposed port (EXPOSE, --expose) on a free host port' });
  dns = Option.Array('--dns', [], { description: 'Set custom DNS servers (none: no /etc/resolv.conf)' });
  dnsSearch = Option.Array('--dns-search', [], { description: 'Set custom DNS search domains (.: none)' });
  dnsOption = Option.Array('--dns-option,--dns-opt', [], { description: 'Set custom DNS options' });
  addHost = Option.Array('--add-host', [], { description: 'Add a custom host-to-IP mapping (host:ip, or host:host-gateway)' });
  noHosts = Option.Boolean('--no-hosts', false, { description: 'Do not create /etc/hosts within the container, instead use the version from the image' });
  capAdd = Option.Array('--cap-add', [], { description: 'add capabilities (NAME, CAP_NAME, or ALL)' });
  capDrop = Option.Array('--cap-drop', [], { description: 'drop capabilities (NAME, CAP_NAME, or ALL)' });
  securityOpt = Option.Array('--security-opt', [], { description: 'seccomp=unconfined|PROFILE.json, no-new-privileges, label=disable' });
  ulimit = Option.Array('--ulimit', [], { description: 'NAME=SOFT[:HARD], e.g. nofile=1024:2048' });
  envHost = Option.Boolean('--env-host', false, { description: 'Use the host environment inside the container' });
  httpProxy = Option.Boolean('--http-proxy', true, { description: 'Pass the proxy variables of your environment (http_proxy, https_proxy, ftp_proxy, no_proxy) into the container' });
  expose = Option.Array('--expose', [], { description: 'Expose a port or range of ports (published by -P)' });
  readOnly = Option.Boolean('--read-only', false, { description: 'mount the root filesystem read-only (with tmpfs on /tmp, /var/tmp, /run)' });
  pull = Option.String('--pull', 'missing', { description: 'always, missing or never' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'require HTTPS and verified certificates when pulling' });
  platform = Option.String('--platform', { description: 'os/arch[/variant] to pull' });
  runtime = Option.String('--runtime', { description: 'the OCI runtime: runc, crun, or a path' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'say nothing while pulling the image' });
  logDriver = Option.String('--log-driver', { description: 'Logging driver for the container: k8s-file (default) or none' });
  replace = Option.Boolean('--replace', false, { description: 'If a container with the same name exists, replace it' });
  stopTimeout = Option.String('--stop-timeout', { description: 'Timeout (in seconds) that containers stopped by the user are given before SIGKILL (default 10)' });
  timeout = Option.String('--timeout', { description: 'Maximum time in seconds the container may run; then it is killed (exit code -1)' });
  stopSignal = Option.String('--stop-signal', { description: 'Signal to stop a container (default: the image\'s StopSignal, else SIGTERM)' });
  cidFile = Option.String('--cidfile', { description: 'Write the container ID to the file' });
  podIdFile = Option.String('--pod-id-file', { description: 'Join the pod whose id is in this file (pod create --pod-id-file)' });
  pod = Option.String('--pod', { description: 'Join a pod (NAME or ID), sharing its network, IPC and UTS; new:NAME makes it first' });
  secret = Option.Array('--secret', [], { description: 'NAME[,type=mount|env][,target=PATH][,uid=,gid=,mode=]: a secret (tspod secret create) at /run/secrets/NAME, or in a variable' });
  privileged = Option.Boolean('--privileged', false, { description: 'Every capability, no seccomp filter, the host\'s devices, nothing masked' });
  sysctl = Option.Array('--sysctl', [], { description: 'NAME=VALUE: a namespaced kernel parameter (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)' });
  shmSize = Option.String('--shm-size', { description: 'Size of /dev/shm, e.g. 64m (default 64m)' });
  readOnlyTmpfs = Option.Boolean('--read-only-tmpfs', true, { description: 'With --read-only, tmpfs on /tmp, /var/tmp and /run (default true)' });
  device = Option.Array('--device', [], { description: 'HOST_DEVICE[:CONTAINER_PATH][:PERMISSIONS]: a host device in the container' });
  groupAdd = Option.Array('--group-add', [], { description: 'Additional groups (names, gids, or keep-groups with crun)' });
  init = Option.Boolean('--init', false, { description: 'Run catatonit as pid 1: it forwards signals and reaps zombies' });
  initPath = Option.String('--init-path', { description: 'The init --init runs (default catatonit)' });
  pid = Option.String('--pid', { description: 'PID namespace: private (default), host, container:NAME, ns:PATH' });
  ipc = Option.String('--ipc', { description: 'IPC namespace: shareable (default), private, host, none, container:NAME, ns:PATH' });
  uts = Option.String('--uts', { description: 'UTS namespace: private (default), host, container:NAME, ns:PATH' });
  userns = Option.String('--userns', { description: 'User namespace: keep-id[:uid=,gid=] (you inside), nomap, auto[:size=N], host (default: tspod\'s own)' });
  uidmap = Option.Array('--uidmap', [], { description: 'CONTAINER_UID:HOST_UID:SIZE, HOST_UID counted in your user namespace (0 is you)' });
  gidmap = Option.Array('--gidmap', [], { description: 'CONTAINER_GID:HOST_GID:SIZE, as --uidmap' });
  unsetenv = Option.Array('--unsetenv', [], { description: 'Unset the default or image environment variable NAME' });
  unsetenvAll = Option.Boolean('--unsetenv-all', false, { description: 'Unset all default and image environment variables' });
  mount = Option.Array('--mount', [], { description: 'type=bind|volume|tmpfs,source=...,destination=...[,ro]: the long form of -v and --tmpfs' });
  tmpfs = Option.Array('--tmpfs', [], { description: 'Mount a temporary filesystem (tmpfs) at PATH[:OPTIONS], e.g. /cache:size=64m' });
  tz = Option.Array('--tz', [], { description: 'Set timezone in container: a zone such as Europe/Paris, or local (the host\'s /etc/localtime)' });
  healthCmd = Option.String('--health-cmd', { description: 'A command checking the container\'s health (a string for /bin/sh -c, or a JSON array), or none' });
  healthInterval = Option.String('--health-interval', { description: 'Time between checks, e.g. 30s (default), or disable' });
  healthRetries = Option.String('--health-retries', { description: 'Failures in a row that make it unhealthy (default 3)' });
  healthTimeout = Option.String('--health-timeout', { description: 'Time a check may take (default 30s)' });
  healthStartPeriod = Option.String('--health-start-period', { description: 'Time after start when failures do not count (default 0s)' });
  healthOnFailure = Option.String('--health-on-failure', { description: 'When unhealthy: none (default), kill, restart or stop' });
  noHealthcheck = Option.Boolean('--no-healthcheck', false, { description: 'No health check, not even the image\'s' });
  systemd = Option.String('--systemd', { description: 'true (default: when the command is systemd or init), always or false: set the container up for systemd inside' });
  annotation = Option.Array('--annotation', [], { description: 'KEY=VALUE: an annotation for the runtime (inspect shows it)' });
  hostuser = Option.Array('--hostuser', [], { description: 'Host user account (name or uid) to add to /etc/passwd within the container' });
  image = Option.String({ name: 'IMAGE' });
  command = Option.Proxy();

  protected async createOptions(): Promise<CreateOptions> {
    if (!['always', 'missing', 'never', 'newer'].includes(this.pull)) throw new UsageError(`--pull takes always, missing or never, not "${this.pull}"`);
    const stopTimeout = this.stopTimeout === undefined ? undefined : Number(this.stopTimeout);
    if (stopTimeout !== undefined && (!Number.isInteger(stopTimeout) || stopTimeout < 0)) throw new UsageError(`invalid argument "${this.stopTimeout}" for "--stop-timeout" flag: it takes a whole number of seconds`);
    const timeout = this.timeout === undefined ? undefined : Number(this.timeout);
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 0)) throw new UsageError(`invalid argument "${this.timeout}" for "--timeout" flag: it takes a whole number of seconds`);
    const { progressPrinter } = await import('../progress.js');
    const mounts = this.mount.length ? this.mount.map((await import('../../engine/volumes.js')).mountAsVolumeFlag) : [];
    return {
      image: this.image, command: this.command, name: this.name, rm: this.rm, env: this.env, envFiles: this.envFile,
      workdir: this.workdir, user: this.user, entrypoint: this.entrypoint === undefined ? undefined : parseEntrypoint(this.entrypoint), hostname: this.hostname, network: this.network, publish: this.publish, publishAll: this.publishAll, expose: this.expose, httpProxy: this.httpProxy, envHost: this.envHost, secrets: this.secret, pod: this.pod ?? (this.podIdFile === undefined ? undefined : readIdFile(this.podIdFile)), createCommand: process.argv.slice(2),
      confinement: {
        securityOpt: this.securityOpt, ulimits: this.ulimit, capAdd: this.capAdd, capDrop: this.capDrop, privileged: this.privileged, sysctl: this.sysctl, shmSize: this.shmSize,
        readOnlyTmpfs: this.readOnlyTmpfs, devices: this.device, groupAdd: this.groupAdd, init: this.init, initPath: this.initPath, pid: this.pid, ipc: this.ipc, uts: this.uts,
        userns: this.userns, uidmap: this.uidmap, gidmap: this.gidmap, resources: this.resourceFlags(),
      },
      ip: this.ip, networkAliases: this.networkAlias, dns: this.dns, dnsSearch: this.dnsSearch, dnsOption: this.dnsOption, addHost: this.addHost, noHosts: this.noHosts,
      readOnly: this.readOnly, interactive: this.interactive, tty: this.tty, labels: this.label, logSizeMax: parseLogOpts(this.logOpt), runtime: this.runtime,
      restart: this.restart, volumesFrom: this.volumesFrom, volumes: [...this.volume, ...mounts.flatMap((m) => (m.volume ? [m.volume] : []))], logDriver: this.logDriver, replace: this.replace, stopTimeout, timeout, stopSignal: this.stopSignal, cidFile: this.cidFile,
      tz: this.tz.length ? this.tz[this.tz.length - 1] : undefined, hostUsers: this.hostuser, systemd: this.systemd,
      health: { cmd: this.healthCmd, interval: this.healthInterval, retries: this.healthRetries, timeout: this.healthTimeout, startPeriod: this.healthStartPeriod, onFailure: this.healthOnFailure, none: this.noHealthcheck }, annotations: Object.fromEntries(this.annotation.map((a) => { const i = a.indexOf('='); if (i <= 0) throw new UsageError(`--annotation ${a}: give KEY=VALUE`); return [a.slice(0, i), a.slice(i + 1)]; })), tmpfs: [...this.tmpfs, ...mounts.flatMap((m) => (m.tmpfs ? [m.tmpfs] : []))], unsetenv: this.unsetenv, unsetenvAll: this.unsetenvAll,
      pull: this.pull === 'newer' ? 'missing' : this.pull as 'always' | 'missing' | 'never',
      pullOptions: {
        platform: this.platform, tlsVerify: tlsVerifyFlag(this.tlsVerify),
        onProgress: progressPrinter(process.stderr, this.quiet), onWarning: (m) => { if (!this.quiet) process.stderr.write(`Warning: ${m}\n`); },
        onNotice: (m) => { if (!this.quiet) process.stderr.write(`${m}\n`); },
      },
      onWarning: (m) => process.stderr.write(`${m}\n`),
    };
  }
}

export class RunCommand extends ContainerFlags {
  static paths = [['run'], ['container', 'run']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'run a command in a new container',
    details: `
      Pulls the image when it is missing, mounts the container's overlay root, writes an OCI runtime spec and runs it with runc or crun, in your own user namespace. tspod's exit status is the container's; 125 means tspod itself failed, 126 the command could not be invoked, 127 it was not found.

      The default network is slirp4netns, as in Podman 4.3 (pasta when slirp4netns is not installed), so the container reaches the outside. \`--network none\` leaves only lo; \`--network host\` shares the host's; \`--network NAME\` (made with \`tspod network create\`) puts it on a user network, where containers find each other by name. \`-p 8080:80\` publishes a port through tspod-portfwd, and the container reaches neither the host's loopback nor its 127.0.0.1-only servers.

      With \`-d\` the container is handed to conmon, which outlives tspod, logs its output (\`tspod logs\`), records its exit and applies \`--restart\`. \`-dit\` keeps a terminal you can \`tspod attach\` to.
    `,
    examples: [
      ['Run a command', '$0 run --rm alpine echo hello'],
      ['An interactive shell', '$0 run -it --rm alpine sh'],
      ['A web server on the host\'s port 8080', '$0 run -d -p 8080:80 nginx'],
      ['With environment, user and working directory', '$0 run --rm -e GREETING=hi -u nobody -w /tmp alpine sh -c \'echo $GREETING from $(pwd)\''],
      ['Without any network', '$0 run --rm --network none alpine ip addr'],
      ['In the background, restarted when it fails', '$0 run -d --name web --restart on-failure:3 alpine httpd -f -p 8080'],
      ['With a named volume', '$0 run --rm -v data:/data alpine sh -c \'date >> /data/log\''],
    ],
  });

  detach = Option.Boolean('-d,--detach', false, { description: 'run in the background, watched by conmon; prints the container id' });
  attach = Option.Array('-a,--attach', [], { description: 'Attach to STDIN, STDOUT or STDERR (default: all of them)' });
  sdnotify = Option.String('--sdnotify', { description: 'conmon (default): under a Type=notify unit, tell systemd READY and conmon\'s pid once the container runs; container: conmon\'s pid, and the container says READY itself (its NOTIFY_SOCKET is systemd\'s); ignore: say nothing' });
  conmonPidFile = Option.String('--conmon-pidfile', { description: 'Path to the file that will receive the PID of conmon' });
  preserveFds = Option.String('--preserve-fds', { description: 'Pass N additional file descriptors (3 to 3+N-1) to the process' });
  rmi = Option.Boolean('--rmi', false, { description: 'Remove the image after the container exits, unless other containers use it (implies --rm)' });
  kernelMemory = Option.String('--kernel-memory', { description: 'No longer supported: a warning, nothing else (as Podman)' });

  async run(): Promise<number> {
    const streams = this.attach.flatMap((a) => a.split(',')).map((a) => a.toLowerCase());
    for (const a of streams) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new UsageError(`invalid stream "${a}" for --attach - must be one of stdin, stdout, or stderr: invalid argument`);
    if (streams.length && this.detach) throw new UsageError('the --detach and --attach flags cannot be used together');
    if (this.kernelMemory !== undefined) process.stderr.write('Warning: The --kernel-memory flag is no longer supported. This flag is a noop.\n');
    if (this.rmi && this.detach) throw new UsageError('the --rmi option does not work with -d/--detach');
    const preserveFds = this.preserveFds === undefined ? undefined : Number(this.preserveFds);
    if (preserveFds !== undefined && (!Number.isInteger(preserveFds) || preserveFds < 0)) throw new UsageError(`invalid argument "${this.preserveFds}" for "--preserve-fds" flag: it takes a number of descriptors`);
    if (preserveFds && this.detach) throw new UsageError('--preserve-fds works with an attached run only in tspod (conmon keeps fd 3 for itself)');
    for (let fd = 3; fd < 3 + (preserveFds ?? 0); fd++) {
      try { fs.fstatSync(fd); } catch { throw new UsageError(`--preserve-fds=${preserveFds}: file descriptor ${fd} is not open`); }
    }
    const opts = await this.createOptions();
    if (this.rmi) opts.rm = true;
    if (opts.tty && opts.interactive && !process.stdin.isTTY && !this.detach) {
      // As Podman: a warning, and the container runs without a terminal it could not have.
      process.stderr.write('Warning: The input device is not a TTY. The --tty and --interactive flags might not work properly\n');
      opts.tty = false;
    }
    const [{ runContainer }, { Store }] = await Promise.all([import('../../engine/start.js'), import('../../storage/store.js')]);
    const report = await runContainer(new Store(), { ...opts, detach: this.detach, attach: streams, conmonPidFile: this.conmonPidFile, preserveFds, sdnotify: this.sdnotify });
    // Detached, or attached to neither output: the id is the only thing to say.
    if (this.detach || (streams.length && !streams.includes('stdout') && !streams.includes('stderr'))) process.stdout.write(`${report.id}\n`);
    if (this.rmi) {
      // Kept when another container still uses it, as Podman keeps it.
      const [{ removeImages, findImage }, store] = [await import('../../engine/images.js'), new Store()];
      const img = await findImage(store, this.image);
      if (img && !store.listContainers().some((c) => c.imageId === img.id)) await removeImages(store, [img.id], { ignoreMissing: true });
    }
    return report.exitCode;
  }
}

export class CreateCommand extends ContainerFlags {
  static paths = [['create'], ['container', 'create']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'create a container without starting it',
    details: 'Takes the same flags as `run`. Prints the new container\'s id; `tspod start` runs it.',
    examples: [
      ['Create, then start attached', '$0 create --name job alpine echo done && $0 start -a job'],
      ['A shell to start and attach to later', '$0 create -it --name box alpine sh'],
    ],
  });

  async run(): Promise<number> {
    const [{ createContainer }, { Store }] = await Promise.all([import('../../engine/create.js'), import('../../storage/store.js')]);
    const rec = await createContainer(new Store(), await this.createOptions());
    process.stdout.write(`${rec.id}\n`);
    return 0;
  }
}

/** --log-opt max-size=10m -> bytes, in decimal units as Podman reads them; other options are refused rather than ignored. */
function parseLogOpts(opts: string[]): number | undefined {
  let max: number | undefined;
  for (const o of opts) {
    const m = /^max-size=(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(o);
    if (!m) throw new UsageError(`unsupported --log-opt "${o}"`, 'tspod supports max-size=SIZE, e.g. max-size=10m');
    max = Math.round(Number(m[1]) * ({ '': 1, k: 1000, m: 1000 ** 2, g: 1000 ** 3 } as Record<string, number>)[m[2].toLowerCase()]);
  }
  return max;
}

/** --entrypoint CMD, or a JSON array as Podman takes it (`--entrypoint '["/bin/echo","hi"]'`): the words of the entrypoint. */
function parseEntrypoint(value: string): string[] {
  if (value.startsWith('[')) {
    try {
      const words = JSON.parse(value) as unknown;
      if (Array.isArray(words) && words.every((w) => typeof w === 'string')) return words;
    } catch { /* a command that starts with [ */ }
  }
  return value === '' ? [] : [value];
}

/** --pod-id-file: the pod's id, as pod create --pod-id-file wrote it. */
function readIdFile(file: string): string {
  try { return fs.readFileSync(file, 'utf8').trim(); } catch { throw new UsageError(`reading pod ID file ${file}: no such file or directory`, 'create the pod with --pod-id-file first'); }
}
