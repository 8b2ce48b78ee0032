// Rootless networking. A network namespace is created first and bind-mounted to a file; pasta or
// slirp4netns attaches to it; the runtime joins it by path. /etc/resolv.conf, /etc/hosts and
// /etc/hostname are generated for the container.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TspodError } from '../../errors.js';
import { findExecutable, hasArgument, processAlive } from '../../sys/proc.js';
import { bindNewNetns, unmountLazy } from '../../sys/index.js';
import { startProcess } from '../../sys/spawn.js';

export type NetworkMode = 'none' | 'host' | 'pasta' | 'slirp4netns';

/**
 * What another process needs to tear the network down later (a detached container's cleanup). The
 * helper's pid is also in a file beside the namespace (NSPATH.pid), written as it starts, so a
 * start killed before it recorded anything can still be undone.
 */
export interface NetworkState { mode: NetworkMode; nsPath?: string; helperPid?: number }

const helperPidFile = (nsPath: string) => `${nsPath}.pid`;

export interface NetworkHandle {
  mode: NetworkMode;
  state: NetworkState;
  /** the netns to join, or undefined for "none" (a new empty one) and "host" */
  nsPath?: string;
  /** the container's address, for /etc/hosts */
  address?: string;
  nameservers: string[];
  teardown(): void;
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

export function parseNetworkMode(value: string | undefined, rootless: boolean): NetworkMode {
  if (!value || value === 'default' || value === 'bridge' && rootless) return defaultNetworkMode();
  if (value === 'none' || value === 'host' || value === 'pasta' || value === 'slirp4netns') {
    if ((value === 'pasta' || value === 'slirp4netns') && !findExecutable(value)) {
      throw new TspodError('E_NETWORK', `--network ${value}: ${value} is not installed`, { hint: `sudo apt-get install ${value === 'pasta' ? 'passt' : 'slirp4netns'}` });
    }
    return value;
  }
  throw new TspodError('E_USAGE', `unknown network mode "${value}"`, { hint: 'use none, host, pasta or slirp4netns' });
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

/**
 * A namespace can only be bind-mounted onto a file whose mount is not shared. Rootless, the pause
 * process's mount namespace is private already; as root, make the netns dir a private mount, as
 * Podman does with /run/netns.
 */
function ensurePrivateMount(dir: string): void {
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  if (mountinfo.split('\n').some((l) => l.split(' ')[4] === dir)) return;
  spawnSync('mount', ['--bind', dir, dir], { stdio: 'ignore' });
  spawnSync('mount', ['--make-private', dir], { stdio: 'ignore' });
}

function createNetns(file: string): void {
  if (process.getuid!() === 0 && !process.env._TSPOD_IN_USERNS) ensurePrivateMount(path.dirname(file));
  fs.writeFileSync(file, '');
  try {
    bindNewNetns(file);
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw new TspodError('E_NETWORK', `cannot create a network namespace: ${(e as Error).message}`, { hint: 'check that unprivileged user namespaces may create network namespaces here' });
  }
}

/** Where a container's network namespace is bound: known before anything is started, so a killed start can be undone. */
export const netnsPath = (runDir: string, id: string) => path.join(runDir, 'netns', id);

function removeNetns(file: string): void {
  // Lazy: the runtime or pasta may still hold the namespace file open for a moment.
  try { unmountLazy(file); } catch { /* not mounted */ }
  fs.rmSync(file, { force: true });
}

/** Set up the network before the container starts; teardown() after it ends. */
export async function setupNetwork(mode: NetworkMode, runDir: string, id: string): Promise<NetworkHandle> {
  if (mode === 'host') return { mode, state: { mode }, nameservers: hostNameservers(), address: hostAddress(), teardown() {} };
  if (mode === 'none') return { mode, state: { mode }, nameservers: [], teardown() {} };
  fs.mkdirSync(path.join(runDir, 'netns'), { recursive: true });
  const nsPath = netnsPath(runDir, id);
  createNetns(nsPath);
  try {
    if (mode === 'pasta') {
      // pasta copies the host's addresses and routes into the namespace and quits once it is gone.
      // As real root pasta would drop to "nobody", who can't open the namespace file.
      const runas = process.getuid!() === 0 && !process.env._TSPOD_IN_USERNS ? ['--runas', '0'] : [];
      const r = spawnSync('pasta', ['--config-net', '-q', ...runas, '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none', '--pid', helperPidFile(nsPath), '--netns', nsPath], { encoding: 'utf8' });
      if (r.status !== 0) throw new TspodError('E_NETWORK', `pasta failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`, { hint: 'check that /dev/net/tun is usable by you, or use --network slirp4netns or none' });
      const servers = hostNameservers().filter((s) => !s.startsWith('127.') && s !== '::1');
      const state: NetworkState = { mode, nsPath };
      return { mode, state, nsPath, nameservers: servers, address: hostAddress(), teardown: () => teardownNetwork(state) };
    }
    // slirp4netns writes "1" to --ready-fd once tap0 is configured.
    const slirp = startProcess('slirp4netns', ['--ready-fd=3', '--netns-type=path', '--configure', '--mtu=65520', '--disable-host-loopback', nsPath, 'tap0'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], newSession: true, wait: false });
    fs.writeFileSync(helperPidFile(nsPath), `${slirp.pid}\n`);
    const stderrPipe = slirp.pipes.get(2)!, ready = slirp.pipes.get(3)!;
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      const fail = (why: string) => reject(new TspodError('E_NETWORK', `slirp4netns failed: ${why}`, { hint: 'check that /dev/net/tun is usable by you, or use --network pasta or none' }));
      const timer = setTimeout(() => fail('not ready after 5 s'), 5000);
      stderrPipe.on('data', (d: Buffer) => { stderr += d.toString(); });
      ready.once('data', () => { clearTimeout(timer); resolve(); });
      // Its end of the ready pipe closes without a word when it quits early.
      ready.once('end', () => { clearTimeout(timer); fail(stderr.trim().split('\n').pop() || 'it exited before it was ready'); });
    }).finally(() => { stderrPipe.destroy(); ready.destroy(); });
    const state: NetworkState = { mode, nsPath, helperPid: slirp.pid };
    return { mode, state, nsPath, nameservers: ['10.0.2.3'], address: '10.0.2.100', teardown: () => teardownNetwork(state) };
  } catch (e) {
    teardownNetwork({ mode, nsPath });
    throw e;
  }
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
export function teardownNetwork(state: NetworkState): void {
  if (!state.nsPath) return;
  let pid = state.helperPid;
  let written = false;
  try { pid = Number(fs.readFileSync(helperPidFile(state.nsPath), 'utf8')) || pid; written = true; } catch { /* none written */ }
  // A tspod killed between starting the helper and writing its pid file leaves no pid to go by:
  // then the helper is found by the namespace it was given.
  if (!written && !pid && fs.existsSync(state.nsPath)) pid = processWithArgument(state.nsPath);
  if (pid && processAlive(pid) && hasArgument(pid, state.nsPath)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  fs.rmSync(helperPidFile(state.nsPath), { force: true });
  if (fs.existsSync(state.nsPath)) removeNetns(state.nsPath);
}

/** Write resolv.conf, hosts and hostname into `dir`; returns container path -> host file. */
export function writeEtcFiles(dir: string, net: NetworkHandle, hostname: string, name: string): Record<string, string> {
  const resolv = net.nameservers.length ? net.nameservers.map((s) => `nameserver ${s}`).join('\n') + '\n' : '';
  const hostSearch = (() => { try { return fs.readFileSync('/etc/resolv.conf', 'utf8').match(/^\s*search\s+.*$/m)?.[0] ?? ''; } catch { return ''; } })();
  const hosts = [
    '127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4',
    '::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6',
    `${net.address ?? '127.0.1.1'}\t${hostname} ${name}`,
    ...(net.mode === 'slirp4netns' ? ['10.0.2.2\thost.containers.internal'] : []),
  ].join('\n') + '\n';
  const files: Record<string, string> = {
    '/etc/resolv.conf': path.join(dir, 'resolv.conf'),
    '/etc/hosts': path.join(dir, 'hosts'),
    '/etc/hostname': path.join(dir, 'hostname'),
  };
  fs.writeFileSync(files['/etc/resolv.conf'], resolv + (hostSearch && net.mode !== 'none' ? `${hostSearch}\n` : ''));
  fs.writeFileSync(files['/etc/hosts'], hosts);
  fs.writeFileSync(files['/etc/hostname'], `${hostname}\n`);
  return files;
}
