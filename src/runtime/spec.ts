// OCI runtime spec generation, with Podman's defaults: capabilities, masked and read-only paths,
// the standard mounts, and namespaces. The container runs inside the pause process's user
// namespace, so the spec creates no user namespace of its own.

export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

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
  /** `linux.seccomp` (seccomp.ts), or none */
  seccomp?: object;
  /** --security-opt no-new-privileges */
  noNewPrivileges?: boolean;
  /** --ulimit: POSIX rlimits */
  rlimits?: Array<{ type: string; soft: number; hard: number }>;
}

export function buildSpec(o: SpecOptions): object {
  const caps = o.uid === 0 ? DEFAULT_CAPS : [];
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
      capabilities: { bounding: DEFAULT_CAPS, effective: caps, permitted: caps },
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
