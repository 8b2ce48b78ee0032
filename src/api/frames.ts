// Docker's multiplexed stream: without a terminal, attach, exec and logs send stdout and stderr
// over one connection, each chunk after an 8-byte header (stream 1 or 2, three zero bytes, and the
// chunk's length as a big-endian uint32). With a terminal the bytes go as they are.
import { Writable } from 'node:stream';

export const STDOUT = 1;
export const STDERR = 2;

export function frameHeader(stream: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(length, 4);
  return h;
}

/** One chunk of output, framed. */
export const frame = (stream: number, chunk: Buffer): Buffer => Buffer.concat([frameHeader(stream, chunk.length), chunk]);

/** Read frames back: yields [stream, payload] for every whole frame in `buf`, and what is left over. */
export function parseFrames(buf: Buffer): { frames: Array<[number, Buffer]>; rest: Buffer } {
  const frames: Array<[number, Buffer]> = [];
  let at = 0;
  while (buf.length - at >= 8) {
    const len = buf.readUInt32BE(at + 4);
    if (buf.length - at - 8 < len) break;
    frames.push([buf[at], buf.subarray(at + 8, at + 8 + len)]);
    at += 8 + len;
  }
  return { frames, rest: buf.subarray(at) };
}

/** stdout and stderr writers onto one connection: framed, or raw when the container has a terminal. */
export function outputStreams(to: NodeJS.WritableStream, tty: boolean): { stdout: Writable; stderr: Writable } {
  const make = (stream: number) => new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!chunk.length) { done(); return; }
      try { to.write(tty ? chunk : frame(stream, chunk)); } catch { /* the client left */ }
      done();
    },
  });
  return { stdout: make(STDOUT), stderr: make(STDERR) };
}
