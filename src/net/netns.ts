// Network namespaces bound to files: made by a throwaway thread of tspod's addon, so that the
// helpers and the runtime can join them by path; unmounted lazily, as a helper may still hold one.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TspodError } from '../errors.js';
import { bindNewNetns, unmountLazy } from '../sys/index.js';

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

export function createNetns(file: string): void {
  if (process.getuid!() === 0 && !process.env._TSPOD_IN_USERNS) ensurePrivateMount(path.dirname(file));
  fs.writeFileSync(file, '');
  try {
    bindNewNetns(file);
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw new TspodError('E_NETWORK', `cannot create a network namespace: ${(e as Error).message}`, { hint: 'check that unprivileged user namespaces may create network namespaces here' });
  }
}

export function removeNetns(file: string): void {
  // Lazy: the runtime or pasta may still hold the namespace file open for a moment.
  try { unmountLazy(file); } catch { /* not mounted */ }
  fs.rmSync(file, { force: true });
}

