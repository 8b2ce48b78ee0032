// OCI runtime spec generation, with Podman's defaults: capabilities, masked and read-only paths,
// the standard mounts, and namespaces. The container runs inside the pause process's user
// namespace, so the spec creates no user namespace of its own.

import { TspodError } from '../errors.js';

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

const MASKED = [
  '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block',
];
const READONLY = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

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
}

export function buildSpec(o: SpecOptions): object {
  const bounding = o.caps ?? DEFAULT_CAPS;
  const caps = o.uid === 0 ? bounding : (o.userCaps ?? []).filter((c) => bounding.includes(c));
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    // sysfs can only be mounted by the owner of the network namespace: bind the host's otherwise.
    o.network === 'host' && o.rootless
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  ];
  if (o.readOnly) {
    for (const d of ['/tmp', '/var/tmp', '/run']) mounts.push({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'nodev', 'mode=1777'] });
  }
  for (const [dest, src] of Object.entries(o.etcFiles)) {
    mounts.push({ destination: dest, type: 'bind', source: src, options: ['bind', 'rprivate', ...(o.readOnly ? ['ro'] : [])] });
  }
  mounts.push(...(o.volumes ?? []));
  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (o.network === 'new') namespaces.push({ type: 'network' });
  else if (o.network !== 'host') namespaces.push({ type: 'network', path: o.network.path });

  return {
    ociVersion: '1.0.2',
    process: {
      terminal: o.terminal,
      consoleSize: o.terminal ? o.consoleSize : undefined,
      user: { uid: o.uid, gid: o.gid, additionalGids: o.additionalGids.length ? o.additionalGids : undefined },
      args: o.args,
      env: o.env,
      cwd: o.cwd,
      // A non-root user starts with no capabilities, but keeps the bounding set, as in Podman and Docker: file capabilities still work.
      capabilities: { bounding, effective: caps, permitted: caps, ...(o.uid !== 0 && caps.length ? { inheritable: caps, ambient: caps } : {}) },
      noNewPrivileges: !!o.noNewPrivileges,
      ...(o.rlimits?.length ? { rlimits: o.rlimits } : {}),
    },
    root: { path: o.rootfs, readonly: o.readOnly },
    hostname: o.hostname,
    mounts,
    linux: {
      namespaces,
      maskedPaths: MASKED,
      readonlyPaths: READONLY,
      ...(o.seccomp ? { seccomp: o.seccomp } : {}),
    },
  };
}
