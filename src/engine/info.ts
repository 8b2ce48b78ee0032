// What `tspod info` reports, in the shape of Podman's `info` (its JSON keys, in its order), so that
// scripts reading `.host.ociRuntime.path` or `{{.Store.GraphRoot}}` work unchanged. Every value is
// what tspod really uses on this machine; fields for things tspod does not have say so ("none", []).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { Store } from '../storage/store.js';
import { isRootless, packageVersion, buildTime, runtimeDir, userConfigHome } from '../paths.js';
import { chooseDriver, storageConfFile } from '../storage/driver.js';
import { DEFAULT_CAPS } from '../runtime/spec.js';
import { DEFAULT_SECCOMP_PROFILE } from '../runtime/seccomp.js';
import { findExecutable } from '../sys/proc.js';
import { log } from '../log.js';
import { volumesRoot } from './volumes.js';

/** What a program prints for `--version`, or "" when it cannot run. */
function versionOf(file: string | null, args = ['--version']): Promise<string> {
  if (!file) return Promise.resolve('');
  return new Promise((resolve) => execFile(file, args, { timeout: 5000 }, (_e, out) => resolve(String(out ?? '').trim())));
}

/** The Debian package that installed a file, as Podman names it ("conmon_2.1.6+ds1-1_amd64"), or "" off Debian. */
function packageOf(file: string | null): Promise<string> {
  const dpkg = findExecutable('dpkg-query');
  if (!file || !dpkg) return Promise.resolve('');
  return new Promise((resolve) => execFile(dpkg, ['-S', fs.realpathSync(file)], { timeout: 5000 }, (e, out) => {
    const pkg = e ? '' : String(out).split(':')[0].trim();
    if (!pkg) { resolve(''); return; }
    execFile(dpkg, ['-W', '-f', '${Package}_${Version}_${Architecture}', pkg], { timeout: 5000 }, (e2, v) => resolve(e2 ? pkg : String(v).trim()));
  }));
}

function idMap(file: string): Array<{ container_id: number; host_id: number; size: number }> {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number)).map(([c, h, s]) => ({ container_id: c, host_id: h, size: s }));
  } catch { return []; }
}

function osRelease(): { distribution: string; version: string; codename?: string } {
  let text = '';
  try { text = fs.readFileSync('/etc/os-release', 'utf8'); } catch { /* not there */ }
  const v = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?`, 'm').exec(text)?.[1];
  return { distribution: v('ID') ?? 'unknown', version: v('VERSION_ID') ?? 'unknown', codename: v('VERSION_CODENAME') };
}

function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const m of fs.readFileSync('/proc/meminfo', 'utf8').matchAll(/^(\w+):\s+(\d+) kB/gm)) out[m[1]] = Number(m[2]) * 1024;
  } catch { /* no /proc */ }
  return out;
}

/** Since boot, as Podman prints it: "0h 18m 48.00s". */
function uptime(): string {
  const s = os.uptime();
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ${(s % 60).toFixed(2)}s`;
}

function cpuUtilization(): { userPercent: number; systemPercent: number; idlePercent: number } {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
    const total = user + nice + system + idle + iowait + irq + softirq + steal;
    const pct = (x: number) => Math.round((x / total) * 10000) / 100;
    return { userPercent: pct(user + nice), systemPercent: pct(system + irq + softirq), idlePercent: pct(idle + iowait) };
  } catch { return { userPercent: 0, systemPercent: 0, idlePercent: 0 }; }
}

export type InfoReport = Awaited<ReturnType<typeof info>>;

/** `versions: false` leaves out the helpers' versions and packages (a dozen processes): the API's /info answers without them. */
export async function info(store: Store, o: { versions?: boolean } = {}) {
  const [{ findRuntime, cgroupVersion }, { defaultNetworkMode }] = await Promise.all([import('../runtime/oci.js'), import('../net/slirp/network.js')]);
  let runtime: { name: string; path: string } | undefined;
  try { runtime = findRuntime(); } catch { /* none installed: reported empty */ }
  const conmon = findExecutable('conmon'), slirp = findExecutable('slirp4netns');
  const probe = o.versions !== false;
  const [runtimeVersion, runtimePackage, conmonVersion, conmonPackage, slirpVersion, slirpPackage] = probe ? await Promise.all([
    versionOf(runtime?.path ?? null), packageOf(runtime?.path ?? null), versionOf(conmon), packageOf(conmon), versionOf(slirp), packageOf(slirp)]) : ['', '', '', '', '', ''];
  const cgroups = cgroupVersion();
  const mem = meminfo();
  const containers = store.listContainers();
  const count = (state: string) => containers.filter((c) => c.state === state).length;
  let fsStats: { blocks: number; bavail: number; bsize: number } | undefined;
  try { const st = fs.statfsSync(fs.existsSync(store.root) ? store.root : path.dirname(store.root)); fsStats = { blocks: st.blocks, bavail: st.bavail, bsize: st.bsize }; } catch { /* no store yet */ }
  log.debug(`using graph root ${store.root}, run root ${runtimeDir()}, OCI runtime ${runtime?.path ?? 'none'}`);
  const host = {
    arch: process.arch === 'x64' ? 'amd64' : process.arch,
    // tspod has no buildah: it builds images itself, so this carries tspod's own version.
    buildahVersion: packageVersion(),
    cgroupManager: 'cgroupfs',
    cgroupVersion: cgroups,
    cgroupControllers: cgroups === 'v2' ? readControllers() : [],
    conmon: { package: conmonPackage, path: conmon ?? '', version: conmonVersion },
    cpus: os.cpus().length,
    cpuUtilization: cpuUtilization(),
    distribution: osRelease(),
    eventLogger: 'none',
    hostname: os.hostname(),
    idMappings: isRootless() ? { gidmap: idMap('/proc/self/gid_map'), uidmap: idMap('/proc/self/uid_map') } : undefined,
    kernel: os.release(),
    logDriver: 'k8s-file',
    memFree: mem.MemAvailable ?? mem.MemFree ?? 0,
    memTotal: mem.MemTotal ?? 0,
    // tspod's networks are the per-container helper (slirp4netns or pasta); named networks come later.
    networkBackend: defaultNetworkMode(),
    ociRuntime: { name: runtime?.name ?? '', package: runtimePackage, path: runtime?.path ?? '', version: runtimeVersion },
    os: 'linux',
    remoteSocket: { path: path.join(runtimeDir(), 'tspod.sock') },
    serviceIsRemote: false,
    security: { apparmorEnabled: false, capabilities: DEFAULT_CAPS.join(','), rootless: isRootless(), seccompEnabled: fs.existsSync(DEFAULT_SECCOMP_PROFILE), seccompProfilePath: fs.existsSync(DEFAULT_SECCOMP_PROFILE) ? DEFAULT_SECCOMP_PROFILE : '', selinuxEnabled: false },
    slirp4netns: { executable: slirp ?? '', package: slirpPackage, version: slirpVersion },
    swapFree: mem.SwapFree ?? 0,
    swapTotal: mem.SwapTotal ?? 0,
    uptime: uptime(),
    linkmode: 'dynamic',
  };
  const driver = chooseDriver();
  return {
    host,
    store: {
      configFile: storageConfFile() ?? path.join(userConfigHome(), 'containers/storage.conf'),
      containerStore: { number: containers.length, paused: count('paused'), running: count('running'), stopped: containers.length - count('running') - count('paused') },
      // As Podman: fuse-overlayfs is the overlay driver with a mount program.
      graphDriverName: driver.name === 'vfs' ? 'vfs' : 'overlay',
      graphOptions: driver.mountProgram ? { 'overlay.mount_program': { Executable: driver.mountProgram, Package: 'fuse-overlayfs', Version: '' } } : {},
      graphRoot: store.root,
      graphRootAllocated: fsStats ? fsStats.blocks * fsStats.bsize : 0,
      graphRootUsed: fsStats ? (fsStats.blocks - fsStats.bavail) * fsStats.bsize : 0,
      graphStatus: driver.name === 'vfs' ? {} : { 'Backing Filesystem': backingFs(store.root), 'Native Overlay Diff': String(driver.name === 'overlay'), 'Supports d_type': 'true', 'Using metacopy': 'false' },
      imageCopyTmpDir: path.join(store.root, 'tmp'),
      imageStore: { number: store.readImages().length },
      runRoot: runtimeDir(),
      volumePath: volumesRoot(store),
    },
    registries: await registriesReport(),
    plugins: { volume: ['local'], network: [defaultNetworkMode()], log: ['k8s-file'], authorization: null },
    version: versionReport(),
  };
}

function readControllers(): string[] {
  try { return fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim().split(/\s+/).filter(Boolean); } catch { return []; }
}

/** The file system under the store, by its magic number, as containers/storage names it. */
function backingFs(dir: string): string {
  const names: Record<number, string> = { 0xef53: 'extfs', 0x01021994: 'tmpfs', 0x9123683e: 'btrfs', 0x58465342: 'xfs', 0x794c7630: 'overlayfs', 0x65735546: 'fuseblk' };
  try { const t = fs.statfsSync(fs.existsSync(dir) ? dir : path.dirname(dir)).type; return names[t] ?? `0x${t.toString(16)}`; } catch { return 'unknown'; }
}

async function registriesReport(): Promise<Record<string, unknown>> {
  const { loadRegistriesConfig } = await import('../registry/config.js');
  const conf = loadRegistriesConfig();
  const out: Record<string, unknown> = {};
  for (const r of conf.registries) {
    out[r.prefix] = { Prefix: r.prefix, Location: r.location, Insecure: r.insecure, Mirrors: r.mirrors.map((m) => ({ Location: m.location, Insecure: m.insecure })), Blocked: r.blocked, MirrorByDigestOnly: false };
  }
  out.search = conf.searchRegistries;
  return out;
}

/** Go's time.ANSIC layout, which Podman's version prints: "Wed Dec  2 14:51:00 2026". */
function ansic(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'], months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** `version`'s data, and info's "version" section. */
export function versionReport() {
  const built = buildTime();
  const version = packageVersion();
  return {
    APIVersion: version, Version: version, NodeVersion: process.version, GitCommit: '', BuiltTime: ansic(built), Built: built,
    OsArch: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`, Os: 'linux',
  };
}
