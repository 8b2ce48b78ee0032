import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { Store, type ContainerRecord } from '../../storage/store.js';
import { UsageError } from '../../errors.js';
import { goTime, humanDuration } from '../format.js';
import { mark } from '../../trace.js';
import { byText } from '../../engine/filters.js';
import { humanSizeWithPrecision } from '../../units.js';
import { portsColumn } from '../../engine/ports.js';
import { readHealth } from '../../engine/health.js';
import { listPods } from '../../engine/pods.js';

/** What ps's computed columns call: the container's pid, namespaces and sizes (images read once). */
interface Probe {
  containerPid: typeof import('../../engine/containers.js').containerPid;
  processNamespaces: typeof import('../../engine/lifecycle.js').processNamespaces;
  sizes: (c: ContainerRecord) => { rw: number; rootFs: number };
}

/** Podman's default ps table. */
const DEFAULT = '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
/** ps --ns */
const NS_FORMAT = '{{.ID}}\t{{.Names}}\t{{.Pid}}\t{{.Cgroup}}\t{{.IPC}}\t{{.MNT}}\t{{.NET}}\t{{.PIDNS}}\t{{.User}}\t{{.UTS}}';
const HEADERS = { ID: 'CONTAINER ID', CreatedHuman: 'CREATED', RunningFor: 'CREATED', Pod: 'POD ID', PodName: 'PODNAME', Networks: 'NETWORKS', User: 'USERNS', Cgroup: 'CGROUPNS', IPC: 'IPC', MNT: 'MNT', NET: 'NET', PIDNS: 'PIDNS', UTS: 'UTS' };
const SORT_KEYS = ['command', 'created', 'id', 'image', 'names', 'runningfor', 'size', 'status'];

/** The name of a container's pod ('' outside one). */
const podName = (store: Store, pod?: string) => (pod ? listPods(store).find((p) => p.id === pod)?.name ?? '' : '');

/** A container as ps's templates see it: Podman's field names; the computed ones are methods. */
function reporter(c: ContainerRecord, noTrunc: boolean, now: number, store: Store, e: Probe) {
  let pid: number | undefined;
  const pidOf = () => (pid ??= e.containerPid(store, c));
  let ns: import('../../engine/lifecycle.js').Namespaces | undefined;
  const nsOf = () => (ns ??= e.processNamespaces(pidOf()) ?? { Cgroup: '', IPC: '', MNT: '', NET: '', PIDNS: '', User: '', UTS: '' });
  const since = (iso?: string) => humanDuration(now - Date.parse(iso ?? c.created));
  const health = () => (c.config?.healthcheck ? ` (${readHealth(store, c.id)?.Status ?? 'starting'})` : '');
  const state = () => c.state === 'running' ? `Up ${since(c.startedAt)} ago${health()}`
    : c.state === 'exited' ? `Exited (${c.exitCode ?? 0}) ${since(c.finishedAt ?? c.created)} ago`
    : c.state === 'restarting' ? `Restarting (${c.exitCode ?? 0}) ${since(c.finishedAt ?? c.created)} ago` : c.state[0].toUpperCase() + c.state.slice(1);
  return {
    AutoRemove: !!c.autoRemove,
    ID: () => (noTrunc ? c.id : c.id.slice(0, 12)),
    Image: c.imageName,
    ImageID: () => (noTrunc ? c.imageId : c.imageId.slice(0, 12)),
    Command: () => { const cmd = c.command.join(' '); return !noTrunc && cmd.length > 17 ? `${cmd.slice(0, 17)}...` : cmd; },
    Created: () => goTime(c.created),
    CreatedAt: () => goTime(c.created),
    CreatedHuman: () => `${since(c.created)} ago`,
    RunningFor: () => `${since(c.created)} ago`,
    Exited: c.state === 'exited',
    ExitCode: c.exitCode ?? 0,
    Labels: c.labels ?? {},
    Mounts: (c.config?.volumes ?? []).map((v) => v.destination),
    Names: c.name,
    Networks: () => (c.config?.network && c.config.network !== 'none' ? c.config.network : ''),
    Pid: pidOf,
    Namespaces: nsOf,
    // Podman's shorthands for the namespace columns of ps --ns
    Cgroup: () => nsOf().Cgroup, IPC: () => nsOf().IPC, MNT: () => nsOf().MNT, NET: () => nsOf().NET, PIDNS: () => nsOf().PIDNS, User: () => nsOf().User, UTS: () => nsOf().UTS,
    Pod: () => (c.pod ? (noTrunc ? c.pod : c.pod.slice(0, 12)) : ''), PodName: () => podName(store, c.pod),
    Ports: () => portsColumn(publishedPorts(store, c)),
    Size: () => { const s = e.sizes(c); return `${humanSizeWithPrecision(s.rw, 3)} (virtual ${humanSizeWithPrecision(s.rootFs, 3)})`; },
    State: state,
    Status: state,
  };
}

/** The ports a container is reached on: its own, or those of the container whose network it joins (a pod's infra). */
function publishedPorts(store: Store, c: ContainerRecord) {
  const joined = c.config?.network?.startsWith('container:') ? store.readContainer(c.config.network.slice('container:'.length)) : undefined;
  return c.config?.ports ?? joined?.config?.ports;
}

/** `ps --format json`: Podman's ListContainer shape. */
function listContainerJson(c: ContainerRecord, store: Store, e: Probe, size: boolean) {
  const pid = e.containerPid(store, c), ns = e.processNamespaces(pid);
  const ports = publishedPorts(store, c);
  const unix = (iso?: string) => (iso ? Math.floor(Date.parse(iso) / 1000) : -62135596800);
  return {
    AutoRemove: !!c.autoRemove, Command: c.command, CreatedAt: `${humanDuration(Date.now() - Date.parse(c.created))} ago`,
    Exited: c.state === 'exited', ExitedAt: unix(c.finishedAt), ExitCode: c.exitCode ?? 0, Id: c.id, Image: c.imageName, ImageID: c.imageId,
    IsInfra: !!c.pod && listPods(store).some((p) => p.infraId === c.id), Labels: c.labels && Object.keys(c.labels).length ? c.labels : null, Mounts: (c.config?.volumes ?? []).map((v) => v.destination),
    Names: [c.name], Namespaces: ns ? { Mnt: ns.MNT, Cgroup: ns.Cgroup, Ipc: ns.IPC, Net: ns.NET, Pidns: ns.PIDNS, Uts: ns.UTS, User: ns.User } : {},
    Networks: [], Pid: pid, Pod: c.pod ?? '', PodName: podName(store, c.pod),
    Ports: ports?.length ? ports.map((m) => ({ host_ip: m.hostIp, container_port: m.containerPort, host_port: m.hostPort, range: m.range, protocol: m.protocol })) : null, Size: size ? (({ rw, rootFs }) => ({ rwSize: rw, rootFsSize: rootFs }))(e.sizes(c)) : null,
    StartedAt: unix(c.startedAt), State: c.state, Status: '', Created: unix(c.created),
  };
}

export class PsCommand extends TspodCommand {
  static paths = [['ps'], ['container', 'ls'], ['container', 'list'], ['container', 'ps']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'List containers',
    details: 'Running containers by default; `-a` shows every container, with its exit status.',
    examples: [
      ['Running containers', '$0 ps'],
      ['All containers, ids only', '$0 ps -aq'],
      ['As JSON', '$0 ps -a --format json'],
      ['Exited containers with a label', '$0 ps --filter status=exited --filter label=app=web'],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Show all the containers, default is only running containers' });
  external = Option.Boolean('--external', false, { description: 'Show the RUN containers of builds in progress too' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions given (status, name, id, ancestor, label, exited, before, since, volume)' });
  format = Option.String('--format', { description: 'Pretty-print containers to JSON or using a Go template' });
  last = Option.String('-n,--last', { description: 'Print the n last created containers (all states)' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Display the extended information' });
  noHeading = Option.Boolean('--noheading', false, { description: 'Do not print headers' });
  ns = Option.Boolean('--ns', false, { description: 'Display namespace information' });
  pod = Option.Boolean('-p,--pod', false, { description: 'Print the pod ID and name of each container' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print the numeric IDs of the containers only' });
  size = Option.Boolean('-s,--size', false, { description: 'Display the total file sizes' });
  sort = Option.String('--sort', 'created', { description: 'Sort output by: command, created, id, image, names, runningfor, size, status' });
  sync = Option.Boolean('--sync', false, { description: 'Sync container state with the runtime (always done)' });

  async run(): Promise<number> {
    if (!SORT_KEYS.includes(this.sort)) throw new UsageError(`invalid option for --sort, options are: ${SORT_KEYS.join(', ')}`);
    const last = this.latest ? 1 : this.last === undefined ? undefined : Number(this.last);
    if (last !== undefined && !Number.isInteger(last)) throw new UsageError(`invalid argument "${this.last}" for "-n, --last" flag: strconv.ParseInt: parsing "${this.last}": invalid syntax`);
    const [{ listContainers, containerPid }, { writeReport }, { processNamespaces, containerSizes }] = await Promise.all([import('../../engine/containers.js'), import('../report.js'), import('../../engine/lifecycle.js')]);
    mark('ps: modules loaded');
    const store = new Store();
    let images: import('../../storage/store.js').ImageRecord[] | undefined;
    const e: Probe = { containerPid, processNamespaces, sizes: (c) => containerSizes(store, c, images ??= store.readImages()) };
    const list = await listContainers(store, { all: this.all, external: this.external, filters: this.filter, last, onWarning: (m) => process.stderr.write(`Warning: ${m}\n`) });
    const key = (c: ContainerRecord): string => ({ command: c.command.join(' '), created: c.created, id: c.id, image: c.imageName, names: c.name, runningfor: c.created, size: c.created, status: c.state } as Record<string, string>)[this.sort];
    if (this.sort !== 'created') list.sort((a, b) => byText(key(a), key(b)));
    if (this.quiet && !this.format) {
      process.stdout.write(list.map((c) => `${this.noTrunc ? c.id : c.id.slice(0, 12)}\n`).join(''));
      return 0;
    }
    mark('ps: listed');
    const now = Date.now();
    writeReport({
      name: 'ps', format: this.format, rows: list.map((c) => reporter(c, this.noTrunc, now, store, e)), json: () => list.map((c) => listContainerJson(c, store, e, this.size)),
      defaultFormat: this.ns ? NS_FORMAT : `${DEFAULT}${this.size ? '\t{{.Size}}' : ''}${this.pod ? '\t{{.Pod}}\t{{.PodName}}' : ''}`, headers: HEADERS, noHeading: this.noHeading,
    });
    return 0;
  }
}
