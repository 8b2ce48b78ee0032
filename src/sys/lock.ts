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
  // flock on a second fd of a file this process already locked would wait on ourselves forever.
  if (heldHere.has(file)) {
    if (opts.tryOnly) return undefined;
    throw new Error(`internal: ${file} is locked by this process; take it with acquireLockAsync`);
  }
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

/**
 * Files this process holds with acquireLockAsync, each with the queue of its waiters here. A
 * process serving many requests at once (the API service) takes locks this way: its holders wait
 * for each other in turn, and for other processes without blocking the event loop.
 */
const heldHere = new Map<string, Promise<void>>();

export async function acquireLockAsync(file: string, opts: { shared?: boolean } = {}): Promise<() => void> {
  const before = heldHere.get(file);
  let done!: () => void;
  const mine = new Promise<void>((r) => { done = r; });
  const chain = (before ?? Promise.resolve()).then(() => mine);
  heldHere.set(file, chain);
  const letGo = () => { done(); if (heldHere.get(file) === chain) heldHere.delete(file); };
  if (before) await before;
  let fd: number;
  try { fd = fs.openSync(file, 'a', 0o600); } catch (e) { letGo(); throw e; }
  try {
    // Another process holds it: ask again, soon at first, then every 10 ms.
    for (let wait = 1; !flock(fd, (opts.shared ? LOCK_SH : LOCK_EX) | LOCK_NB); wait = Math.min(wait * 2, 10)) await new Promise((r) => setTimeout(r, wait));
  } catch (e) {
    fs.closeSync(fd);
    letGo();
    throw e;
  }
  return () => {
    try { flock(fd, LOCK_UN); } finally { fs.closeSync(fd); letGo(); }
  };
}
