// doctor: what tspod needs of this machine, one check per prerequisite, each with its fix. It runs
// outside tspod's user namespace (the launcher lets it), so it works where that namespace can't be
// made, and then makes it, as every command would, to prove that containers can run.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { findExecutable } from '../sys/proc.js';
import { readSubIds, mappedSize, accountName, addSubidsCommand } from '../userns/subid.js';
import { hostUid, runtimeDir } from '../paths.js';
import { cgroupVersion } from '../runtime/oci.js';
import { delegatedCgroup } from './confine.js';
import { DEFAULT_SECCOMP_PROFILE } from '../runtime/seccomp.js';
import { lgetxattr } from '../sys/index.js';

/** ok; warn: tspod runs, with something missing; fail: it can't run containers. */
export interface Check { status: 'ok' | 'warn' | 'fail'; name: string; detail: string; fix?: string }

const read = (file: string) => { try { return fs.readFileSync(file, 'utf8').trim(); } catch { return undefined; } };

/** setuid root, or file capabilities (Debian's uidmap ships newuidmap with cap_setuid). */
function privileged(bin: string): string | undefined {
  const st = fs.statSync(bin);
  if (st.mode & 0o4000 && st.uid === 0) return 'setuid root';
  return lgetxattr(bin, 'security.capability') ? 'file capabilities' : undefined;
}

function idMapper(): Check {
  const missing = ['newuidmap', 'newgidmap'].filter((b) => !findExecutable(b));
  if (missing.length) return { status: 'fail', name: 'newuidmap/newgidmap', detail: `${missing.join(' and ')} not found`, fix: 'sudo apt-get install uidmap' };
  const plain = ['newuidmap', 'newgidmap'].filter((b) => !privileged(findExecutable(b)!));
  if (plain.length) return { status: 'fail', name: 'newuidmap/newgidmap', detail: `${plain.join(' and ')} neither setuid root nor with file capabilities: they can't map your ids`, fix: `sudo chmod u+s ${plain.map((b) => findExecutable(b)).join(' ')}` };
  return { status: 'ok', name: 'newuidmap/newgidmap', detail: `${findExecutable('newuidmap')} (${privileged(findExecutable('newuidmap')!)})` };
}

function subids(user: string, uid: number): Check[] {
  return (['subuid', 'subgid'] as const).map((kind) => {
    const file = `/etc/${kind}`;
    const ranges = readSubIds(file, user, uid);
    const size = mappedSize(ranges) - 1;
    if (!ranges.length) return { status: 'fail' as const, name: file, detail: `no entry for ${user}: only your own id can be mapped, and images with files of other owners fail`, fix: addSubidsCommand(user) };
    if (size < 65536) return { status: 'warn' as const, name: file, detail: `${user} has ${size} ids: images with ids up to 65535 (most do) need 65536`, fix: addSubidsCommand(user) };
    return { status: 'ok' as const, name: file, detail: `${user} has ${size} ids (${ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ')})` };
  });
}

function runtime(): Check {
  const runc = findExecutable('runc'), crun = findExecutable('crun');
  if (!runc && !crun) return { status: 'fail', name: 'OCI runtime', detail: 'neither runc nor crun is installed', fix: 'sudo apt-get install runc' };
  const hybrid = cgroupVersion() === 'v1' && fs.existsSync('/sys/fs/cgroup/unified');
  if (!runc && hybrid) return { status: 'fail', name: 'OCI runtime', detail: 'only crun, which refuses cgroup v1 hybrid mode (this machine\'s)', fix: 'sudo apt-get install runc' };
  return { status: 'ok', name: 'OCI runtime', detail: [runc && `runc ${runc}`, crun && `crun ${crun}${hybrid ? ' (not usable: cgroup v1 hybrid)' : ''}`].filter(Boolean).join(', ') };
}

function conmon(): Check {
  const c = findExecutable('conmon');
  return c ? { status: 'ok', name: 'conmon', detail: c } : { status: 'fail', name: 'conmon', detail: 'not installed: detached containers (-d) need it', fix: 'sudo apt-get install conmon' };
}

function network(): Check[] {
  const helpers = ['pasta', 'slirp4netns'].filter((b) => findExecutable(b));
  const out: Check[] = [helpers.length
    ? { status: 'ok', name: 'network helpers', detail: helpers.map((h) => findExecutable(h)).join(', ') }
    : { status: 'warn', name: 'network helpers', detail: 'neither pasta nor slirp4netns: containers get --network none or host only', fix: 'sudo apt-get install passt slirp4netns' }];
  try { fs.closeSync(fs.openSync('/dev/net/tun', 'r+')); out.push({ status: 'ok', name: '/dev/net/tun', detail: 'can be opened' }); } catch (e) {
    out.push({ status: 'warn', name: '/dev/net/tun', detail: `can't be opened (${(e as NodeJS.ErrnoException).code}): pasta and slirp4netns need it`, fix: 'sudo chmod 666 /dev/net/tun (it is 0666 on a standard Debian)' });
  }
  return out;
}

function kernelUserns(): Check[] {
  const out: Check[] = [];
  const max = read('/proc/sys/user/max_user_namespaces');
  if (max === '0') out.push({ status: 'fail', name: 'user.max_user_namespaces', detail: '0: no user namespaces may be made', fix: 'sudo sysctl -w user.max_user_namespaces=28633 (and in /etc/sysctl.d/ to keep it)' });
  else out.push({ status: 'ok', name: 'user.max_user_namespaces', detail: max ?? 'not limited' });
  const clone = read('/proc/sys/kernel/unprivileged_userns_clone');
  if (clone === '0') out.push({ status: 'fail', name: 'kernel.unprivileged_userns_clone', detail: '0: unprivileged users may not make user namespaces', fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1' });
  else if (clone !== undefined) out.push({ status: 'ok', name: 'kernel.unprivileged_userns_clone', detail: clone });
  const apparmor = read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  if (apparmor === '1') out.push({ status: 'fail', name: 'AppArmor', detail: 'restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1, as Ubuntu 24.04)', fix: 'add an AppArmor profile allowing userns for bin/tspod and node, or sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0' });
  return out;
}

function cgroups(): Check {
  if (cgroupVersion() === 'v1') return { status: 'warn', name: 'cgroups', detail: 'v1: rootless containers get no resource limits (--memory, --cpus...: ignored, with a warning) and no pause', fix: 'boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2' };
  const d = delegatedCgroup();
  return d ? { status: 'ok', name: 'cgroups', detail: `v2, delegated (${d})` } : { status: 'warn', name: 'cgroups', detail: 'v2, but your cgroup is not delegated to you: resource limits are ignored', fix: 'run from a systemd user session (systemd-run --user --scope tspod ...)' };
}

function session(user: string): Check[] {
  const out: Check[] = [];
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (!xdg) out.push({ status: 'warn', name: 'XDG_RUNTIME_DIR', detail: `not set: tspod keeps its runtime state in ${runtimeDir()}`, fix: 'log in through a session manager (systemd --user, pam_systemd), or export XDG_RUNTIME_DIR=/run/user/$(id -u)' });
  else {
    let st: fs.Stats | undefined;
    try { st = fs.statSync(xdg); } catch { /* missing */ }
    out.push(st?.isDirectory() && st.uid === hostUid() ? { status: 'ok', name: 'XDG_RUNTIME_DIR', detail: xdg } : { status: 'warn', name: 'XDG_RUNTIME_DIR', detail: `${xdg} ${st ? 'is not yours' : 'does not exist'}: tspod uses ${runtimeDir()}`, fix: 'unset it, or point it at a directory of yours' });
  }
  const linger = fs.existsSync(path.join('/var/lib/systemd/linger', user));
  out.push(linger ? { status: 'ok', name: 'linger', detail: 'on: your containers and units outlive your sessions' } : { status: 'warn', name: 'linger', detail: 'off: with systemd, your containers may be stopped when you log out', fix: `sudo loginctl enable-linger ${user}` });
  return out;
}

function seccompProfile(): Check {
  return fs.existsSync(DEFAULT_SECCOMP_PROFILE) ? { status: 'ok', name: 'seccomp profile', detail: DEFAULT_SECCOMP_PROFILE }
    : { status: 'warn', name: 'seccomp profile', detail: `${DEFAULT_SECCOMP_PROFILE} is missing: containers run without a seccomp filter`, fix: 'sudo apt-get install golang-github-containers-common' };
}

/** Inside the user namespace, as any command: its mapping, the storage driver, and a run of nothing. */
function insideUserns(launcher: string): Check[] {
  const r = spawnSync(launcher, ['info', '--format', '{{.Store.GraphDriverName}} {{json .Store.GraphStatus}}'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return [{ status: 'fail', name: 'user namespace', detail: `tspod could not set up its user namespace: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`, fix: 'see the failures above' }];
  const [driver, status] = [r.stdout.split(' ')[0], r.stdout.slice(r.stdout.indexOf(' ') + 1)];
  let native = true;
  try { native = (JSON.parse(status) as Record<string, string>)['Native Overlay Diff'] === 'true'; } catch { /* vfs: no status */ }
  const fuse = spawnSync(launcher, ['info', '--format', '{{json .Store.GraphOptions}}'], { encoding: 'utf8' }).stdout.includes('mount_program');
  return [
    { status: 'ok', name: 'user namespace', detail: 'made and joined' },
    driver === 'vfs' ? { status: 'warn', name: 'storage', detail: 'vfs: neither native overlay nor fuse-overlayfs works here, so each container\'s root is a full copy', fix: 'sudo apt-get install fuse-overlayfs, and make /dev/fuse usable (chmod 666 /dev/fuse)' }
      : { status: 'ok', name: 'storage', detail: fuse ? 'overlay through fuse-overlayfs (native overlay can\'t be mounted here)' : native ? 'native overlay' : 'overlay' },
  ];
}

export function doctorChecks(launcher: string): Check[] {
  const uid = hostUid();
  const user = accountName(uid);
  const root = uid === 0;
  const checks: Check[] = [
    ...(root ? [] : [idMapper(), ...subids(user, uid)]), runtime(), conmon(), ...network(), ...(root ? [] : kernelUserns()), cgroups(),
    ...(root ? [] : session(user)), seccompProfile(),
  ];
  // Only worth trying when nothing so far says it can't work.
  if (!checks.some((c) => c.status === 'fail')) checks.push(...insideUserns(launcher));
  return checks;
}
