// Processes and executables: the small checks several modules share.
import fs from 'node:fs';
import path from 'node:path';

/** kill(pid, 0): true while the process exists, even when it belongs to someone else (EPERM). */
export function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** A program on PATH or in the usual system dirs (a `su` session's PATH often lacks sbin); a path is taken as given. */
export function findExecutable(name: string): string | null {
  if (name.includes('/')) return fs.existsSync(name) ? name : null;
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SYSTEM_DIRS]) {
    const p = path.join(dir, name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}
