// Confinement: capabilities, seccomp, namespaces, the user namespace mode, devices, sysctls and
// cgroup limits. create checks the flags whole (every mistake is one 125 before anything is
// written) and records them; each start turns the record into the runtime spec's pieces.
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../errors.js';
import type { Store, ContainerRecord, Confinement, Resources, IdMap } from '../storage/store.js';
import type { SpecOptions, Mount, NsChoice } from '../runtime/spec.js';
import { parseRamSize } from '../units.js';
import { hostUid, hostGid, isRootless } from '../paths.js';
import { cgroupVersion, runtimeCommand, findRuntime } from '../runtime/oci.js';
import { containersConf } from '../config.js';
import { parseSecurityOpts, parseUlimits, seccompFor } from '../runtime/seccomp.js';
import { capabilitySet, ALL_CAPS, MASKED_PATHS, READONLY_PATHS } from '../runtime/spec.js';
import { resolveInRoot } from '../runtime/rootpath.js';
import { accountEntry } from '../userns/subid.js';
import { findContainer, current, containerPid, withContainer, runcStateRoot } from './containers.js';

/** A mistake in a flag: exit 125, one line with its fix. */
const usage = (message: string, hint?: string) => new TspodError('E_USAGE', message, { hint });

/** The flags as the commands take them, unparsed. */
export interface ConfinementFlags {
  securityOpt?: string[];
  ulimits?: string[];
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  sysctl?: string[];
  shmSize?: string;
  readOnlyTmpfs?: boolean;
  devices?: string[];
  groupAdd?: string[];
  init?: boolean;
  initPath?: string;
  pid?: string;
  ipc?: string;
  uts?: string;
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
  /** --memory, --cpus, ...: flag name (without --) to value */
  resources?: Record<string, string | undefined>;
}

/** The resource flags, as Podman names them, and how each is read. */
const RESOURCE_FLAGS: Record<string, { key: keyof Resources; parse: (v: string) => number | string | undefined }> = {
  memory: { key: 'memory', parse: (v) => parseRamSize(v) },
  'memory-swap': { key: 'memorySwap', parse: (v) => (v === '-1' ? -1 : parseRamSize(v)) },
  'memory-reservation': { key: 'memoryReservation', parse: (v) => parseRamSize(v) },
  cpus: { key: 'cpus', parse: (v) => (/^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined) },
  'cpu-shares': { key: 'cpuShares', parse: (v) => (/^\d+$/.test(v) ? Number(v) : undefined) },
  'cpuset-cpus': { key: 'cpusetCpus', parse: (v) => (/^(\d+(-\d+)?)(,\d+(-\d+)?)*$/.test(v) ? v : undefined) },
  'cpuset-mems': { key: 'cpusetMems', parse: (v) => (/^(\d+(-\d+)?)(,\d+(-\d+)?)*$/.test(v) ? v : undefined) },
  'pids-limit': { key: 'pidsLimit', parse: (v) => (/^-?\d+$/.test(v) ? Number(v) : undefined) },
  'blkio-weight': { key: 'blkioWeight', parse: (v) => (/^\d+$/.test(v) && ((Number(v) >= 10 && Number(v) <= 1000) || v === '0') ? Number(v) : undefined) },
};

/** --memory and the others as Resources; a value that is none: 125 naming the flag. */
export function parseResources(flags: Record<string, string | undefined>): Resources | undefined {
  const out: Resources = {};
  for (const [flag, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const known = RESOURCE_FLAGS[flag];
    if (!known) throw usage(`--${flag} is not a resource limit tspod knows`);
    const parsed = known.parse(value);
    if (parsed === undefined) throw usage(`invalid argument "${value}" for "--${flag}" flag`, flag.startsWith('memory') ? 'give a size such as 512m or 1g' : flag === 'blkio-weight' ? 'give a weight from 10 to 1000' : 'see tspod run --help');
    (out as Record<string, unknown>)[known.key] = parsed;
  }
  if (out.memorySwap !== undefined && out.memorySwap !== -1 && out.memory !== undefined && out.memorySwap < out.memory) {
    throw usage('minimum memoryswap limit should be larger than memory limit, see usage');
  }
  return Object.keys(out).length ? out : undefined;
}

/** Resource flags that ask for a limit (0 means none), by name and value as given. */
const limiting = (flags: Record<string, string | undefined>) => Object.entries(flags).filter(([, v]) => v !== undefined && v !== '0' && v !== '-1');

/**
 * Where limits cannot apply, say so: rootless on cgroup v1 every controller is root-owned. Podman's
 * line first, as it prints it, then which limits are lost. Returns whether they can apply.
 */
export function resourcesApply(flags: Record<string, string | undefined>, warn: (line: string) => void): boolean {
  if (!Object.values(flags).some((v) => v !== undefined) || !isRootless()) return true;
  const v1 = cgroupVersion() === 'v1';
  if (!v1 && delegatedCgroup()) return true;
  if (v1) warn('Resource limits are not supported and ignored on cgroups V1 rootless systems');
  const why = v1 ? 'on cgroup v1 a rootless container has no cgroup of its own; boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2, delegated by systemd) or run as root'
    : 'your cgroup v2 subtree is not delegated to you (no controllers in its cgroup.subtree_control); run tspod from a systemd user session (systemd-run --user --scope)';
  const lost = limiting(flags);
  if (lost.length) warn(`Warning: ignored ${lost.map(([f, v]) => `--${f}=${v}`).join(', ')}: ${why}`);
  return false;
}

/** This process's cgroup v2 directory when the user can make child cgroups there with controllers. */
export function delegatedCgroup(): string | undefined {
  try {
    const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    if (!line) return undefined;
    const dir = path.join('/sys/fs/cgroup', line.slice(3));
    fs.accessSync(dir, fs.constants.W_OK);
    return fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim() ? dir : undefined;
  } catch { return undefined; }
}

/** linux.resources of the OCI spec for these limits (cgroup v1 and v2 alike: the runtime translates). */
export function specResources(r: Resources): object {
  const period = 100_000;
  return {
    ...(r.memory !== undefined || r.memorySwap !== undefined || r.memoryReservation !== undefined ? {
      memory: {
        ...(r.memory ? { limit: r.memory } : {}),
        // Docker's --memory-swap is memory plus swap; -1 is unlimited.
        ...(r.memorySwap ? { swap: r.memorySwap } : r.memory ? { swap: r.memory * 2 } : {}),
        ...(r.memoryReservation ? { reservation: r.memoryReservation } : {}),
      },
    } : {}),
    ...(r.cpus || r.cpuShares || r.cpusetCpus || r.cpusetMems ? {
      cpu: {
        ...(r.cpus ? { quota: Math.round(r.cpus * period), period } : {}),
        ...(r.cpuShares ? { shares: r.cpuShares } : {}),
        ...(r.cpusetCpus ? { cpus: r.cpusetCpus } : {}),
        ...(r.cpusetMems ? { mems: r.cpusetMems } : {}),
      },
    } : {}),
    ...(r.pidsLimit ? { pids: { limit: r.pidsLimit } } : {}),
    ...(r.blkioWeight ? { blockIO: { weight: r.blkioWeight } } : {}),
  };
}

// Namespaced sysctls a container may set (Docker's and Podman's list); net.* needs its own network.
const SYSCTL_IPC = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

function parseSysctls(list: string[], o: { ipc?: string; uts?: string; network?: string }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list) {
    const i = s.indexOf('=');
    if (i <= 0) throw usage(`invalid --sysctl "${s}"`, 'use --sysctl NAME=VALUE, e.g. net.ipv4.ip_forward=1');
    const name = s.slice(0, i).trim(), value = s.slice(i + 1);
    const ipc = SYSCTL_IPC.includes(name) || name.startsWith('fs.mqueue.');
    if (ipc && o.ipc === 'host') throw usage(`sysctl "${name}" is not allowed in the hosts ipc namespace`, 'drop --ipc host, or the sysctl');
    else if (name === 'kernel.domainname' || name === 'kernel.hostname') { if (o.uts === 'host') throw usage(`sysctl "${name}" is not allowed in the hosts uts namespace`); }
    else if (name.startsWith('net.')) { if (o.network === 'host') throw usage(`sysctl "${name}" can't be set since Network Namespace set to host`, 'drop --network host, or the sysctl'); }
    else if (!ipc) throw usage(`sysctl "${name}" is not allowed: it is not namespaced, so it would change the host`, 'a container may set net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, kernel.domainname');
    out[name] = value;
  }
  return out;
}

/** --device HOST[:CONTAINER][:PERMS], the host side a device node (or a directory of them). */
function parseDevices(list: string[]): Array<{ host: string; container: string; perms: string }> {
  const out: Array<{ host: string; container: string; perms: string }> = [];
  for (const d of list) {
    const parts = d.split(':');
    const host = parts[0];
    let container = host, perms = 'rwm';
    if (parts.length === 2) { if (/^[rwm]+$/.test(parts[1])) perms = parts[1]; else container = parts[1]; }
    if (parts.length === 3) { container = parts[1]; perms = parts[2]; }
    if (parts.length > 3 || !/^[rwm]+$/.test(perms) || !host.startsWith('/') || !container.startsWith('/')) throw usage(`invalid --device "${d}"`, 'use --device /dev/HOST[:/dev/CONTAINER][:rwm]');
    let st: fs.Stats;
    try { st = fs.statSync(host); } catch { throw new TspodError('E_USAGE', `--device ${d}: ${host}: no such file or directory`, { hint: 'name a device node that exists on this machine' }); }
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(host)) {
        const p = path.join(host, name);
        try { const s = fs.statSync(p); if (s.isCharacterDevice() || s.isBlockDevice()) out.push({ host: p, container: path.join(container, name), perms }); } catch { /* gone */ }
      }
    } else if (st.isCharacterDevice() || st.isBlockDevice()) out.push({ host, container, perms });
    else throw new TspodError('E_USAGE', `--device ${d}: ${host} is not a device`, { hint: 'name a character or block device, e.g. /dev/fuse' });
  }
  return out;
}

/** A namespace flag: private, host, container:NAME (resolved to its id), ns:PATH; ipc also shareable and none. */
function parseNamespace(store: Store, flag: 'pid' | 'ipc' | 'uts', value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const modes = flag === 'ipc' ? ['private', 'host', 'shareable', 'none'] : ['private', 'host'];
  if (modes.includes(value)) return value;
  if (value.startsWith('container:')) return `container:${findContainer(store, value.slice('container:'.length)).id}`;
  if (value.startsWith('ns:') && value.length > 3) {
    if (!fs.existsSync(value.slice(3))) throw usage(`--${flag} ${value}: ${value.slice(3)} does not exist`);
    return value;
  }
  throw usage(`invalid --${flag} "${value}"`, `use ${modes.join(', ')}, container:NAME or ns:PATH`);
}

/** The ids this user namespace (the pause process's, where tspod runs) has: container ids are carved from them. */
function parentIdCount(kind: 'uid' | 'gid'): number {
  try {
    return fs.readFileSync(`/proc/self/${kind}_map`, 'utf8').trim().split('\n').reduce((n, l) => n + Number(l.trim().split(/\s+/)[2] ?? 0), 0);
  } catch { return 65536; }
}

/** --uidmap CONTAINER:HOST:SIZE, HOST counted in tspod's own user namespace (0 is you). */
function parseIdMaps(flag: string, list: string[], limit: number): IdMap[] {
  return list.map((m) => {
    const p = m.split(':').map((n) => (/^\d+$/.test(n) ? Number(n) : NaN));
    if (p.length !== 3 || p.some(Number.isNaN) || p[2] === 0) throw usage(`invalid ${flag} "${m}"`, `use ${flag} CONTAINER_ID:HOST_ID:SIZE`);
    if (p[1] + p[2] > limit) throw usage(`${flag} ${m}: your user namespace has only ${limit} ids (0 is you, then /etc/subuid's range)`, 'map within them');
    return { container: p[0], host: p[1], size: p[2] };
  });
}

/**
 * --userns keep-id: your uid and gid inside map to you; the ids below them to the first
 * subordinate ones, those above to the rest (as Podman lays it out).
 */
function keepIdMaps(inside: number, count: number): IdMap[] {
  const maps: IdMap[] = [{ container: inside, host: 0, size: 1 }];
  if (inside > 0) maps.push({ container: 0, host: 1, size: Math.min(inside, count - 1) });
  if (count - 1 > inside) maps.push({ container: inside + 1, host: inside + 1, size: count - 1 - inside });
  return maps.sort((a, b) => a.container - b.container);
}

/** auto: a range of the subordinate ids no other container of this user holds (size from :size=, else 1024 or the image's highest id). */
function autoMaps(store: Store, size: number): IdMap {
  const count = Math.min(parentIdCount('uid'), parentIdCount('gid'));
  const taken = store.listContainers().flatMap((r) => (r.config?.confinement?.userns?.startsWith('auto') ? r.config.confinement.uidMap ?? [] : []));
  for (let start = 1; start + size <= count; start += size) {
    if (!taken.some((m) => start < m.host + m.size && m.host < start + size)) return { container: 0, host: start, size };
  }
  throw new TspodError('E_USERNS', `--userns auto: no free range of ${size} ids is left among your ${count - 1} subordinate ones`, { hint: 'remove containers with --userns auto, ask for a smaller size (auto:size=N), or give your user more ids in /etc/subuid and /etc/subgid' });
}

/** --userns as a mode and mappings; undefined mappings: the container shares tspod's user namespace. */
function parseUserns(store: Store, value: string | undefined, uidmap: string[], gidmap: string[], rootless: boolean): Pick<Confinement, 'userns' | 'uidMap' | 'gidMap'> {
  const uids = parentIdCount('uid'), gids = parentIdCount('gid');
  if (uidmap.length || gidmap.length) {
    if (value && value !== 'private') throw usage(`--userns ${value} cannot be used with --uidmap or --gidmap`);
    const u = parseIdMaps('--uidmap', uidmap.length ? uidmap : gidmap, uids), g = parseIdMaps('--gidmap', gidmap.length ? gidmap : uidmap, gids);
    return { userns: 'private', uidMap: u, gidMap: g };
  }
  if (value === undefined || value === '' || value === 'host') return value === 'host' ? { userns: 'host' } : {};
  const [mode, optText] = [value.split(':')[0], value.slice(value.indexOf(':') + 1)];
  const opts = Object.fromEntries((value.includes(':') ? optText.split(',') : []).map((kv) => kv.split('=') as [string, string]));
  const number = (k: string) => {
    if (opts[k] === undefined) return undefined;
    if (!/^\d+$/.test(opts[k])) throw usage(`--userns ${value}: ${k} must be a number`);
    return Number(opts[k]);
  };
  if (mode === 'keep-id') {
    if (!rootless) throw usage('keep-id is only supported in rootless mode');
    for (const k of Object.keys(opts)) if (!['uid', 'gid'].includes(k)) throw usage(`--userns ${value}: unknown option "${k}"`, 'keep-id takes uid=UID,gid=GID');
    const uid = number('uid') ?? hostUid(), gid = number('gid') ?? hostGid();
    if (uid >= uids || gid >= gids) throw usage(`--userns ${value}: ${uid}:${gid} is beyond the ${Math.min(uids, gids)} ids of your user namespace`, 'use keep-id:uid=N,gid=N with smaller ids');
    return { userns: value, uidMap: keepIdMaps(uid, uids), gidMap: keepIdMaps(gid, gids) };
  }
  if (mode === 'nomap') {
    if (!rootless) throw usage('nomap is only supported in rootless mode');
    return { userns: 'nomap', uidMap: [{ container: 0, host: 1, size: uids - 1 }], gidMap: [{ container: 0, host: 1, size: gids - 1 }] };
  }
  if (mode === 'auto') {
    for (const k of Object.keys(opts)) if (!['size', 'uidmapping', 'gidmapping'].includes(k)) throw usage(`--userns ${value}: unknown option "${k}"`, 'auto takes size=N');
    const range = autoMaps(store, number('size') ?? 1024);
    return { userns: value, uidMap: [range], gidMap: [range] };
  }
  if (mode === 'private') return {};
  if (mode.startsWith('ns')) throw usage(`--userns ${value}: joining another user namespace is not supported`, 'use keep-id, nomap, auto, host, or --uidmap');
  throw usage(`invalid --userns "${value}"`, 'use keep-id[:uid=N,gid=N], nomap, auto[:size=N], host, or private');
}

/** The catatonit --init runs: --init-path, containers.conf's init_path, else where Debian and Podman put it. */
function initBinary(given: string | undefined): string {
  for (const p of given ? [given] : ['/usr/libexec/podman/catatonit', '/usr/bin/catatonit']) {
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  throw new TspodError('E_USAGE', `--init: ${given ?? 'catatonit'} not found${given ? '' : ' in /usr/libexec/podman or /usr/bin'}`, { hint: given ? 'give --init-path an executable init' : 'apt-get install catatonit' });
}

/** Check every confinement flag and make the record create keeps. */
export function checkConfinement(store: Store, f: ConfinementFlags, o: { network?: string; runtime?: string; rootless: boolean }): Confinement | undefined {
  const conf = containersConf();
  parseSecurityOpts(f.securityOpt ?? []);
  parseUlimits(f.ulimits ?? []);
  capabilitySet(f.capAdd ?? [], f.capDrop ?? []);
  const ipc = parseNamespace(store, 'ipc', f.ipc);
  const pid = parseNamespace(store, 'pid', f.pid);
  const uts = parseNamespace(store, 'uts', f.uts);
  if (ipc?.startsWith('container:')) {
    const donor = store.readContainer(ipc.slice('container:'.length))!;
    if ((donor.config?.confinement?.ipc ?? conf.ipcns ?? 'shareable') === 'private') {
      throw new TspodError('E_USAGE', `joining the IPC namespace of container ${donor.name} is not allowed: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
  }
  const groupAdd = f.groupAdd ?? [];
  if (groupAdd.includes('keep-groups')) {
    if (groupAdd.length > 1) throw usage('the \'--group-add keep-groups\' option is not allowed with any other --group-add options');
    if ((o.runtime ?? 'runc').endsWith('runc')) throw usage('--group-add keep-groups needs crun: runc always sets the supplementary groups', 'add --runtime crun');
  }
  for (const g of groupAdd) if (g !== 'keep-groups' && !/^[\w.-]+$/.test(g)) throw usage(`invalid --group-add "${g}"`, 'give a group name or id');
  let shmSize: number | undefined;
  if (f.shmSize !== undefined) {
    shmSize = parseRamSize(f.shmSize);
    if (!shmSize) throw usage(`invalid --shm-size "${f.shmSize}"`, 'give a size such as 64m');
  } else if (conf.shmSize) shmSize = parseRamSize(conf.shmSize);
  const userns = parseUserns(store, f.userns ?? conf.userns, f.uidmap ?? [], f.gidmap ?? [], o.rootless);
  const c: Confinement = {
    securityOpt: f.securityOpt?.length ? f.securityOpt : undefined, ulimits: f.ulimits?.length ? f.ulimits : undefined,
    capAdd: f.capAdd?.length ? f.capAdd : undefined, capDrop: f.capDrop?.length ? f.capDrop : undefined,
    privileged: f.privileged || undefined,
    sysctls: f.sysctl?.length ? parseSysctls(f.sysctl, { ipc, uts, network: o.network }) : undefined,
    shmSize, noReadOnlyTmpfs: f.readOnlyTmpfs === false || undefined,
    devices: f.devices?.length ? parseDevices(f.devices) : undefined,
    groupAdd: groupAdd.length ? groupAdd : undefined,
    init: f.init || conf.init ? initBinary(f.initPath ?? conf.initPath) : undefined,
    pid, ipc, uts, ...userns,
    resources: f.resources ? parseResources(f.resources) : undefined,
  };
  const kept = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as Confinement;
  return Object.keys(kept).length ? kept : undefined;
}

/** A namespace the container joins or shares, as the spec takes it; the donor must be running. */
function namespaceChoice(store: Store, kind: 'pid' | 'ipc' | 'uts', mode: string | undefined): NsChoice {
  if (!mode || ['private', 'shareable', 'none'].includes(mode)) return 'new';
  if (mode === 'host') return 'host';
  if (mode.startsWith('ns:')) return { path: mode.slice(3) };
  return { path: `/proc/${donorPid(store, mode.slice('container:'.length), kind)}/ns/${kind}` };
}

function donorPid(store: Store, id: string, kind: string): number {
  const donor = current(store, id);
  if (!donor) throw new TspodError('E_NO_CONTAINER', `container ${id.slice(0, 12)} whose ${kind} namespace this one joins is gone`, { hint: 'create this container again with another --' + kind });
  const pid = containerPid(store, donor);
  if (!pid) throw new TspodError('E_CONTAINER_NOT_RUNNING', `cannot join the ${kind} namespace of container ${donor.name}: it is not running`, { hint: `start it first: tspod start ${donor.name}` });
  return pid;
}

/** The spec's share of a container's confinement, at each start. */
export function confinementSpec(store: Store, rec: ContainerRecord, o: { networkMode: string; rootless: boolean; usernsPath?: string }): Partial<SpecOptions> {
  const c = rec.config?.confinement ?? {};
  const conf = containersConf();
  const security = parseSecurityOpts(c.securityOpt ?? []);
  const caps = c.privileged ? ALL_CAPS : capabilitySet(c.capAdd ?? [], c.capDrop ?? []);
  // A non-root user has no capabilities but the ones --cap-add names (all of them for ALL, or privileged).
  const userCaps = c.privileged || (c.capAdd ?? []).some((a) => a.trim().toUpperCase() === 'ALL') ? caps : capabilitySet(c.capAdd ?? [], ['ALL']);
  // unmask=ALL (and --privileged) lifts them all; a path ending in /* every one under it.
  const unmasked = (p: string) => c.privileged || security.unmask.some((u) => u === 'ALL' || u === p || (u.endsWith('/*') && p.startsWith(u.slice(0, -1))));
  const masked = [...MASKED_PATHS.filter((p) => !unmasked(p)), ...security.mask];
  const readonly = READONLY_PATHS.filter((p) => !unmasked(p));
  // containers.conf's default sysctls, then --sysctl; a network (or ipc) the container does not own takes none of its kind.
  const sysctls: Record<string, string> = {};
  for (const s of conf.defaultSysctls ?? []) { const i = s.indexOf('='); if (i > 0) sysctls[s.slice(0, i).trim()] = s.slice(i + 1); }
  Object.assign(sysctls, c.sysctls ?? {});
  for (const k of Object.keys(sysctls)) {
    if (k.startsWith('net.') && (o.networkMode === 'host' || o.networkMode === 'container')) delete sysctls[k];
    if ((k.startsWith('kernel.') && !k.endsWith('name') || k.startsWith('fs.mqueue')) && (c.ipc === 'host' || c.ipc?.startsWith('container:'))) delete sysctls[k];
  }
  const volumes: Mount[] = [];
  for (const d of c.devices ?? []) volumes.push({ destination: d.container, type: 'bind', source: d.host, options: ['bind', 'rprivate', ...(d.perms.includes('w') ? [] : ['ro'])] });
  if (c.privileged) volumes.push(...hostDevices(new Set(volumes.map((v) => v.destination))));
  let initArgs: string[] | undefined;
  if (c.init) {
    volumes.push({ destination: '/run/podman-init', type: 'bind', source: c.init, options: ['bind', 'ro', 'rprivate'] });
    initArgs = ['/run/podman-init', '--'];
  }
  const ipc = namespaceChoice(store, 'ipc', c.ipc);
  // A joined IPC namespace comes with its donor's /dev/shm, which the donor keeps outside itself.
  const shmFrom = c.ipc?.startsWith('container:') ? shmDir(store, c.ipc.slice('container:'.length)) : c.ipc === 'host' ? '/dev/shm' : sharesShm(c) ? shmDir(store, rec.id) : undefined;
  return {
    caps, userCaps,
    seccomp: c.privileged && !security.seccomp ? undefined : seccompFor(security.seccomp, caps),
    noNewPrivileges: security.noNewPrivileges,
    rlimits: parseUlimits(c.ulimits ?? []),
    maskedPaths: masked, readonlyPaths: readonly, privileged: !!c.privileged,
    sysctl: sysctls,
    pid: namespaceChoice(store, 'pid', c.pid), ipc: c.ipc === 'none' ? 'none' : ipc, uts: namespaceChoice(store, 'uts', c.uts),
    shm: { size: c.shmSize, source: shmFrom },
    readOnlyTmpfs: !c.noReadOnlyTmpfs,
    extraMounts: volumes, initArgs,
    ...cgroupOf(rec.id, c.resources, o.rootless),
    userns: c.uidMap && c.gidMap ? { uidMappings: c.uidMap, gidMappings: c.gidMap, path: o.usernsPath } : undefined,
    annotations: c.groupAdd?.includes('keep-groups') ? { 'run.oci.keep_original_groups': '1' } : undefined,
  };
}

/** Where a container whose IPC namespace others may join keeps its /dev/shm: a tmpfs start mounts. */
export const shmDir = (store: Store, id: string) => path.join(store.containerDir(id), 'userdata', 'shm');

/** Whether the container's IPC namespace is shareable (Podman's default), so its /dev/shm lives in shmDir. */
export function sharesShm(c: Confinement | undefined): boolean {
  return (c?.ipc ?? containersConf().ipcns ?? 'shareable') === 'shareable';
}

/**
 * Where the runtime puts the container's cgroup (so `stats` finds it), and its limits: as root
 * under /tspod on every controller; rootless only in a delegated cgroup v2 tree. Elsewhere (rootless
 * cgroup v1) the container has no cgroup of its own.
 */
export function containerCgroup(id: string, rootless: boolean): string | undefined {
  if (!rootless) return `/tspod/tspod-${id}`;
  const delegated = cgroupVersion() === 'v2' ? delegatedCgroup() : undefined;
  return delegated ? path.join(delegated.slice('/sys/fs/cgroup'.length), `tspod-${id}`) : undefined;
}

function cgroupOf(id: string, r: Resources | undefined, rootless: boolean): Pick<SpecOptions, 'resources' | 'cgroupsPath'> {
  const where = containerCgroup(id, rootless);
  return where ? { cgroupsPath: where, ...(r ? { resources: specResources(r) } : {}) } : {};
}

/**
 * A container whose user namespace leaves you out (nomap, auto, most --uidmap) has a root that is
 * not you: runc, already inside that namespace, must still reach the container's root and files
 * through the store. Its own directories become traversable (0711) for it; a parent that isn't is
 * named, with the fix.
 */
export function reachableByContainerRoot(store: Store, id: string, uidMap: IdMap[]): void {
  if (uidMap.some((m) => m.host === 0)) return;
  const dir = store.containerDir(id);
  for (const d of [store.root, path.dirname(dir), dir, path.join(dir, 'userdata')]) fs.chmodSync(d, (fs.statSync(d).mode & 0o777) | 0o111);
  for (let p = path.dirname(store.root); p !== '/'; p = path.dirname(p)) {
    // Group too: the runtime keeps your groups while it sets up the root, so your group's bits are the ones that count.
    if ((fs.statSync(p).mode & 0o011) !== 0o011) throw new TspodError('E_USERNS', `the container's root user (not you, with this --userns) cannot reach its files: ${p} is not searchable by group and others`, { hint: `chmod go+x ${p}, or use --userns keep-id` });
  }
}

/** --userns keep-id: the user the container runs as when no --user says otherwise. */
export function defaultUser(c: Confinement | undefined): string | undefined {
  if (!c?.userns?.startsWith('keep-id') || !c.uidMap || !c.gidMap) return undefined;
  const own = (maps: IdMap[]) => maps.find((m) => m.host === 0)!.container;
  return `${own(c.uidMap)}:${own(c.gidMap)}`;
}

/**
 * keep-id: the container knows your uid by your name. Unless the image has that uid, an entry is
 * added to the container's own /etc/passwd (a file it may change later, as Podman does), with the
 * home /home/NAME where the container has one (a volume there counts), else its working directory.
 */
export function addKeepIdUser(rootfs: string, c: Confinement | undefined, o: { user?: string; workdir: string; volumes: string[]; owner: { uid: number; gid: number } }): void {
  const ids = defaultUser(c);
  if (!ids || o.user !== undefined) return;
  const [uid, gid] = ids.split(':').map(Number);
  const file = resolveInRoot(rootfs, '/etc/passwd');
  let passwd = '';
  try { passwd = fs.readFileSync(file, 'utf8'); } catch { /* none in the image */ }
  if (passwd.split('\n').some((l) => l.split(':')[2] === String(uid))) return;
  const host = accountEntry(hostUid());
  const name = host?.[0] ?? process.env.USER ?? `user${uid}`;
  const home = `/home/${name}`;
  const homeThere = o.volumes.includes(home) || fs.existsSync(resolveInRoot(rootfs, home));
  if (!fs.existsSync(path.dirname(file))) return;
  fs.writeFileSync(file, `${passwd}${passwd && !passwd.endsWith('\n') ? '\n' : ''}${name}:*:${uid}:${gid}:${host?.[4] ?? name}:${homeThere ? home : o.workdir}:/bin/sh\n`);
  if (!passwd) fs.chownSync(file, o.owner.uid, o.owner.gid);
}

/** --privileged: the host's device nodes, bound in (a rootless container cannot make its own), those this user may open. */
function hostDevices(taken: Set<string>): Mount[] {
  const out: Mount[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && !['pts', 'shm', 'mqueue', 'fd'].includes(e.name) && dir === '/dev') walk(p);
      else if ((e.isCharacterDevice() || e.isBlockDevice()) && !taken.has(p) && !['/dev/console', '/dev/tty', '/dev/ptmx'].includes(p)) {
        try { fs.accessSync(p, fs.constants.R_OK); out.push({ destination: p, type: 'bind', source: p, options: ['bind', 'rprivate'] }); } catch { /* not ours to open */ }
      }
    }
  };
  walk('/dev');
  return out;
}

/** inspect's HostConfig fields of a container's confinement, in Docker's and Podman's names. */
export function inspectConfinement(c: Confinement | undefined, rootless: boolean): Record<string, unknown> {
  c ??= {};
  const r = c.resources ?? {};
  return {
    CapAdd: c.capAdd ?? [], CapDrop: c.capDrop ?? [], SecurityOpt: c.securityOpt ?? [], Privileged: !!c.privileged,
    Ulimits: parseUlimits(c.ulimits ?? []).map((u) => ({ Name: u.type, Soft: u.soft, Hard: u.hard })),
    Devices: (c.devices ?? []).map((d) => ({ PathOnHost: d.host, PathInContainer: d.container, CgroupPermissions: d.perms })),
    Sysctls: c.sysctls ?? {}, ShmSize: c.shmSize ?? 65536000, GroupAdd: c.groupAdd ?? [], Init: !!c.init,
    IpcMode: c.ipc ?? 'shareable', PidMode: c.pid ?? 'private', UTSMode: c.uts ?? 'private',
    UsernsMode: c.userns === 'host' || !c.userns ? (rootless ? '' : 'host') : c.userns.startsWith('auto') || c.userns === 'private' ? 'private' : c.userns,
    Memory: r.memory ?? 0, MemorySwap: r.memorySwap ?? 0, MemoryReservation: r.memoryReservation ?? 0, NanoCpus: Math.round((r.cpus ?? 0) * 1e9),
    CpuShares: r.cpuShares ?? 0, CpusetCpus: r.cpusetCpus ?? '', CpusetMems: r.cpusetMems ?? '', PidsLimit: r.pidsLimit ?? 0, BlkioWeight: r.blkioWeight ?? 0,
  };
}

/**
 * update: new limits for a container, recorded for its next starts and, while it runs where
 * limits apply, given to the runtime at once. Where they can't apply the warning says so.
 */
export async function updateResources(store: Store, ref: ContainerRecord, flags: Record<string, string | undefined>, warn: (line: string) => void): Promise<void> {
  const given = parseResources(flags);
  const applies = resourcesApply(flags, warn);
  const rec = await withContainer(store, ref.id, (r) => {
    if (!given) return r;
    const confinement = { ...r.config?.confinement, resources: { ...r.config?.confinement?.resources, ...given } };
    const next = { ...r, config: { ...(r.config ?? { env: [] }), confinement } };
    store.writeContainer(next);
    return next;
  });
  if (!given || !applies || !rec || current(store, rec.id)?.state !== 'running') return;
  const file = path.join(store.containerDir(rec.id), 'userdata', 'resources.json');
  fs.writeFileSync(file, JSON.stringify(specResources(rec.config!.confinement!.resources!)));
  const r = await runtimeCommand(runcStateRoot(), ['update', '--resources', file, rec.id], findRuntime(rec.config?.runtime));
  if (r.status !== 0) throw new TspodError('E_RUNTIME', `cannot update ${rec.name}: ${(r.stderr || '').trim().split('\n').pop()}`);
}
