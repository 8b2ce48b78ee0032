// Rootless networking. A network namespace is created first and bind-mounted to a file; pasta or
// slirp4netns attaches to it; the runtime joins it by path. /etc/resolv.conf, /etc/hosts and
// /etc/hostname are generated for the container.
import fs from 'node:fs';
import { mark } from '../../trace.js';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TspodError } from '../../errors.js';
import { findExecutable, hasArgument, killHelper, processAlive } from '../../sys/proc.js';
import { createNetns, removeNetns } from '../netns.js';
import { startSlirp4netns } from '../slirp4netns.js';
import { userNetworkNames } from '../mode.js';
import { beginJoin, leaveNetworks, usernetNetns, USERNET_DNS, type Attachment, type Want } from '../usernet.js';
import { startProcess } from '../../sys/spawn.js';
import { checkPortsFree, pastaPortArgs, startPortForwarder, type PortMapping } from '../ports.js';
import { intToIp, parseNetworkCidr } from '../ipv4.js';

export type NetworkMode = 'none' | 'host' | 'pasta' | 'slirp4netns' | 'container' | 'ns' | 'bridge';

/** A network as --network names it, with the helper's options (`pasta:OPTS`, `slirp4netns:OPT=V,...`), or the user networks' names (bridge). */
export interface NetworkSpec { mode: NetworkMode; options: string[] }

/**
 * What another process needs to tear the network down later (a detached container's cleanup). The
 * helper's pid is also in a file beside the namespace (NSPATH.pid), written as it starts, so a
 * start killed before it recorded anything can still be undone.
 */
export interface NetworkState { mode: NetworkMode; nsPath?: string; helperPid?: number; attachments?: Attachment[] }

const helperPidFile = (nsPath: string) => `${nsPath}.pid`;
/** tspod-portfwd's, for published ports (except pasta's own and slirp4netns's port_handler). */
const forwarderPidFile = (nsPath: string) => `${nsPath}.fwd.pid`;

export interface NetworkHandle {
  mode: NetworkMode;
  state: NetworkState;
  /** the netns to join, or undefined for "none" (a new empty one) and "host" */
  nsPath?: string;
  /** the container's address, for /etc/hosts */
  address?: string;
  /** what host.containers.internal names: an address of the host that leads to its public services */
  hostGateway?: string;
  /**
   * Settles once the helper has configured the namespace (and bound the ports). The handle comes
   * before that, so the container can be created meanwhile, as Podman overlaps slirp4netns with
   * the runtime's create; it must not start before. On failure the caller tears the network down.
   */
  up: Promise<void>;
  nameservers: string[];
  /** search domains before the host's (dns.podman on user networks) */
  searches?: string[];
  /** on user networks: what the container got on each */
  attachments?: Attachment[];
  teardown(): Promise<void> | void;
}

/**
 * slirp4netns first, as Podman 4.3 does: it is ready in ~7 ms where pasta takes ~20, and with
 * --disable-host-loopback a container can't reach servers bound to the host's 127.0.0.1 (pasta
 * maps its gateway to the host's loopback by default).
 */
export function defaultNetworkMode(): NetworkMode {
  if (findExecutable('slirp4netns')) return 'slirp4netns';
  if (findExecutable('pasta')) return 'pasta';
  return 'none';
}

/** Podman's slirp4netns options, and the values each takes. */
const SLIRP_OPTIONS: Record<string, (v: string) => boolean> = {
  allow_host_loopback: (v) => v === 'true' || v === 'false',
  enable_ipv6: (v) => v === 'true' || v === 'false',
  cidr: (v) => (parseNetworkCidr(v)?.bits ?? 99) <= 25,
  mtu: (v) => /^\d+$/.test(v) && Number(v) >= 68 && Number(v) <= 65521,
  outbound_addr: (v) => v.length > 0,
  port_handler: (v) => v === 'rootlesskit' || v === 'slirp4netns',
};

/** --network as Podman spells it; the default is slirp4netns, with published ports by tspod-portfwd. */
export function parseNetwork(value: string | undefined, rootless: boolean): NetworkSpec {
  const helper = (mode: 'pasta' | 'slirp4netns', options: string[]): NetworkSpec => {
    if (!findExecutable(mode)) throw new TspodError('E_NETWORK', `--network ${mode}: ${mode} is not installed`, { hint: `sudo apt-get install ${mode === 'pasta' ? 'passt' : 'slirp4netns'}` });
    return { mode, options };
  };
  if (!value || value === 'default' || value === 'bridge' && rootless) return { mode: defaultNetworkMode(), options: [] };
  const colon = value.indexOf(':');
  const [name, rest] = colon < 0 ? [value, ''] : [value.slice(0, colon), value.slice(colon + 1)];
  if ((name === 'none' || name === 'host') && colon < 0) return { mode: name, options: [] };
  // Another container's network namespace: options[0] names it (its id, once created).
  if (name === 'container' && rest) return { mode: 'container', options: [rest] };
  // A network namespace someone else made and keeps (a bind-mounted nsfs file, /proc/PID/ns/net).
  if (name === 'ns' && rest) {
    if (!rest.startsWith('/')) throw new TspodError('E_USAGE', `--network ns:${rest}: the path must be absolute`, { hint: 'e.g. --network ns:/run/user/1000/netns/mine' });
    return { mode: 'ns', options: [rest] };
  }
  if (name === 'pasta') return helper('pasta', rest ? rest.split(',') : []);
  const names = userNetworkNames(value);
  if (names) return { mode: 'bridge', options: names };
  if (name === 'slirp4netns') {
    const options = rest ? rest.split(',') : [];
    for (const o of options) {
      const eq = o.indexOf('=');
      const [k, v] = eq < 0 ? [o, ''] : [o.slice(0, eq), o.slice(eq + 1)];
      if (!SLIRP_OPTIONS[k]) throw new TspodError('E_USAGE', `unknown slirp4netns option "${o}"`, { hint: `tspod takes ${Object.keys(SLIRP_OPTIONS).join(', ')}` });
      if (!SLIRP_OPTIONS[k](v)) throw new TspodError('E_USAGE', `slirp4netns option ${k}: "${v}" is not a valid value`, { hint: k === 'cidr' ? 'give an IPv4 network, e.g. cidr=10.0.3.0/24' : undefined });
    }
    return helper('slirp4netns', options);
  }
  throw new TspodError('E_USAGE', `unknown network mode "${value}"`, { hint: 'use none, host, pasta[:OPTIONS] or slirp4netns[:OPTIONS]' });
}

function hostNameservers(): string[] {
  let text = '';
  try { text = fs.readFileSync('/etc/resolv.conf', 'utf8'); } catch { /* none */ }
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
}

function hostAddress(): string | undefined {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** Where a container's network namespace is bound: known before anything is started, so a killed start can be undone. */
export const netnsPath = (runDir: string, id: string) => path.join(runDir, 'netns', id);

/**
 * The address layout both helpers give a container, Podman's slirp4netns one: the container is
 * 10.0.2.100, its gateway 10.0.2.2 and its DNS forwarder 10.0.2.3. The host's own addresses stay
 * the host's, so the container reaches its public services there (host.containers.internal); the
 * gateway leads to the host's loopback only when asked for (pasta:--map-gw,
 * slirp4netns:allow_host_loopback=true).
 */
const CONTAINER_ADDRESS = '10.0.2.100', GATEWAY = '10.0.2.2', DNS_FORWARDER = '10.0.2.3';

/** A promise whose rejection is handled where it is awaited, not as an unhandled rejection meanwhile. */
function settled(p: Promise<void>): Promise<void> {
  p.catch(() => undefined);
  return p;
}

/**
 * Set up the network before the container starts (wait for `up`); teardown() after it ends.
 * `joined`: for --network container:, the other container's namespace and the address in its hosts.
 */
export async function setupNetwork(spec: NetworkSpec, runDir: string, id: string, ports: PortMapping[] = [], extra: { joined?: { nsPath: string }; bridge?: { name: string; wants: Want[] }; userns?: { uidMap: string; gidMap: string } } = {}): Promise<NetworkHandle> {
  const mode = spec.mode, joined = extra.joined;
  // The other container owns the namespace and its helper: nothing here to tear down.
  if (mode === 'container') return { mode, state: { mode }, nsPath: joined!.nsPath, nameservers: [], up: Promise.resolve(), teardown() {} };
  if (mode === 'ns') {
    if (!fs.existsSync(spec.options[0])) throw new TspodError('E_NETWORK', `--network ns:${spec.options[0]}: no such network namespace file`, { hint: 'give the path of a bind-mounted namespace, or /proc/PID/ns/net' });
    return { mode, state: { mode }, nsPath: spec.options[0], nameservers: hostNameservers().filter((s) => !s.startsWith('127.') && s !== '::1'), up: Promise.resolve(), teardown() {} };
  }
  if (mode === 'host') return { mode, state: { mode }, nameservers: hostNameservers(), address: hostAddress(), up: Promise.resolve(), teardown() {} };
  if (mode === 'none') return { mode, state: { mode }, nameservers: [], up: Promise.resolve(), teardown() {} };
  fs.mkdirSync(path.join(runDir, 'netns'), { recursive: true });
  const nsPath = netnsPath(runDir, id);
  createNetns(nsPath, extra.userns);
  try {
    if (mode === 'bridge') {
      // Joined first: the addresses go into /etc/hosts and the forwarder's targets.
      // netavark sets them up while the runtime creates the container: `up` waits for both.
      const joining = await beginJoin({ runDir, id, name: extra.bridge!.name, netns: nsPath, wants: extra.bridge!.wants });
      const attachments = joining.attachments;
      const state: NetworkState = { mode, nsPath, attachments };
      let up = joining.up;
      if (ports.length) {
        try { await checkPortsFree(ports); } catch (e) { await joining.up.catch(() => undefined); throw e; }
        const fwd = startPortForwarder(usernetNetns(runDir), nsPath, ports, attachments[0].ip);
        fs.writeFileSync(forwarderPidFile(nsPath), `${fwd.pid}\n`);
        up = Promise.all([joining.up, fwd.up]).then(() => undefined);
      }
      const dns = [...new Set(attachments.filter((a) => a.dns).map((a) => a.gateway))];
      const outside = hostNameservers().filter((s) => !s.startsWith('127.') && s !== '::1');
      return {
        mode, state, nsPath, attachments, address: attachments[0].ip, hostGateway: hostAddress(), up: settled(up), teardown: () => teardownNetwork(state),
        nameservers: dns.length ? dns : outside.length ? outside : [USERNET_DNS], searches: dns.length ? ['dns.podman'] : [],
      };
    }
    if (mode === 'pasta') {
      // pasta configures the namespace, binds the published ports and forks into the background;
      // it quits once the namespace is gone. As real root it would drop to "nobody", who can't
      // open the namespace file.
      await checkPortsFree(ports);
      const runas = process.getuid!() === 0 && !process.env._TSPOD_IN_USERNS ? ['--runas', '0'] : [];
      const mapGw = spec.options.includes('--map-gw');
      const pasta = startProcess('pasta', [
        '--config-net', '-q', ...runas, '-a', CONTAINER_ADDRESS, '-n', '24', '-g', GATEWAY, '--dns-forward', DNS_FORWARDER, ...(mapGw ? [] : ['--no-map-gw']),
        ...pastaPortArgs(ports), '-T', 'none', '-U', 'none', '--pid', helperPidFile(nsPath), ...spec.options.filter((o) => o !== '--map-gw'), '--netns', nsPath,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      pasta.pipes.get(2)!.on('data', (d: Buffer) => { stderr += d; });
      // It forks into the background once the namespace is configured and its ports are bound.
      // (The background pasta may keep its copy of the pipe: ours is let go of.)
      const up = pasta.exited.then(async ({ code }) => {
        await new Promise((r) => setImmediate(r));
        pasta.pipes.get(2)!.destroy();
        if (code !== 0) throw new TspodError('E_NETWORK', `pasta failed: ${stderr.trim().split('\n').filter((l) => !/syslog/.test(l)).pop() ?? `exit status ${code}`}`, { hint: 'check that /dev/net/tun is usable by you, or use --network slirp4netns or none' });
      });
      const state: NetworkState = { mode, nsPath };
      return { mode, state, nsPath, nameservers: [DNS_FORWARDER], address: CONTAINER_ADDRESS, hostGateway: mapGw ? GATEWAY : hostAddress(), up: settled(up), teardown: () => teardownNetwork(state) };
    }
    // Published ports go through tspod-portfwd, which connects to them on the container's loopback
    // (as Podman's rootlessport); with port_handler=slirp4netns through slirp4netns's own
    // forwarder (its API's add_hostfwd), which is slower.
    if (ports.length) await checkPortsFree(ports);
    const opt = (k: string) => spec.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
    const slirpPorts = opt('port_handler') === 'slirp4netns' ? ports : [];
    const api = slirpPorts.length ? apiSocketPath(nsPath) : undefined;
    const allowLoopback = opt('allow_host_loopback') === 'true';
    // slirp4netns gives the guest the network's .100, its gateway .2 and its DNS .3.
    const cidr = opt('cidr');
    const base = parseNetworkCidr(cidr ?? '10.0.2.0/24')!.base;
    const at = (n: number) => intToIp(base + n);
    const slirp = startSlirp4netns(nsPath, helperPidFile(nsPath), {
      cidr, mtu: opt('mtu'), allowHostLoopback: allowLoopback, apiSocket: api, ipv6: opt('enable_ipv6') === 'true', outboundAddr: opt('outbound_addr'),
    });
    let up = slirp.up.then(async () => {
      for (const m of slirpPorts) {
        for (let i = 0; i < m.range; i++) await slirpHostForward(api!, { proto: m.protocol, host_addr: m.hostIp || '0.0.0.0', host_port: m.hostPort + i, guest_port: m.containerPort + i });
      }
    });
    if (ports.length && !slirpPorts.length) {
      const fwd = startPortForwarder(nsPath, nsPath, ports, '127.0.0.1');
      fs.writeFileSync(forwarderPidFile(nsPath), `${fwd.pid}\n`);
      up = Promise.all([settled(up), fwd.up]).then(() => undefined);
    }
    const state: NetworkState = { mode, nsPath, helperPid: slirp.pid };
    return { mode, state, nsPath, nameservers: [at(3)], address: at(100), hostGateway: allowLoopback ? at(2) : hostAddress(), up: settled(up), teardown: () => teardownNetwork(state) };
  } catch (e) {
    await teardownNetwork({ mode, nsPath });
    throw e;
  }
}

/** slirp4netns's API socket beside the namespace, short enough for a unix socket's path. */
const apiSocketPath = (nsPath: string) => path.join(path.dirname(nsPath), `${path.basename(nsPath).slice(0, 16)}.api`);

/** One add_hostfwd request to slirp4netns's API (a connection per request). */
function slirpHostForward(socket: string, args: { proto: string; host_addr: string; host_port: number; guest_port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    let answer = '';
    c.on('connect', () => c.write(JSON.stringify({ execute: 'add_hostfwd', arguments: args })));
    c.on('data', (d) => { answer += d; });
    c.on('error', (e) => reject(new TspodError('E_NETWORK', `slirp4netns did not forward port ${args.host_port}: ${e.message}`)));
    c.on('close', () => {
      let reply: { error?: { desc?: string } } = {};
      try { reply = JSON.parse(answer); } catch { /* no answer */ }
      if (reply.error || !answer) reject(new TspodError('E_NETWORK', `slirp4netns did not forward ${args.host_addr}:${args.host_port}/${args.proto}: ${reply.error?.desc ?? 'no answer'}`));
      else resolve();
    });
  });
}

/** The first process whose command line has `arg` as one of its words, or 0. */
function processWithArgument(arg: string): number {
  for (const entry of fs.readdirSync('/proc')) if (/^\d+$/.test(entry) && hasArgument(Number(entry), arg)) return Number(entry);
  return 0;
}

/**
 * Stop the helper (pasta or slirp4netns, from its pid file, if it is still the one attached to this
 * namespace) and remove the namespace file. Relying on pasta to quit once the file is gone is not
 * enough: seen here, some outlive it.
 */
export async function teardownNetwork(state: NetworkState): Promise<void> {
  if (!state.nsPath) return;
  const kill = (pid: number) => killHelper(pid, state.nsPath!);
  const pidIn = (file: string) => { try { return Number(fs.readFileSync(file, 'utf8')) || 0; } catch { return undefined; } };
  // A tspod killed between starting a helper and writing its pid file leaves no pid to go by: then
  // the helpers are found by the namespace they were given.
  const helper = pidIn(helperPidFile(state.nsPath)), forwarder = pidIn(forwarderPidFile(state.nsPath));
  if (helper === undefined && forwarder === undefined && !state.helperPid && fs.existsSync(state.nsPath)) {
    for (let pid = processWithArgument(state.nsPath); pid; pid = processWithArgument(state.nsPath)) { kill(pid); if (processAlive(pid)) break; }
  }
  kill(helper ?? state.helperPid ?? 0);
  mark('exit: network helper gone');
  kill(forwarder ?? 0);
  fs.rmSync(helperPidFile(state.nsPath), { force: true });
  fs.rmSync(forwarderPidFile(state.nsPath), { force: true });
  fs.rmSync(apiSocketPath(state.nsPath), { force: true });
  // On user networks: off them (the last one out drops the usernet), while the namespace is there.
  await leaveNetworks(path.dirname(path.dirname(state.nsPath)), path.basename(state.nsPath));
  if (fs.existsSync(state.nsPath)) removeNetns(state.nsPath);
}

/**
 * After network connect or disconnect of a running container: its published ports follow its first
 * user-network address (with none left they lead nowhere), its resolv.conf names the resolvers of
 * the networks it is on, and its /etc/hosts its addresses there. The files are rewritten in place:
 * the container sees them through bind mounts of these very inodes.
 */
export async function followAttachments(o: { nsPath: string; runDir: string; userdata: string; ports: PortMapping[]; before: Attachment[]; after: Attachment[]; hostname: string; name: string }): Promise<void> {
  const fwdFile = forwarderPidFile(o.nsPath);
  if (o.ports.length && o.before[0]?.ip !== o.after[0]?.ip) {
    try { killHelper(Number(fs.readFileSync(fwdFile, 'utf8')), o.nsPath); } catch { /* none */ }
    fs.rmSync(fwdFile, { force: true });
    if (o.after.length) {
      const fwd = startPortForwarder(usernetNetns(o.runDir), o.nsPath, o.ports, o.after[0].ip);
      fs.writeFileSync(fwdFile, `${fwd.pid}\n`);
      await fwd.up;
    }
  }
  const rewrite = (file: string, edit: (lines: string[]) => string[]) => {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch { return; }
    fs.writeFileSync(file, edit(text.split('\n').filter(Boolean)).map((l) => `${l}\n`).join(''));
  };
  const dns = [...new Set(o.after.filter((a) => a.dns).map((a) => a.gateway))];
  if (dns.length) {
    rewrite(path.join(o.userdata, 'resolv.conf'), (lines) => {
      const kept = lines.filter((l) => !/^\s*nameserver\s/.test(l));
      const at = kept.findIndex((l) => /^\s*options\s/.test(l));
      kept.splice(at < 0 ? kept.length : at, 0, ...dns.map((d) => `nameserver ${d}`));
      return kept;
    });
  }
  const gone = o.before.filter((b) => !o.after.some((a) => a.ip === b.ip)).map((b) => b.ip);
  const added = o.after.filter((a) => !o.before.some((b) => b.ip === a.ip)).map((a) => `${a.ip}\t${o.hostname} ${o.name}`);
  rewrite(path.join(o.userdata, 'hosts'), (lines) => [...lines.filter((l) => !gone.includes(l.split(/\s+/)[0])), ...added]);
}

/** What the user asked of /etc/resolv.conf and /etc/hosts (flags, then containers.conf). */
export interface EtcOptions {
  /** --dns: these servers instead of the network's; ["none"]: no resolv.conf at all */
  dnsServers?: string[];
  /** --dns-search; ["."]: none */
  dnsSearches?: string[];
  dnsOptions?: string[];
  /** --add-host NAME:IP, first in /etc/hosts */
  addHosts?: string[];
  /** --no-hosts: the image's /etc/hosts is left alone */
  noHosts?: boolean;
  /** the entries /etc/hosts starts with: a file, or the host's /etc/hosts when not given */
  baseHostsFile?: string;
  /** host.containers.internal's address, instead of the network's */
  hostGatewayIp?: string;
}

/** Write resolv.conf, hosts and hostname into `dir`; returns container path -> host file. */
export function writeEtcFiles(dir: string, net: NetworkHandle, hostname: string, name: string, o: EtcOptions = {}): Record<string, string> {
  const files: Record<string, string> = { '/etc/hostname': path.join(dir, 'hostname') };
  fs.writeFileSync(files['/etc/hostname'], `${hostname}\n`);
  if (o.dnsServers?.[0] !== 'none') {
    const hostResolv = (() => { try { return fs.readFileSync('/etc/resolv.conf', 'utf8'); } catch { return ''; } })();
    const searches = o.dnsSearches?.length ? o.dnsSearches.filter((d) => d !== '.')
      : net.mode === 'none' ? [] : [...(net.searches ?? []), ...(/^\s*search\s+(.*)$/m.exec(hostResolv)?.[1].trim().split(/\s+/) ?? [])];
    const servers = o.dnsServers?.length ? o.dnsServers : net.nameservers;
    const options = o.dnsOptions?.length ? o.dnsOptions : [];
    files['/etc/resolv.conf'] = path.join(dir, 'resolv.conf');
    fs.writeFileSync(files['/etc/resolv.conf'], [
      ...(searches.length ? [`search ${searches.join(' ')}`] : []), ...servers.map((s) => `nameserver ${s}`), ...(options.length ? [`options ${options.join(' ')}`] : []),
    ].map((l) => `${l}\n`).join(''));
  }
  if (!o.noHosts) {
    let base = '';
    try { base = fs.readFileSync(o.baseHostsFile || '/etc/hosts', 'utf8'); } catch { /* none */ }
    const entries = base.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
    const names = (line: string) => line.split(/\s+/).slice(1);
    const gateway = o.hostGatewayIp ?? net.hostGateway;
    // --add-host NAME:host-gateway names the host, as in Docker.
    const added = (o.addHosts ?? []).map((h) => { const i = h.indexOf(':'); const ip = h.slice(i + 1); return `${ip === 'host-gateway' ? gateway ?? '' : ip}\t${h.slice(0, i)}`; });
    const lines = [...added, ...entries];
    const has = (n: string) => lines.some((l) => names(l).includes(n));
    if (!lines.some((l) => l.startsWith('127.0.0.1') && names(l).includes('localhost'))) lines.push('127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4');
    if (!lines.some((l) => l.startsWith('::1') && names(l).includes('localhost'))) lines.push('::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6');
    if (gateway && !has('host.containers.internal')) lines.push(`${gateway}\thost.containers.internal host.docker.internal`);
    // The container's own name, unless an entry already gives it: "IP HOSTNAME NAME", both even when they are the same, as Podman writes it.
    if (!has(hostname)) lines.push(`${net.address ?? '127.0.1.1'}\t${hostname} ${name}`);
    files['/etc/hosts'] = path.join(dir, 'hosts');
    fs.writeFileSync(files['/etc/hosts'], lines.map((l) => `${l}\n`).join(''));
  }
  return files;
}
