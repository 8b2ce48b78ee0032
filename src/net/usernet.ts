// Containers on user-defined networks. One network namespace per user (the "usernet"), made when
// the first container joins a network and dropped with the last one. Inside it:
//  - slirp4netns, attached to it, is the way out (tap0, 10.0.2.100; the host's loopback closed);
//  - netavark, run there once per join and leave, makes each network's bridge, the container's veth
//    pair and address, the NAT and isolation rules, and starts aardvark-dns on the gateways;
//  - aardvark-dns answers the containers' names and forwards every other name to the host's resolvers.
// Dropping the namespace takes the bridges, rules and veths along: the last container to leave kills
// slirp4netns and aardvark-dns and unmounts it, without netavark's rule-by-rule teardown.
// Every change is made under one lock (runDir/usernet/lock); what each container holds is in
// members/ID.json: the netavark request that set it up, which is also what tears it down.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { TspodError } from '../errors.js';
import { acquireLockAsync } from '../sys/lock.js';
import { findExecutable, hasArgument, killHelper, processAlive } from '../sys/proc.js';
import { intToIp, ipToInt, parseNetworkCidr } from './ipv4.js';
import { createNetns, removeNetns } from './netns.js';
import { startSlirp4netns } from './slirp4netns.js';

export interface Subnet { subnet: string; gateway?: string; lease_range?: { start_ip: string; end_ip: string } }

/** A network's definition, netavark's JSON field for field (engine/networks.ts keeps them). */
export interface NetavarkNetwork {
  name: string;
  id: string;
  driver: string;
  network_interface: string;
  created: string;
  subnets: Subnet[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  ipam_options: { driver: string };
}

/** What a container asks of one network. */
export interface Want { network: NetavarkNetwork; ip?: string; aliases: string[] }

/** What it got on it. */
export interface Attachment { network: string; interface: string; ip: string; prefix: number; gateway: string; mac: string; aliases: string[]; dns: boolean; internal: boolean }

interface Request {
  container_id: string;
  container_name: string;
  networks: Record<string, { interface_name: string; static_ips: string[]; aliases: string[]; static_mac?: string }>;
  network_info: Record<string, NetavarkNetwork>;
}

interface Member { netns: string; request: Request; attachments: Attachment[] }

const HELPER_DIRS = ['/usr/local/libexec/podman', '/usr/local/lib/podman', '/usr/libexec/podman', '/usr/lib/podman'];

function helper(name: string): string {
  for (const d of HELPER_DIRS) { const p = path.join(d, name); if (fs.existsSync(p)) return p; }
  const found = findExecutable(name);
  if (found) return found;
  throw new TspodError('E_NETWORK', `${name} is not installed: tspod needs it for user-defined networks`, { hint: `sudo apt-get install ${name}` });
}

export const usernetDir = (runDir: string) => path.join(runDir, 'usernet');
const paths = (runDir: string) => {
  const d = usernetDir(runDir);
  return {
    dir: d, netns: path.join(d, 'netns'), slirpPid: path.join(d, 'netns.pid'), conf: path.join(d, 'netavark'), members: path.join(d, 'members'), lock: path.join(d, 'lock'),
    // The last address given out on each network, kept when the usernet is dropped: the next one
    // is the next free after it, so a container that disconnects and connects again gets a new one.
    lastIps: path.join(d, 'last-ips.json'),
  };
};

/** The usernet's own address layout on tap0 (slirp4netns's): gateway 10.0.2.2, DNS 10.0.2.3. */
export const USERNET_DNS = '10.0.2.3';

function readMembers(dir: string): Map<string, Member> {
  const members = new Map<string, Member>();
  let names: string[] = [];
  try { names = fs.readdirSync(dir); } catch { return members; }
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try { members.set(n.slice(0, -5), JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as Member); } catch { /* half-written by a killed tspod: not a member */ }
  }
  return members;
}

/**
 * The usable addresses of a network (its lease range, or the subnet less network, gateway and
 * broadcast), starting after `after` and wrapping round, as host-local IPAM hands them out.
 */
function* addresses(n: NetavarkNetwork, after?: string): Generator<{ ip: string; prefix: number; gateway: string }> {
  const s = n.subnets[0];
  const cidr = parseNetworkCidr(s.subnet)!;
  const gateway = s.gateway ?? intToIp(cidr.base + 1);
  const first = s.lease_range ? ipToInt(s.lease_range.start_ip) : cidr.base + 1;
  const last = s.lease_range ? ipToInt(s.lease_range.end_ip) : cidr.base + 2 ** (32 - cidr.bits) - 2;
  const from = after && ipToInt(after) >= first && ipToInt(after) < last ? ipToInt(after) + 1 : first;
  for (let i = 0; i <= last - first; i++) {
    const a = first + ((from - first + i) % (last - first + 1));
    if (intToIp(a) !== gateway) yield { ip: intToIp(a), prefix: cidr.bits, gateway };
  }
}

function readLastIps(file: string): Record<string, string> {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>; } catch { return {}; }
}

/** Run netavark in the usernet's namespace; waited for without blocking, so a service answers others meanwhile. */
function netavark(runDir: string, command: 'setup' | 'teardown', containerNetns: string, request: Request): Promise<string> {
  const p = paths(runDir);
  fs.mkdirSync(p.conf, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${p.netns}`, helper('netavark'), '--rootless', 'true', '--config', p.conf, '--aardvark-binary', helper('aardvark-dns'), command, containerNetns], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // netavark finds iptables on PATH; a user's PATH often lacks the sbin dirs.
      env: { ...process.env, PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin` },
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    child.stdin.on('error', () => { /* it exited before reading: its status says why */ });
    child.on('error', (e) => reject(new TspodError('E_NETWORK', `netavark ${command}: ${e.message}`)));
    child.on('close', (status) => {
      if (status === 0) { resolve(stdout); return; }
      let why = (stderr || stdout).trim().split('\n').pop() || `exit status ${status}`;
      try { why = (JSON.parse(stdout) as { error?: string }).error ?? why; } catch { /* not JSON */ }
      reject(new TspodError('E_NETWORK', `netavark ${command} failed: ${why}`, { hint: 'check that iptables (or nftables) is installed: sudo apt-get install iptables' }));
    });
    child.stdin.end(JSON.stringify(request));
  });
}

/**
 * The usernet, made if it is not there: its namespace file and slirp4netns attached to it. Resolves
 * once the namespace is there; `up` once slirp4netns serves it (netavark needs only the namespace,
 * so the two come up side by side).
 */
function ensureUsernet(runDir: string): { up: Promise<void> } {
  const p = paths(runDir);
  let slirp = 0;
  try { slirp = Number(fs.readFileSync(p.slirpPid, 'utf8')); } catch { /* none */ }
  if (fs.existsSync(p.netns) && slirp && processAlive(slirp) && hasArgument(slirp, p.netns)) return { up: Promise.resolve() };
  dropUsernet(runDir);
  fs.mkdirSync(p.members, { recursive: true });
  createNetns(p.netns);
  const up = startSlirp4netns(p.netns, p.slirpPid).up;
  up.catch(() => undefined); // met where it is awaited
  return { up };
}

/** Kill aardvark-dns and slirp4netns and unmount the namespace: the bridges and rules in it go with it. */
function dropUsernet(runDir: string): void {
  const p = paths(runDir);
  const kill = (pidFile: string, arg: string) => {
    try { killHelper(Number(fs.readFileSync(pidFile, 'utf8')), arg); } catch { /* none */ }
  };
  kill(path.join(p.conf, 'aardvark-dns', 'aardvark.pid'), path.join(p.conf, 'aardvark-dns'));
  kill(p.slirpPid, p.netns);
  fs.rmSync(p.conf, { recursive: true, force: true });
  fs.rmSync(p.slirpPid, { force: true });
  fs.rmSync(p.members, { recursive: true, force: true });
  if (fs.existsSync(p.netns)) removeNetns(p.netns);
}

export interface JoinOptions {
  runDir: string;
  id: string;
  name: string;
  /** the container's own network namespace file */
  netns: string;
  wants: Want[];
}

/**
 * Attach a container's network namespace to its networks (made if need be), eth0 first. An
 * address given with --ip must be free; others are the lowest free ones.
 */
export async function joinNetworks(o: JoinOptions): Promise<Attachment[]> {
  const joining = await beginJoin(o);
  await joining.up;
  return joining.attachments;
}

/**
 * joinNetworks in two steps: the addresses, chosen at once (they go into /etc/hosts and the spec
 * while the runtime creates the container), and `up`, once netavark has set them up (the MACs are
 * filled in then). The usernet stays locked until `up` settles; a failure undoes the join.
 */
export async function beginJoin(o: JoinOptions): Promise<{ attachments: Attachment[]; up: Promise<void> }> {
  const p = paths(o.runDir);
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const release = await acquireLockAsync(p.lock);
  let handedOver = false;
  try {
    const usernet = ensureUsernet(o.runDir);
    const members = readMembers(p.members);
    const existing = members.get(o.id);
    members.delete(o.id);
    const taken = new Set<string>();
    for (const m of members.values()) for (const a of m.attachments) taken.add(`${a.network}/${a.ip}`);
    const request: Request = existing?.request ?? { container_id: o.id, container_name: o.name, networks: {}, network_info: {} };
    const attachments: Attachment[] = existing?.attachments ?? [];
    const added: Request = { ...request, networks: {}, network_info: {} };
    let ifIndex = Object.keys(request.networks).length;
    const lastIps = readLastIps(p.lastIps);
    for (const w of o.wants) {
      const n = w.network;
      if (request.networks[n.name]) throw new TspodError('E_NETWORK', `container ${o.name} is already connected to network ${n.name}`, { hint: `disconnect it first: tspod network disconnect ${n.name} ${o.name}` });
      let chosen: { ip: string; prefix: number; gateway: string } | undefined;
      for (const a of addresses(n, w.ip ? undefined : lastIps[n.name])) {
        if (w.ip ? a.ip === w.ip : !taken.has(`${n.name}/${a.ip}`)) { chosen = a; break; }
      }
      if (w.ip && (!chosen || taken.has(`${n.name}/${w.ip}`))) {
        throw new TspodError('E_NETWORK', chosen ? `IPAM error: requested ip address ${w.ip} is already allocated to container ID ${[...members].find(([, m]) => m.attachments.some((a) => a.network === n.name && a.ip === w.ip))?.[0] ?? '?'}` : `IPAM error: requested ip address ${w.ip} is not in the network ${n.name}'s range ${n.subnets[0].subnet}`, { hint: 'give another --ip, or leave it out for a free one' });
      }
      if (!chosen) throw new TspodError('E_NETWORK', `IPAM error: failed to find free IP in network ${n.name}: every address of ${n.subnets[0].subnet} is taken`, { hint: 'remove a container from it, or make a network with a larger --subnet' });
      taken.add(`${n.name}/${chosen.ip}`);
      if (!w.ip) lastIps[n.name] = chosen.ip;
      const iface = `eth${ifIndex++}`;
      const entry = { interface_name: iface, static_ips: [chosen.ip], aliases: w.aliases };
      // Networks are isolated from each other: a container reaches another network only by joining it.
      const info = { ...n, options: { ...(n.options ?? {}), isolate: 'true' } };
      request.networks[n.name] = entry; request.network_info[n.name] = info;
      added.networks[n.name] = entry; added.network_info[n.name] = info;
      attachments.push({ network: n.name, interface: iface, ip: chosen.ip, prefix: chosen.prefix, gateway: chosen.gateway, mac: '', aliases: w.aliases, dns: n.dns_enabled, internal: n.internal });
    }
    fs.writeFileSync(p.lastIps, JSON.stringify(lastIps));
    const file = path.join(p.members, `${o.id}.json`);
    const writeMember = () => {
      const member: Member = { netns: o.netns, request, attachments };
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(member));
      fs.renameSync(`${file}.tmp`, file);
    };
    // Recorded before netavark runs: a teardown meanwhile (a killed start) finds what to undo.
    writeMember();
    const up = (async () => {
      try {
        const [setup] = await Promise.all([netavark(o.runDir, 'setup', o.netns, added), usernet.up]);
        const out = JSON.parse(setup) as Record<string, { interfaces?: Record<string, { mac_address?: string }> }>;
        for (const a of attachments) { const mac = out[a.network]?.interfaces?.[a.interface]?.mac_address; if (mac) a.mac = mac; }
        writeMember();
      } catch (e) {
        if (existing) writeMember(); else fs.rmSync(file, { force: true });
        if (!readMembers(p.members).size) dropUsernet(o.runDir);
        throw e;
      } finally {
        release();
      }
    })();
    up.catch(() => undefined); // met where it is awaited
    handedOver = true;
    return { attachments, up };
  } catch (e) {
    if (!readMembers(p.members).size) dropUsernet(o.runDir);
    throw e;
  } finally {
    if (!handedOver) release();
  }
}

/**
 * Take a container off its networks (`only`: off that one alone, as `network disconnect`). The
 * last container to leave drops the whole usernet. Returns what it is still attached to.
 */
export async function leaveNetworks(runDir: string, id: string, only?: string): Promise<Attachment[]> {
  const p = paths(runDir);
  const file = path.join(p.members, `${id}.json`);
  if (!fs.existsSync(file)) return [];
  const release = await acquireLockAsync(p.lock);
  try {
    const members = readMembers(p.members);
    const me = members.get(id);
    members.delete(id);
    // Members whose container's namespace is gone were left by a killed tspod.
    const others = [...members.values()].filter((m) => fs.existsSync(m.netns));
    if (!me) return [];
    const gone = only ? me.attachments.filter((a) => a.network === only) : me.attachments;
    const kept = me.attachments.filter((a) => !gone.includes(a));
    if (!others.length && !kept.length) { dropUsernet(runDir); return []; }
    const request: Request = { ...me.request, networks: {}, network_info: {} };
    for (const a of gone) { request.networks[a.network] = me.request.networks[a.network]; request.network_info[a.network] = me.request.network_info[a.network]; }
    try { if (fs.existsSync(me.netns)) await netavark(runDir, 'teardown', me.netns, request); } catch (e) { if (only) throw e; }
    if (kept.length) {
      const left: Request = { ...me.request, networks: {}, network_info: {} };
      for (const a of kept) { left.networks[a.network] = me.request.networks[a.network]; left.network_info[a.network] = me.request.network_info[a.network]; }
      fs.writeFileSync(`${file}.tmp`, JSON.stringify({ ...me, request: left, attachments: kept }));
      fs.renameSync(`${file}.tmp`, file);
    } else {
      fs.rmSync(file, { force: true });
    }
    return kept;
  } finally {
    release();
  }
}

/** The usernet's namespace file, for helpers that must work inside it (the port forwarder). */
export const usernetNetns = (runDir: string) => paths(runDir).netns;

/** A container's attachments as recorded, or [] when it is on no user network. */
export function attachmentsOf(runDir: string, id: string): Attachment[] {
  try { return (JSON.parse(fs.readFileSync(path.join(paths(runDir).members, `${id}.json`), 'utf8')) as Member).attachments; } catch { return []; }
}

/**
 * network reload: set a running container's networks up again as they were (the same addresses and
 * MAC addresses), and netavark's firewall rules with them. False when it is on no user network.
 */
export async function reloadNetworks(runDir: string, id: string): Promise<boolean> {
  const p = paths(runDir);
  if (!fs.existsSync(path.join(p.members, `${id}.json`))) return false;
  const release = await acquireLockAsync(p.lock);
  try {
    const me = readMembers(p.members).get(id);
    if (!me || !fs.existsSync(me.netns)) return false;
    try { await netavark(runDir, 'teardown', me.netns, me.request); } catch { /* rules already gone: set up again below */ }
    const request: Request = { ...me.request, networks: {} };
    for (const [name, entry] of Object.entries(me.request.networks)) {
      const mac = me.attachments.find((a) => a.network === name)?.mac;
      request.networks[name] = { ...entry, ...(mac ? { static_mac: mac } : {}) };
    }
    await netavark(runDir, 'setup', me.netns, request);
    return true;
  } finally {
    release();
  }
}
