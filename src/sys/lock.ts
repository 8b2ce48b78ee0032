// Whole-file locks with flock(2): the kernel releases them when their process dies, however it
// dies, so a pull killed with SIGKILL never leaves the store locked.
import fs from 'node:fs';
import { flock, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from './index.js';

export interface LockOptions {
  /** a shared lock: many holders at once, none while an exclusive one is held */
  shared?: boolean;
  /** don't wait: undefined when another process holds the lock */
  tryOnly?: boolean;
}

export function acquireLock(file: string, opts: { shared?: boolean; tryOnly: true }): (() => void) | undefined;
export function acquireLock(file: string, opts?: { shared?: boolean; tryOnly?: false }): () => void;
export function acquireLock(file: string, opts: LockOptions = {}): (() => void) | undefined {
  const fd = fs.openSync(file, 'a', 0o600);
  let got: boolean;
  try {
    got = flock(fd, (opts.shared ? LOCK_SH : LOCK_EX) | (opts.tryOnly ? LOCK_NB : 0));
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (!got) { fs.closeSync(fd); return undefined; }
  return () => {
    try { flock(fd, LOCK_UN); } finally { fs.closeSync(fd); }
  };
}

export function withLock<T>(file: string, fn: () => T): T {
  const release = acquireLock(file);
  try { return fn(); } finally { release(); }
}
