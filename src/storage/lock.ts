// A lock file taken with O_EXCL, holding the owner's pid: no native code on the hot path, and a
// lock left by a killed process is taken over once its owner is gone.
import fs from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void { Atomics.wait(sleeper, 0, 0, ms); }

function ownerAlive(file: string): boolean {
  let pid: number;
  try { pid = Number(fs.readFileSync(file, 'utf8')); } catch { return true; /* being written: wait */ }
  if (!pid) return true;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export function acquireLock(file: string, timeoutMs = 120_000): () => void {
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => { try { fs.unlinkSync(file); } catch { /* already gone */ } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (!ownerAlive(file)) {
      // Take over a dead owner's lock by renaming it away; only one waiter wins the rename.
      const stale = `${file}.stale.${process.pid}`;
      try { fs.renameSync(file, stale); fs.unlinkSync(stale); } catch { /* someone else took it */ }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${file}`);
    sleepMs(wait);
    wait = Math.min(wait * 2, 50);
  }
}

export function withLock<T>(file: string, fn: () => T): T {
  const release = acquireLock(file);
  try { return fn(); } finally { release(); }
}

export async function withLockAsync<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const release = acquireLock(file);
  try { return await fn(); } finally { release(); }
}
