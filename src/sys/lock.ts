// Whole-file locks with flock(2): the kernel releases them when their process dies, however it
// dies, so a pull killed with SIGKILL never leaves the store locked.
import fs from 'node:fs';
import { flock, LOCK_EX, LOCK_UN } from './index.js';

export function acquireLock(file: string): () => void {
  const fd = fs.openSync(file, 'a', 0o600);
  try {
    flock(fd, LOCK_EX);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return () => {
    try { flock(fd, LOCK_UN); } finally { fs.closeSync(fd); }
  };
}

export function withLock<T>(file: string, fn: () => T): T {
  const release = acquireLock(file);
  try { return fn(); } finally { release(); }
}
