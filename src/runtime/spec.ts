// OCI runtime spec generation, with Podman's defaults: capabilities, masked and read-only paths,
// the standard mounts, and namespaces. The container runs inside the pause process's user
// namespace, so the spec creates no user namespace of its own.

import fs from 'node:fs';
import { TspodError } from '../errors.js';
import type { IdMap } from '../storage/store.js';

export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

/** Every capability Linux has (capabilities(7)), for --cap-add ALL and to tell a name from a typo. */
export const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/**
 * The container's capabilities from Podman's default set, --cap-add and --cap-drop (names with or
 * without CAP_, any case, or ALL; drops win, as in Podman). A name that is none: 125 naming it.
 */
export function capabilitySet(add: string[], drop: string[]): string[] {
  const norm = (flag: string) => (c: string) => {
    const up = c.trim().toUpperCase();
    if (up === 'ALL') return 'ALL';
    const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
    if (!ALL_CAPS.includes(name)) throw new TspodError('E_USAGE', `${flag} ${c}: unknown capability "${c}"`, { hint: 'see capabilities(7) for the names, e.g. NET_ADMIN or CAP_NET_RAW' });
    return name;
  };
  const adds = add.flatMap((a) => a.split(',')).filter(Boolean).map(norm('--cap-add'));
  const drops = drop.flatMap((d) => d.split(',')).filter(Boolean).map(norm('--cap-drop'));
  let set = new Set(DEFAULT_CAPS);
  for (const a of adds) for (const c of a === 'ALL' ? ALL_CAPS : [a]) set.add(c);
  if (drops.includes('ALL')) set = new Set(adds.filter((a) => a !== 'ALL'));
  for (const d of drops) set.delete(d);
  return ALL_CAPS.filter((c) => set.has(c));
}

export const MASKED_PATHS = [
  '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block',
];
export const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** A namespace of the container's: a new one, the host's (tspod's own), or one to join by path. */
export type NsChoice = 'new' | 'host' | { path: string };

export interface Mount { destination: string; type?: string; source?: string; options?: string[] }

export interface SpecOptions {
  rootfs: string;
  readOnly: boolean;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  /** the caller's terminal size, so the container starts with it (the runtime follows SIGWINCH after) */
  consoleSize?: { height: number; width: number };
  hostname: string;
  /** "new": a fresh empty netns; "host": share; otherwise a netns path to join */
  network: 'new' | 'host' | { path: string };
  /** files to bind over the image's: /etc/resolv.conf, /etc/hosts, /etc/hostname */
  etcFiles: Record<string, string>;
  /** volumes and bind mounts, after the standard ones */
  volumes?: Mount[];
  rootless: boolean;
  /** the capability set (capabilitySet); Podman's default when not given */
  caps?: string[];
  /** --cap-add for a non-root user: these are effective for it too (otherwise it has none) */
  userCaps?: string[];
  /** `linux.seccomp` (seccomp.ts), or none */
  seccomp?: object;
  /** --security-opt no-new-privileges */
  noNewPrivileges?: boolean;
  /** --ulimit: POSIX rlimits */
  rlimits?: Array<{ type: string; soft: number; hard: number }>;
  /** the paths masked and made read-only; Podman's when not given */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** --privileged: /sys writable */
  privileged?: boolean;
  sysctl?: Record<string, string>;
  /** --pid, --ipc, --uts; ipc "none" has no /dev/shm */
  pid?: NsChoice;
  ipc?: NsChoice | 'none';
  uts?: NsChoice;
  /** /dev/shm: its size (bytes), or the shm of a joined IPC namespace to bind */
  shm?: { size?: number; source?: string };
  /** with readOnly: tmpfs on /tmp, /var/tmp and /run (--read-only-tmpfs, default true) */
  readOnlyTmpfs?: boolean;
  /** devices and the init, after the volumes */
  extraMounts?: Mount[];
  /** --init: the words before the command */
  initArgs?: string[];
  /** a user namespace of the container's own, mapped onto tspod's */
  /** (joined by path when tspod made it, with the network namespace it owns) */
  userns?: { uidMappings: IdMap[]; gidMappings: IdMap[]; path?: string };
  /** linux.resources and where the runtime puts the cgroup */
  resources?: object;
  cgroupsPath?: string;
  annotations?: Record<string, string>;
}

export function buildSpec(o: SpecOptions): object {
  const bounding = o.caps ?? DEFAULT_CAPS;
  const caps = o.uid === 0 ? bounding : (o.userCaps ?? []).filter((c) => bounding.includes(c));
  const own = (ns: NsChoice | 'none' | undefined) => ns === undefined || ns === 'new' || ns === 'none';
  // Joined or shared namespaces not owned by the container's user namespace can't have their own
  // proc, sysfs or mqueue mounted: the host's are bound instead, as Podman does rootless.
  const nestedUserns = !!o.userns;
  const bindSys = o.rootless && (o.network === 'host' || nestedUserns);
  const shmSize = `size=${o.shm?.size ? Math.floor(o.shm.size / 1024) : 65536}k`;
  const mounts: Mount[] = [
    o.rootless && o.pid === 'host'
      ? { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind', 'nosuid', 'noexec', 'nodev'] }
      : { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(nestedUserns && !o.userns!.gidMappings.some((m) => m.container <= 5 && 5 < m.container + m.size) ? [] : ['gid=5'])] },
    // The host's IPC namespace is not ours to mount mqueue in: its mqueue is bound, where it has one.
    ...(o.rootless && o.ipc === 'host'
      ? (fs.existsSync('/dev/mqueue') ? [{ destination: '/dev/mqueue', type: 'bind', source: '/dev/mqueue', options: ['rbind', 'nosuid', 'noexec', 'nodev'] }] : [])
      : [{ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] }]),
    ...(o.ipc === 'none' ? [] : [o.shm?.source
      ? { destination: '/dev/shm', type: 'bind', source: o.shm.source, options: ['rbind', 'nosuid', 'noexec', 'nodev'] }
      : { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', shmSize] }]),
    // sysfs can only be mounted by the owner of the network namespace: bind the host's otherwise.
    bindSys
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', ...(o.privileged ? [] : ['ro'])] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...(o.privileged ? [] : ['ro'])] },
  ];
  if (o.readOnly && o.readOnlyTmpfs !== false) {
    for (const d of ['/tmp', '/var/tmp', '/run']) mounts.push({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'nodev', 'mode=1777'] });
  }
  for (const [dest, src] of Object.entries(o.etcFiles)) {
    mounts.push({ destination: dest, type: 'bind', source: src, options: ['bind', 'rprivate', ...(o.readOnly ? ['ro'] : [])] });
  }
  mounts.push(...(o.volumes ?? []), ...(o.extraMounts ?? []));
  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'mount' }];
  for (const [type, choice] of [['pid', o.pid], ['ipc', o.ipc], ['uts', o.uts]] as const) {
    if (own(choice)) namespaces.push({ type });
    else if (choice !== 'host') namespaces.push({ type, path: (choice as { path: string }).path });
  }
  if (o.network === 'new') namespaces.push({ type: 'network' });
  else if (o.network !== 'host') namespaces.push({ type: 'network', path: o.network.path });
  if (o.userns) namespaces.push({ type: 'user', ...(o.userns.path ? { path: o.userns.path } : {}) });
  const idMap = (m: IdMap) => ({ containerID: m.container, hostID: m.host, size: m.size });

  return {
    ociVersion: '1.0.2',
    process: {
      terminal: o.terminal,
      consoleSize: o.terminal ? o.consoleSize : undefined,
      user: { uid: o.uid, gid: o.gid, additionalGids: o.additionalGids.length ? o.additionalGids : undefined },
      args: [...(o.initArgs ?? []), ...o.args],
      env: o.env,
      cwd: o.cwd,
      // A non-root user starts with no capabilities, but keeps the bounding set, as in Podman and Docker: file capabilities still work.
      capabilities: { bounding, effective: caps, permitted: caps, ...(o.uid !== 0 && caps.length ? { inheritable: caps, ambient: caps } : {}) },
      noNewPrivileges: !!o.noNewPrivileges,
      ...(o.rlimits?.length ? { rlimits: o.rlimits } : {}),
    },
    root: { path: o.rootfs, readonly: o.readOnly },
    // Without a UTS namespace of its own the container has the host's name, and may not set one.
    ...(own(o.uts) ? { hostname: o.hostname } : {}),
    mounts,
    ...(o.annotations ? { annotations: o.annotations } : {}),
    linux: {
      namespaces,
      ...(o.userns ? { uidMappings: o.userns.uidMappings.map(idMap), gidMappings: o.userns.gidMappings.map(idMap) } : {}),
      maskedPaths: o.maskedPaths ?? MASKED_PATHS,
      readonlyPaths: o.readonlyPaths ?? READONLY_PATHS,
      ...(o.sysctl && Object.keys(o.sysctl).length ? { sysctl: o.sysctl } : {}),
      ...(o.resources ? { resources: o.resources } : {}),
      ...(o.cgroupsPath ? { cgroupsPath: o.cgroupsPath } : {}),
      ...(o.seccomp ? { seccomp: o.seccomp } : {}),
    },
  };
}
