// gzip on every core, as pigz does: the input is cut into blocks, each block is deflated on its
// own in Node's thread pool (primed with the 32 KiB before it, so little is lost), ending in a sync
// flush so the pieces join into one deflate stream; the last one finishes it. One gzip member, a
// CRC-32 and length over the whole input: any gunzip reads it.
import zlib from 'node:zlib';
import { promisify } from 'node:util';

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, o: zlib.ZlibOptions) => Promise<Buffer>;
// magic, CM=deflate, no flags, mtime 0, XFL 0, OS 3 (Unix)
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
const WINDOW = 32 * 1024;

export interface ParallelGzipOptions { level?: number; blockSize?: number; inFlight?: number }

export async function* parallelGzip(input: AsyncIterable<Buffer>, o: ParallelGzipOptions = {}): AsyncGenerator<Buffer> {
  const level = o.level ?? 6;
  const blockSize = o.blockSize ?? 256 << 10;
  const inFlight = o.inFlight ?? 4;
  yield HEADER;
  let crc = 0;
  let total = 0;
  let previous: Buffer | undefined;
  const pending: Array<Promise<Buffer>> = [];
  let parts: Buffer[] = [];
  let have = 0;
  const send = (block: Buffer, last: boolean) => {
    crc = zlib.crc32(block, crc);
    total += block.length;
    const dictionary = previous && previous.length > WINDOW ? previous.subarray(previous.length - WINDOW) : previous;
    const piece = deflateRaw(block, { level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH, ...(dictionary ? { dictionary } : {}) });
    piece.catch(() => undefined); // met where it is awaited, in order
    pending.push(piece);
    previous = block;
  };
  for await (const chunk of input) {
    parts.push(chunk);
    have += chunk.length;
    while (have >= blockSize) {
      const all = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      send(all.subarray(0, blockSize), false);
      const rest = all.subarray(blockSize);
      parts = rest.length ? [rest] : [];
      have = rest.length;
      if (pending.length >= inFlight) yield await pending.shift()!;
    }
  }
  send(parts.length === 1 ? parts[0] : Buffer.concat(parts), true);
  while (pending.length) yield await pending.shift()!;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  yield trailer;
}
