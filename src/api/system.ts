// /_ping, /version, /info, /events, /system/df, /auth, /networks, /volumes.
import os from 'node:os';
import type { Store } from '../storage/store.js';
import { TspodError } from '../errors.js';
import { info, versionReport } from '../engine/info.js';
import { eventsFile, followEvents, eventsLogSize, eventMatcher, type TspodEvent } from '../engine/events.js';
import { parseLogTime } from '../engine/lifecycle.js';
import { findContainer } from '../engine/containers.js';
import * as nets from '../engine/networks.js';
import * as vols from '../engine/volumes.js';
import { unixSeconds } from '../units.js';
import { tlsVerifyForHost } from './images.js';
import { type Router, API_VERSION, MIN_API_VERSION, flag, filterList, badRequest, notFound, conflict } from './http.js';

const arch = () => (process.arch === 'x64' ? 'amd64' : process.arch);

/** Docker's event: Type, Action, Actor; and the old status/id/from for containers. */
function dockerEvent(e: TspodEvent): Record<string, unknown> {
  const t = Date.parse(e.Time);
  const action = e.Status === 'died' ? 'die' : e.Status === 'remove' && e.Type === 'container' ? 'destroy' : e.Status;
  const attrs: Record<string, string> = { ...(e.Attributes ?? {}), ...(e.Name ? { name: e.Name } : {}), ...(e.Image ? { image: e.Image } : {}) };
  if (attrs.containerExitCode !== undefined) attrs.exitCode = attrs.containerExitCode;
  return {
    ...(e.Type === 'container' ? { status: action, id: e.ID, from: e.Image } : {}),
    Type: e.Type, Action: action, Actor: { ID: e.ID ?? e.Name ?? '', Attributes: attrs }, scope: 'local', time: Math.floor(t / 1000), timeNano: t * 1e6,
  };
}

function dockerNetwork(store: Store, n: nets.NetworkConfig) {
  const users = nets.networkUsers(store, n.name);
  return {
    Name: n.name, Id: n.id, Created: n.created, Scope: 'local', Driver: n.driver, EnableIPv6: n.ipv6_enabled, Internal: n.internal, Attachable: false, Ingress: false,
    IPAM: { Driver: 'default', Options: {}, Config: n.subnets.map((s) => ({ Subnet: s.subnet, Gateway: s.gateway })) },
    Options: n.options ?? {}, Labels: n.labels ?? {},
    Containers: Object.fromEntries(users.map((id) => { let name = id; try { name = findContainer(store, id).name; } catch { /* gone */ } return [id, { Name: name }]; })),
  };
}

function lookupNetwork(store: Store, ref: string): nets.NetworkConfig {
  const n = nets.lookupNetwork(store, ref);
  if (!n) throw notFound(`network ${ref} not found`);
  return n;
}

export function systemRoutes(r: Router, store: Store, o: { socketPath: string }): void {
  const ping = (_req: unknown, reply: import('./http.js').Reply) => reply.text('OK', { 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Builder-Version': '' });
  r.add('GET', '/_ping', ping);
  r.add('GET', '/libpod/_ping', ping);

  r.add('GET', '/version', (_req, reply) => {
    const v = versionReport();
    reply.json({
      Platform: { Name: 'tspod' }, Version: v.Version, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: process.version, Os: 'linux', Arch: arch(),
      KernelVersion: os.release(), BuildTime: new Date(v.Built * 1000).toISOString(),
      Components: [{ Name: 'Engine', Version: v.Version, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: process.version, Os: 'linux', Arch: arch(), KernelVersion: os.release(), BuildTime: new Date(v.Built * 1000).toISOString(), Experimental: 'false' } }],
    });
  });

  r.add('GET', '/info', async (_req, reply) => {
    const i = await info(store, { versions: false });
    const cs = store.listContainers();
    const n = (s: string) => cs.filter((c) => c.state === s).length;
    reply.json({
      ID: '', Containers: cs.length, ContainersRunning: n('running'), ContainersPaused: 0, ContainersStopped: cs.length - n('running'), Images: store.readImages().length,
      Driver: i.store.graphDriverName, DriverStatus: [], DockerRootDir: store.root, SystemTime: new Date().toISOString(), LoggingDriver: 'k8s-file', CgroupDriver: 'cgroupfs', CgroupVersion: i.host.cgroupVersion.replace('v', ''),
      NEventsListener: 0, KernelVersion: os.release(), OperatingSystem: i.host.distribution.distribution, OSVersion: i.host.distribution.version, OSType: 'linux', Architecture: arch(),
      NCPU: os.cpus().length, MemTotal: os.totalmem(), Name: os.hostname(), ServerVersion: versionReport().Version, Runtimes: { [i.host.ociRuntime.name]: { path: i.host.ociRuntime.path } }, DefaultRuntime: i.host.ociRuntime.name,
      SecurityOptions: ['name=seccomp,profile=default', 'name=rootless'], Labels: [], ExperimentalBuild: false, HttpProxy: '', HttpsProxy: '', NoProxy: '', IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: [] }, Swarm: { LocalNodeState: 'inactive' },
      Host: { ...i.host, RemoteSocket: { Path: o.socketPath, Exists: true } },
    });
  });

  r.add('GET', '/events', async (req, reply) => {
    const q = req.query;
    const since = q.get('since') ? parseLogTime(q.get('since')!) : undefined;
    const until = q.get('until') ? parseLogTime(q.get('until')!) : undefined;
    // The CLI's filters (same key: any of them; different keys: all), on tspod's events before they take Docker's shape.
    let match: (e: TspodEvent) => boolean;
    try { match = eventMatcher(filterList(q).map(([k, v]) => `${k}=${v}`)); } catch (e) { throw badRequest((e as Error).message); }
    const file = eventsFile();
    if (!file) throw badRequest('events are not kept: the events backend is "none"');
    const res = reply.stream('application/json');
    let gone = false;
    res.once('close', () => { gone = true; });
    // Without since, only what happens from now on (Docker's rule).
    await followEvents(file, since === undefined ? eventsLogSize(file) : 0, (e) => {
      const t = Date.parse(e.Time);
      if ((since !== undefined && t < since) || (until !== undefined && t > until) || !match(e)) return;
      res.write(`${JSON.stringify(dockerEvent(e))}\n`);
    }, () => !gone && (until === undefined || Date.now() <= until));
    res.end();
  });

  r.add('GET', '/system/df', async (_req, reply) => {
    const { diskUsage } = await import('../engine/system.js');
    const du = diskUsage(store) as unknown as Record<string, unknown>;
    const images = store.readImages();
    const containers = store.listContainers();
    reply.json({
      LayersSize: images.reduce((s, i) => s + i.size, 0),
      Images: images.map((i) => ({ Id: `sha256:${i.id}`, RepoTags: i.names, Size: i.size, SharedSize: 0, Containers: containers.filter((c) => c.imageId === i.id).length, Created: unixSeconds(i.created) })),
      Containers: containers.map((c) => ({ Id: c.id, Names: [`/${c.name}`], Image: c.imageName, State: c.state, SizeRw: 0, SizeRootFs: 0 })),
      Volumes: vols.listVolumes(store).map((v) => ({ Name: v.name, Driver: 'local', Mountpoint: vols.volumeDataDir(store, v.name, v), UsageData: { Size: -1, RefCount: vols.volumeUsers(store, v.name).length } })),
      BuildCache: [], tspod: du,
    });
  });

  r.add('POST', '/auth', async (req, reply) => {
    const b = await req.json<{ username?: string; password?: string; serveraddress?: string }>();
    if (!b.username || !b.password) throw badRequest('username and password are required');
    const { login } = await import('../engine/login.js');
    const registry = (b.serveraddress || 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    try { await login(registry, { username: b.username, password: b.password, tlsVerify: tlsVerifyForHost(registry) }); } catch (e) {
      throw new (await import('./http.js')).ApiError(401, (e as Error).message);
    }
    reply.json({ Status: 'Login Succeeded', IdentityToken: '' });
  });

  // ---- networks ----
  r.add('GET', '/networks', (req, reply) => {
    const f = filterList(req.query);
    reply.json(nets.listNetworks(store).filter((n) => f.every(([k, v]) => k === 'name' ? n.name.includes(v) : k === 'id' ? n.id.startsWith(v) : k === 'label' ? (([lk, lv]) => (lv === undefined ? lk in (n.labels ?? {}) : n.labels?.[lk] === lv))(v.split('=')) : k === 'driver' ? n.driver === v : true)).map((n) => dockerNetwork(store, n)));
  });
  r.add('GET', '/networks/{id}', (req, reply) => reply.json(dockerNetwork(store, lookupNetwork(store, req.params.id))));
  r.add('POST', '/networks/create', async (req, reply) => {
    const b = await req.json<{ Name?: string; Driver?: string; Internal?: boolean; Labels?: Record<string, string>; IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> }; CheckDuplicate?: boolean }>();
    if (!b.Name) throw badRequest('Name is required');
    if (nets.lookupNetwork(store, b.Name)) throw conflict(`network with name ${b.Name} already exists`);
    const c = b.IPAM?.Config?.[0];
    const n = nets.createNetwork(store, b.Name, { internal: !!b.Internal, labels: Object.entries(b.Labels ?? {}).map(([k, v]) => `${k}=${v}`), subnet: c?.Subnet, gateway: c?.Gateway, ipRange: c?.IPRange, driver: b.Driver && b.Driver !== 'bridge' ? b.Driver : undefined });
    reply.json({ Id: n.id, Warning: '' }, 201);
  });
  r.add('DELETE', '/networks/{id}', async (req, reply) => {
    const n = lookupNetwork(store, req.params.id);
    if (nets.networkUsers(store, n.name).length) throw conflict(`error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    await nets.removeNetwork(store, n.name);
    reply.empty();
  });
  r.add('POST', '/networks/{id}/connect', async (req, reply) => {
    const n = lookupNetwork(store, req.params.id);
    const b = await req.json<{ Container?: string; EndpointConfig?: { Aliases?: string[]; IPAMConfig?: { IPv4Address?: string } } }>();
    if (!b.Container) throw badRequest('Container is required');
    try { findContainer(store, b.Container); } catch { throw notFound(`No such container: ${b.Container}`); }
    await nets.connectContainer(store, n.name, b.Container, { aliases: b.EndpointConfig?.Aliases ?? [], ip: b.EndpointConfig?.IPAMConfig?.IPv4Address || undefined });
    reply.empty(200);
  });
  r.add('POST', '/networks/{id}/disconnect', async (req, reply) => {
    const n = lookupNetwork(store, req.params.id);
    const b = await req.json<{ Container?: string }>();
    if (!b.Container) throw badRequest('Container is required');
    await nets.disconnectContainer(store, n.name, b.Container);
    reply.empty(200);
  });
  r.add('POST', '/networks/prune', async (_req, reply) => reply.json({ NetworksDeleted: await nets.pruneNetworks(store) }));

  // ---- volumes ----
  const dockerVolume = (v: vols.VolumeRecord) => { const x = vols.volumeReport(store, v); return { Name: x.Name, Driver: x.Driver, Mountpoint: x.Mountpoint, CreatedAt: x.CreatedAt, Labels: x.Labels, Scope: x.Scope, Options: x.Options }; };
  const lookupVolume = (name: string) => { const v = vols.readVolume(store, name); if (!v) throw notFound(`no such volume: ${name}`); return v; };
  r.add('GET', '/volumes', (req, reply) => {
    const f = filterList(req.query);
    const used = vols.volumeUsage(store);
    const list = vols.listVolumes(store).filter((v) => f.every(([k, val]) => k === 'name' ? v.name.includes(val) : k === 'dangling' ? (['true', '1'].includes(val) ? !used.has(v.name) : used.has(v.name)) : k === 'label' ? (([lk, lv]) => (lv === undefined ? lk in v.labels : v.labels[lk] === lv))(val.split('=')) : true));
    reply.json({ Volumes: list.map(dockerVolume), Warnings: [] });
  });
  r.add('POST', '/volumes/create', async (req, reply) => {
    const b = await req.json<{ Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }>();
    if (b.Driver && b.Driver !== 'local') throw badRequest(`volume driver ${b.Driver} is not available: only local`);
    const existing = b.Name ? vols.readVolume(store, b.Name) : undefined;
    if (existing) { reply.json(dockerVolume(existing), 201); return; }
    const v = vols.createVolume(store, b.Name ?? '', { labels: Object.entries(b.Labels ?? {}).map(([k, val]) => `${k}=${val}`), options: Object.entries(b.DriverOpts ?? {}).map(([k, val]) => `${k}=${val}`) });
    reply.json(dockerVolume(v), 201);
  });
  r.add('GET', '/volumes/{name}', (req, reply) => reply.json(dockerVolume(lookupVolume(req.params.name))));
  r.add('DELETE', '/volumes/{name}', (req, reply) => {
    lookupVolume(req.params.name);
    try { vols.removeVolume(store, req.params.name, { force: flag(req.query, 'force') }); } catch (e) {
      if (e instanceof TspodError && /in use|used by/i.test(e.message)) throw conflict(`remove ${req.params.name}: volume is in use`);
      throw e;
    }
    reply.empty();
  });
  r.add('POST', '/volumes/prune', (_req, reply) => reply.json({ VolumesDeleted: vols.pruneVolumes(store), SpaceReclaimed: 0 }));
}
