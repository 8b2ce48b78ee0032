// attach: join a container's console through conmon's attach socket (SOCK_SEQPACKET; each packet
// from conmon starts with 2 for stdout or 3 for stderr). Our stdin goes the other way when the
// container keeps its stdin open. Ctrl-P Ctrl-Q detaches, as in Docker and Podman. `run -t` in the
// foreground comes this way too: conmon owns the pty, as with Podman.
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../errors.js';
import type { Store, ContainerRecord } from '../storage/store.js';
import { requireRunning } from './containers.js';
import { waitContainer, killContainer } from './lifecycle.js';

export interface AttachOptions {
  /** send our stdin to the container (it must have been started with -i) */
  stdin: boolean;
  /** pass the signals we receive on to the container (Docker's --sig-proxy, on by default) */
  sigProxy?: boolean;
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
  /** where stdin comes from when not ours (the API service's client); no terminal of ours is touched then */
  input?: NodeJS.ReadableStream;
  /** with input: close the container's stdin when it ends (Docker's StdinOnce) */
  closeStdinAtEnd?: boolean;
  /**
   * With a terminal: the log offset where this run began. conmon closes a terminal that is handed a
   * key as its container ends, and what the container wrote last never reaches the socket; it is in
   * the log, and is written from there.
   */
  replayFrom?: number;
}

const DETACH = Buffer.from([0x10, 0x11]); // Ctrl-P Ctrl-Q
const PACKET = 8192 + 1;

/** Returns the container's exit code, or undefined when the user detached. */
export async function attachContainer(store: Store, rec: ContainerRecord, o: AttachOptions): Promise<number | undefined> {
  requireRunning(store, rec);
  if (!rec.detached) throw new TspodError('E_NOT_ATTACHABLE', `container ${rec.name} runs in the foreground of another tspod`, { hint: 'attach works with containers started with -d, or by tspod start' });
  const sock = await connectAttach(store, rec);
  if (!(await pumpAttach(store, rec, sock, o))) return undefined;
  return waitContainer(store, rec, 10_000);
}

/** A connection to the container's conmon; output sent before it exists goes only to the log. */
export async function connectAttach(store: Store, rec: ContainerRecord): Promise<number> {
  const { connectSeqpacket } = await import('../sys/index.js');
  // The socket's full path is longer than a sockaddr allows: reach it through an fd of its directory.
  const dirFd = fs.openSync(store.containerDir(rec.id), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try { return connectSeqpacket(`/proc/self/fd/${dirFd}/attach`); } catch (e) {
    throw new TspodError('E_ATTACH', `cannot attach to ${rec.name}: ${(e as Error).message}`, { hint: 'is its conmon still running? see `tspod ps`' });
  } finally {
    fs.closeSync(dirFd);
  }
}

/** Copy between us and the container until its console closes (true) or the user detaches (false). Closes `sock`. */
export async function pumpAttach(store: Store, rec: ContainerRecord, sock: number, o: AttachOptions): Promise<boolean> {
  const { shutdownSocket, callerTerminalSize, makeRawTerminal } = await import('../sys/index.js');
  const tty = !!rec.config?.tty;
  const ours = !o.input;
  const stdin: NodeJS.ReadableStream = o.input ?? process.stdin;
  let detached = false;
  const resize = () => {
    const size = callerTerminalSize();
    if (size) resizeContainer(store, rec, size.rows, size.columns);
  };
  const onInput = (chunk: Buffer) => {
    if (tty && chunk.includes(DETACH)) { detached = true; shutdownSocket(sock); return; }
    for (let i = 0; i < chunk.length; i += PACKET - 1) {
      try { fs.writeSync(sock, chunk.subarray(i, i + PACKET - 1)); } catch { return; }
    }
  };
  if (tty && ours) { resize(); process.on('SIGWINCH', resize); }
  // Without a terminal, Ctrl-C reaches us rather than the container: hand it on, as Docker does.
  const proxied: NodeJS.Signals[] = o.sigProxy !== false && !tty && ours ? ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] : [];
  const proxy = (sig: NodeJS.Signals) => { killContainer(store, rec, sig).catch(() => { /* it ended meanwhile */ }); };
  for (const sg of proxied) process.on(sg, proxy);
  // Our keys go to the container as they are typed, Ctrl-C included.
  const restoreTerminal = o.stdin && tty && ours ? makeRawTerminal(0) : undefined;
  if (o.stdin) {
    stdin.on('data', onInput);
    // End of our input closes the container's stdin unless it was started to keep it open. Not on a
    // terminal: conmon, told the socket's write side is shut (or handed a key after the container
    // ended), closes the terminal and loses what the container still writes; it reads on, as at a
    // keyboard nobody types at.
    stdin.on('end', () => { try { if (ours ? !tty : o.closeStdinAtEnd) shutdownSocket(sock, 'write'); } catch { /* gone */ } });
  }
  let received = 0;
  try {
    const buf = Buffer.alloc(PACKET);
    for (;;) {
      // A socket with nothing to read yet says EAGAIN: that is not its end, which is 0 bytes (or a real error).
      const n = await new Promise<number>((resolve) => fs.read(sock, buf, 0, PACKET, null, (err, bytes) => resolve(err ? ((err as NodeJS.ErrnoException).code === 'EAGAIN' ? -1 : 0) : bytes)));
      if (n < 0) { await new Promise((r) => setTimeout(r, 2)); continue; }
      if (n === 0) break;
      if (buf[0] !== 3) received += n - 1;
      (buf[0] === 3 ? o.out.stderr : o.out.stdout).write(Buffer.from(buf.subarray(1, n)));
    }
    if (tty && !detached && o.replayFrom !== undefined) {
      const missed = loggedOutput(store, rec, o.replayFrom).subarray(received);
      if (missed.length) o.out.stdout.write(missed);
    }
  } finally {
    if (tty && ours) process.off('SIGWINCH', resize);
    for (const sg of proxied) process.off(sg, proxy);
    if (o.stdin) { stdin.off('data', onInput); if (ours) stdin.pause(); }
    restoreTerminal?.();
    try { fs.closeSync(sock); } catch { /* closed */ }
  }
  return !detached;
}

/** A terminal's output as conmon logged it from `offset` on (k8s-file lines: "TIME stdout F|P TEXT"), byte for byte. */
function loggedOutput(store: Store, rec: ContainerRecord, offset: number): Buffer {
  let text: Buffer;
  try { text = fs.readFileSync(path.join(store.containerDir(rec.id), 'userdata/ctr.log')).subarray(offset); } catch { return Buffer.alloc(0); }
  const parts: Buffer[] = [];
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf(10, at);
    if (end < 0) end = text.length;
    const line = text.subarray(at, end);
    at = end + 1;
    // TIME STREAM TAG[ TEXT]: F ends a line, P is part of one.
    const s1 = line.indexOf(32);
    const s2 = s1 < 0 ? -1 : line.indexOf(32, s1 + 1);
    if (s2 < 0 || s2 + 1 >= line.length) continue;
    const tag = line[s2 + 1];
    parts.push(line.subarray(line[s2 + 2] === 32 ? s2 + 3 : s2 + 2));
    if (tag === 70 /* F */) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Resize a detached container's terminal: conmon's control fifo takes "1 HEIGHT WIDTH". */
export function resizeContainer(store: Store, rec: ContainerRecord, rows: number, columns: number): void {
  try {
    const ctl = fs.openSync(path.join(store.containerDir(rec.id), 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(ctl, `1 ${rows} ${columns}\n`);
    fs.closeSync(ctl);
  } catch { /* conmon gone */ }
}
