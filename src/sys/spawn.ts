// Starting the helpers that outlive a call or are waited on (the OCI runtime, conmon, slirp4netns):
// posix_spawn from tspod's addon, with a thread that waits for each. Node's spawn forks, which at
// Node's size costs ~3-5 ms per helper; a container start has two.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { posixSpawn, pipe, waitExit } from './index.js';
import { findExecutable } from './proc.js';

/** For each of the child's fds from 0: /dev/null, ours, or a pipe the child writes and we read. */
export type Stdio = 'ignore' | 'inherit' | 'pipe';

export interface StartOptions {
  stdio: Stdio[];
  env?: NodeJS.ProcessEnv;
  /** in its own session, so the terminal's signals reach it only through us */
  newSession?: boolean;
  /**
   * false: nobody waits for its end (a helper that will outlive us: its pipes say when it failed
   * early). `exited` then never settles.
   */
  wait?: boolean;
}

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface Started {
  pid: number;
  /** our ends of the child's 'pipe' fds, by fd number: the write end for its stdin, read ends for the rest */
  pipes: Map<number, net.Socket>;
  exited: Promise<Exit>;
  kill(signal?: NodeJS.Signals): void;
}

const SIGNAL_NAMES = new Map(Object.entries(os.constants.signals).map(([name, n]) => [n as number, name as NodeJS.Signals]));

/** Start `file` (a path, or a name found on PATH) with `args`; errors carry Node's codes (ENOENT). */
export function startProcess(file: string, args: string[], opts: StartOptions): Started {
  const found = findExecutable(file);
  if (!found) throw Object.assign(new Error(`${file}: not found`), { code: 'ENOENT' });
  const fds: number[] = [];
  const ours = new Map<number, number>();
  const theirs: number[] = [];
  let pid: number;
  try {
    opts.stdio.forEach((how, i) => {
      if (how === 'ignore') fds.push(-1);
      else if (how === 'inherit') fds.push(i);
      else {
        // fd 0: the child reads what we write; the others: we read what it writes.
        const [read, write] = pipe();
        ours.set(i, i === 0 ? write : read);
        theirs.push(i === 0 ? read : write);
        fds.push(i === 0 ? read : write);
      }
    });
    const env = Object.entries(opts.env ?? process.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    pid = posixSpawn(found, [file, ...args], env, fds, !!opts.newSession);
  } catch (e) {
    for (const fd of ours.values()) fs.closeSync(fd);
    throw e;
  } finally {
    for (const fd of theirs) fs.closeSync(fd);
  }
  const exited = opts.wait === false ? new Promise<Exit>(() => {}) : exitOf(pid);
  const pipes = new Map([...ours].map(([i, fd]) => [i, new net.Socket({ fd, readable: i !== 0, writable: i === 0 })]));
  return { pid, pipes, exited, kill: (signal = 'SIGTERM') => { try { process.kill(pid, signal); } catch { /* gone */ } } };
}

/** How the child ended, from the thread that waits for it. */
function exitOf(pid: number): Promise<Exit> {
  const status = new net.Socket({ fd: waitExit(pid), readable: true, writable: false });
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    status.on('data', (d: Buffer) => chunks.push(d));
    status.on('error', reject);
    status.on('end', () => {
      const b = Buffer.concat(chunks);
      if (b.length < 8) { reject(new Error(`the wait for process ${pid} ended without its status`)); return; }
      const le = os.endianness() === 'LE';
      const code = le ? b.readInt32LE(0) : b.readInt32BE(0), signal = le ? b.readInt32LE(4) : b.readInt32BE(4);
      resolve({ code: code < 0 ? null : code, signal: signal ? SIGNAL_NAMES.get(signal) ?? null : null });
    });
  });
}

/** Resolves once the stream has ended and closed (the child's last output read). */
export const drained = (s: net.Socket) => new Promise<void>((resolve) => { if (s.destroyed) resolve(); else s.once('close', () => resolve()); });
