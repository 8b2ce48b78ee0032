// Network namespaces bound to files: made by a throwaway thread of tspod's addon, so that the
// helpers and the runtime can join them by path; unmounted lazily, as a helper may still hold one.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TspodError } from '../errors.js';
import { bindNewNetns, bindNewUsernsNetns, unmountLazy } from '../sys/index.js';

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

/** Where the user namespace that owns a container's network namespace is bound, when it has one of its own. */
export const usernsFileOf = (netnsFile: string) => `${netnsFile}.user`;

/**
 * A new network namespace bound to `file`; with `userns` (maps as uid_map lines), owned by a new
 * user namespace bound beside it (usernsFileOf), which the container then joins.
 */
export function createNetns(file: string, userns?: { uidMap: string; gidMap: string }): void {
  if (process.getuid!() === 0 && !process.env._TSPOD_IN_USERNS) ensurePrivateMount(path.dirname(file));
  fs.writeFileSync(file, '');
  try {
    if (userns) {
      fs.writeFileSync(usernsFileOf(file), '');
      bindNewUsernsNetns(usernsFileOf(file), file, userns.uidMap, userns.gidMap);
    } else bindNewNetns(file);
  } catch (e) {
    fs.rmSync(file, { force: true });
    fs.rmSync(usernsFileOf(file), { force: true });
    throw new TspodError('E_NETWORK', `cannot create a network namespace: ${(e as Error).message}`, { hint: 'check that unprivileged user namespaces may create network namespaces here' });
  }
}

export function removeNetns(file: string): void {
  // Lazy: the runtime or pasta may still hold the namespace file open for a moment.
  for (const f of [file, usernsFileOf(file)]) {
    try { unmountLazy(f); } catch { /* not mounted */ }
    fs.rmSync(f, { force: true });
  }
}

