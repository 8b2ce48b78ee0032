// User-defined networks: their definitions, in netavark's own JSON (what `netavark setup` reads and
// what Podman keeps in storage/networks/NAME.json), one file per network under the store's
// networks/ directory. The default network "podman" is not stored: it is always there.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import { TspodError, EXIT_TSPOD } from '../errors.js';
import { ipToInt, intToIp, parseNetworkCidr, overlaps } from '../net/ipv4.js';
import type { NetavarkNetwork, Subnet } from '../net/usernet.js';
import { userNetworkNames } from '../net/mode.js';
import { parseLabels } from './labels.js';
import { byText } from './filters.js';
import type { Store } from '../storage/store.js';
import { objectEvent } from './events.js';

export type { Subnet } from '../net/usernet.js';
/** netavark's network definition, field for field. */
export type NetworkConfig = NetavarkNetwork;

export interface CreateNetworkOptions {
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  disableDns?: boolean;
  labels?: string[];
  driver?: string;
}

export const DEFAULT_NETWORK = 'podman';
const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
// Podman's: the default network's id is fixed, and new networks take /24s of 10.89.0.0/16 in turn.
const DEFAULT_ID = '2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9';
const POOL_BASE = (10 << 24) | (89 << 16);

const dir = (store: Store) => path.join(store.root, 'networks');
const file = (store: Store, name: string) => path.join(dir(store), `${name}.json`);

function defaultNetwork(): NetworkConfig {
  return {
    name: DEFAULT_NETWORK, id: DEFAULT_ID, driver: 'bridge', network_interface: 'podman0', created: new Date().toISOString(),
    subnets: [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }], ipv6_enabled: false, internal: false, dns_enabled: false, ipam_options: { driver: 'host-local' },
  };
}

/** Every network, the default one among them, by name. */
export function listNetworks(store: Store): NetworkConfig[] {
  let names: string[] = [];
  try { names = fs.readdirSync(dir(store)).filter((n) => n.endsWith('.json')).sort(); } catch { /* none yet */ }
  const stored = names.flatMap((n) => { try { return [JSON.parse(fs.readFileSync(path.join(dir(store), n), 'utf8')) as NetworkConfig]; } catch { return []; } });
  return [defaultNetwork(), ...stored].sort((a, b) => byText(a.name, b.name));
}

/** A network by name, full id or id prefix; undefined when there is none. */
export function lookupNetwork(store: Store, ref: string): NetworkConfig | undefined {
  const all = listNetworks(store);
  const byName = all.find((n) => n.name === ref);
  if (byName) return byName;
  const byId = all.filter((n) => /^[0-9a-f]+$/.test(ref) && n.id.startsWith(ref));
  if (byId.length > 1) throw new TspodError('E_USAGE', `more than one network matches the id prefix ${ref}`, { hint: 'give more of the id, or the name' });
  return byId[0];
}

/** A network by name or id; one that is not there ends the command with `exitCode` (network rm/inspect: 1, as Podman). */
export function findNetwork(store: Store, ref: string, exitCode = 1): NetworkConfig {
  const n = lookupNetwork(store, ref);
  if (!n) throw new TspodError('E_NO_NETWORK', `unable to find network with name or ID ${ref}: network not found`, { exitCode, hint: exitCode === 1 ? undefined : 'create it first: tspod network create NAME' });
  return n;
}

function parseCidr(cidr: string, flag: string): { base: number; bits: number } {
  const parsed = parseNetworkCidr(cidr);
  if (!parsed || parsed.bits > 30) throw new TspodError('E_USAGE', `invalid CIDR address: ${cidr}`, { hint: `give ${flag} an IPv4 network with room for containers, e.g. 10.90.0.0/24` });
  return parsed;
}

export function createNetwork(store: Store, name: string | undefined, o: CreateNetworkOptions = {}): NetworkConfig {
  if ((o.driver ?? 'bridge') !== 'bridge') throw new TspodError('E_USAGE', `unsupported driver ${o.driver}: invalid argument`, { hint: 'tspod networks use the bridge driver' });
  if ((o.gateway || o.ipRange) && !o.subnet) throw new TspodError('E_USAGE', 'cannot set gateway or range without subnet', { hint: 'give --subnet too' });
  const labels = parseLabels(o.labels ?? []);
  store.init();
  return store.withLock(() => {
    const all = listNetworks(store);
    const chosen = name ?? (() => { let i = 1; while (all.some((n) => n.name === `podman${i}`)) i++; return `podman${i}`; })();
    if (!NAME_PATTERN.test(chosen)) throw new TspodError('E_USAGE', `network name ${chosen} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`);
    if (all.some((n) => n.name === chosen)) throw new TspodError('E_NETWORK_EXISTS', `network name ${chosen} already used: network already exists`);
    const used = all.flatMap((n) => n.subnets.map((s) => ({ network: n.name, ...parseCidr(s.subnet, '--subnet') })));
    let subnet: { base: number; bits: number };
    if (o.subnet) {
      subnet = parseCidr(o.subnet, '--subnet');
      const clash = used.find((u) => overlaps(u, subnet));
      if (clash) throw new TspodError('E_USAGE', `subnet ${o.subnet} is already used on the host or by another config`, { hint: `network ${clash.network} has it: pick another --subnet` });
    } else {
      let k = 0;
      while (k < 256 && used.some((u) => overlaps(u, { base: (POOL_BASE | (k << 8)) >>> 0, bits: 24 }))) k++;
      if (k === 256) throw new TspodError('E_NETWORK', 'no free /24 left in 10.89.0.0/16 for a new network', { hint: 'give one with --subnet' });
      subnet = { base: (POOL_BASE | (k << 8)) >>> 0, bits: 24 };
    }
    const size = 2 ** (32 - subnet.bits);
    const inside = (ip: string) => net.isIPv4(ip) && ipToInt(ip) > subnet.base && ipToInt(ip) < subnet.base + size - 1;
    if (o.gateway && !inside(o.gateway)) throw new TspodError('E_USAGE', `gateway ${o.gateway} not in subnet ${intToIp(subnet.base)}/${subnet.bits}`, { hint: 'give a gateway address inside --subnet' });
    const entry: Subnet = { subnet: `${intToIp(subnet.base)}/${subnet.bits}`, gateway: o.gateway ?? intToIp(subnet.base + 1) };
    if (o.ipRange) {
      const r = parseCidr(o.ipRange, '--ip-range');
      if (!overlaps(r, subnet) || r.bits < subnet.bits) throw new TspodError('E_USAGE', `ip range ${o.ipRange} is not in subnet ${entry.subnet}`, { hint: 'give --ip-range a part of --subnet' });
      const rsize = 2 ** (32 - r.bits);
      entry.lease_range = { start_ip: intToIp(r.base + 1), end_ip: intToIp(r.base + rsize - 1) };
    }
    let ifIndex = 1;
    while (all.some((n) => n.network_interface === `podman${ifIndex}`)) ifIndex++;
    const config: NetworkConfig = {
      name: chosen, id: crypto.randomBytes(32).toString('hex'), driver: 'bridge', network_interface: `podman${ifIndex}`, created: new Date().toISOString(),
      subnets: [entry], ipv6_enabled: false, internal: !!o.internal, dns_enabled: !o.disableDns,
      ...(Object.keys(labels).length ? { labels } : {}), ipam_options: { driver: 'host-local' },
    };
    fs.mkdirSync(dir(store), { recursive: true, mode: 0o700 });
    const tmp = `${file(store, chosen)}.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(config, null, 5));
    fs.renameSync(tmp, file(store, chosen));
    objectEvent('network', 'create', config.name, config.id);
    return config;
  });
}

/** The containers that use a network (their --network names it). */
export function networkUsers(store: Store, name: string, containers = store.listContainers()): string[] {
  return containers.filter((c) => userNetworkNames(c.config?.network)?.includes(name)).map((c) => c.id);
}

/** Remove a network; one in use needs force, which removes its containers first (Podman's exit 2 otherwise). */
export async function removeNetwork(store: Store, ref: string, o: { force?: boolean; timeoutSec?: number } = {}): Promise<string> {
  const n = findNetwork(store, ref);
  if (n.name === DEFAULT_NETWORK) throw new TspodError('E_USAGE', `default network ${DEFAULT_NETWORK} cannot be removed`);
  const users = networkUsers(store, n.name);
  if (users.length && !o.force) throw new TspodError('E_NETWORK_IN_USE', `"${n.name}" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used`, { exitCode: 2 });
  const { removeContainer } = await import('./lifecycle.js');
  const { findContainer } = await import('./containers.js');
  for (const id of users) await removeContainer(store, findContainer(store, id), { force: true, timeoutSec: o.timeoutSec ?? 0, volumes: false });
  fs.rmSync(file(store, n.name), { force: true });
  objectEvent('network', 'remove', n.name, n.id);
  return n.name;
}

/** Remove every network no container uses (the default one stays). */
export async function pruneNetworks(store: Store): Promise<string[]> {
  const gone: string[] = [];
  const containers = store.listContainers();
  for (const n of listNetworks(store)) {
    if (n.name === DEFAULT_NETWORK || networkUsers(store, n.name, containers).length) continue;
    fs.rmSync(file(store, n.name), { force: true });
    gone.push(n.name);
  }
  return gone;
}

/**
 * network connect: the container joins one more network. A running one gets its interface at once
 * (and the network's resolver in its resolv.conf); either way the network is kept for its next starts.
 */
export async function connectContainer(store: Store, netRef: string, ctrRef: string, o: { aliases?: string[]; ip?: string } = {}): Promise<void> {
  const n = findNetwork(store, netRef, EXIT_TSPOD);
  const { findContainer, withContainer, containerGone } = await import('./containers.js');
  const target = findContainer(store, ctrRef);
  const done = await withContainer(store, target.id, async (rec) => {
    const names = userNetworksOf(rec);
    if (!names) throw new TspodError('E_NETWORK', `container ${rec.name} is not on a user network (its --network is ${rec.config?.network ?? 'the default'}): network connect is only for bridge networks`, { hint: 'create it with --network NAME to connect it to more networks later' });
    if (names.includes(n.name)) throw new TspodError('E_NETWORK', `container ${rec.name} is already connected to network ${n.name}`);
    const config = { ...rec.config!, network: [...names, n.name].join(',') };
    let network = rec.network;
    if (rec.state === 'running' && rec.network?.nsPath) {
      const { joinNetworks } = await import('../net/usernet.js');
      const { runtimeDir } = await import('../paths.js');
      const got = await joinNetworks({ runDir: runtimeDir(), id: rec.id, name: rec.name, netns: rec.network.nsPath, wants: [{ network: n, ip: o.ip, aliases: [...(o.aliases ?? []), rec.id.slice(0, 12)] }] });
      network = { ...rec.network, attachments: got };
      await follow(store, rec, got);
    }
    store.writeContainer({ ...rec, config, network });
    return true;
  });
  if (!done) throw containerGone(target.name);
}

/** network disconnect: off one network, at once if it runs, and for its next starts. */
export async function disconnectContainer(store: Store, netRef: string, ctrRef: string): Promise<void> {
  const n = findNetwork(store, netRef, EXIT_TSPOD);
  const { findContainer, withContainer, containerGone } = await import('./containers.js');
  const target = findContainer(store, ctrRef);
  const done = await withContainer(store, target.id, async (rec) => {
    const names = userNetworksOf(rec);
    if (!names?.includes(n.name)) throw new TspodError('E_NETWORK', `container ${rec.name} is not connected to network ${n.name}`);
    const left = names.filter((x) => x !== n.name);
    // With no network left it has only its loopback, as --network none.
    const config = { ...rec.config!, network: left.length ? left.join(',') : 'none' };
    let network = rec.network;
    if (rec.state === 'running' && rec.network?.nsPath) {
      const { leaveNetworks } = await import('../net/usernet.js');
      const { runtimeDir } = await import('../paths.js');
      const kept = await leaveNetworks(runtimeDir(), rec.id, n.name);
      network = { ...rec.network, attachments: kept };
      await follow(store, rec, kept);
    }
    store.writeContainer({ ...rec, config, network });
    return true;
  });
  if (!done) throw containerGone(target.name);
}

/** The user networks a container is on, or undefined when its --network is something else. */
function userNetworksOf(rec: import('../storage/store.js').ContainerRecord): string[] | undefined {
  if (rec.config?.network === 'none' && rec.network?.mode === 'bridge') return [];
  return userNetworkNames(rec.config?.network);
}

/** A running container's ports, resolv.conf and /etc/hosts after it joined or left a network. */
async function follow(store: Store, rec: import('../storage/store.js').ContainerRecord, after: import('../net/usernet.js').Attachment[]): Promise<void> {
  const [{ followAttachments }, { runtimeDir }] = await Promise.all([import('../net/slirp/network.js'), import('../paths.js')]);
  await followAttachments({
    nsPath: rec.network!.nsPath!, runDir: runtimeDir(), userdata: path.join(store.containerDir(rec.id), 'userdata'), ports: rec.config?.ports ?? [],
    before: rec.network?.attachments ?? [], after, hostname: rec.config?.hostname ?? rec.id.slice(0, 12), name: rec.name,
  });
}

/** network reload: each running container's networks set up again (addresses and MACs kept); returns their ids. */
export async function reloadContainers(store: Store, refs: string[], all: boolean): Promise<string[]> {
  const [{ findContainer, current }, { reloadNetworks }, { runtimeDir }] = await Promise.all([import('./containers.js'), import('../net/usernet.js'), import('../paths.js')]);
  const targets = all ? store.listContainers().filter((c) => current(store, c.id)?.state === 'running') : refs.map((r) => findContainer(store, r));
  const done: string[] = [];
  for (const rec of targets) {
    if (current(store, rec.id)?.state !== 'running') throw new TspodError('E_CONTAINER_NOT_RUNNING', `container ${rec.name} is not running: there is no network to reload`, { hint: `start it first: tspod start ${rec.name}` });
    await reloadNetworks(runtimeDir(), rec.id);
    done.push(rec.id);
  }
  return done;
}
