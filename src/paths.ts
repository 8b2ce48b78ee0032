// Where tspod keeps things, as DESIGN.md fixes them. Inside the user namespace getuid() is 0, so the
// launcher passes the real uid and runtime dir in the environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function hostUid(): number {
  const v = process.env.TSPOD_HOST_UID;
  return v ? Number(v) : process.getuid!();
}

export function hostGid(): number {
  const v = process.env.TSPOD_HOST_GID;
  return v ? Number(v) : process.getgid!();
}

export function isRootless(): boolean {
  return hostUid() !== 0;
}

function home(): string {
  return process.env.HOME || os.homedir();
}

export function storeDir(): string {
  if (process.env.TSPOD_STORE) return process.env.TSPOD_STORE;
  const base = process.env.XDG_DATA_HOME || path.join(home(), '.local/share');
  return path.join(base, 'tspod');
}

export function configDir(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(home(), '.config');
  return path.join(base, 'tspod');
}

export function userConfigHome(): string {
  return process.env.XDG_CONFIG_HOME || path.join(home(), '.config');
}

/** $XDG_RUNTIME_DIR/tspod, or a private dir under /tmp when a `su` session has none (as Podman does). */
export function runtimeDir(): string {
  if (process.env.TSPOD_RUNTIME_DIR) return process.env.TSPOD_RUNTIME_DIR;
  const uid = hostUid();
  if (process.env.XDG_RUNTIME_DIR) return path.join(process.env.XDG_RUNTIME_DIR, 'tspod');
  return uid === 0 ? '/run/tspod' : `/tmp/tspod-run-${uid}`;
}

/** When this tspod was built: its program's mtime, in seconds (0 when unknown). */
export function buildTime(): number {
  try { return Math.floor(fs.statSync(process.argv[1] ?? '').mtimeMs / 1000); } catch { return 0; }
}

/** The version in tspod's package.json, found upward from this module (bundled or not). */
export function packageVersion(): string {
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (;;) {
    try { return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version; } catch { /* keep looking */ }
    const up = path.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

