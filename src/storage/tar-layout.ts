// A layer's tar layout: every byte of the tar as pulled except the file bodies, which stay in the
// unpacked diff. Replaying it (headers from here, bodies from the diff) gives back the very tar
// whose sha256 is the layer's diff id, so push, save and load keep the image's config and ID (what
// containers/storage keeps as tar-split). A layer written later (commit, build) has a layout too.
//
// The file: gzip of records, 'R' u32-length raw-bytes, or 'F' u32-length path-bytes f64-size.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { TspodError } from '../errors.js';

export const LAYOUT_FILE = 'tar-layout.gz';

/** Collects a tar's raw spans and file bodies as the unpack sees them. */
export class LayoutRecorder {
  private readonly parts: Buffer[] = [];
  private raw: Buffer[] = [];
  private rawLength = 0;
  /** every byte of the tar, raw and bodies */
  size = 0;
  /** the bytes of file bodies alone (a layer's size as the store counts it) */
  bodyBytes = 0;

  addRaw(chunk: Buffer): void {
    if (!chunk.length) return;
    this.raw.push(Buffer.from(chunk));
    this.rawLength += chunk.length;
    this.size += chunk.length;
  }

  /** A file body of `size` bytes, found in the diff at `rel` (a byte string). */
  addFile(rel: string, size: number): void {
    this.flushRaw();
    const name = Buffer.from(rel, 'latin1');
    const head = Buffer.alloc(13);
    head[0] = 0x46; // 'F'
    head.writeUInt32LE(name.length, 1);
    head.writeDoubleLE(size, 5);
    this.parts.push(head.subarray(0, 5), name, head.subarray(5));
    this.size += size;
    this.bodyBytes += size;
  }

  private flushRaw(): void {
    if (!this.rawLength) return;
    const head = Buffer.alloc(5);
    head[0] = 0x52; // 'R'
    head.writeUInt32LE(this.rawLength, 1);
    this.parts.push(head, ...this.raw);
    this.raw = [];
    this.rawLength = 0;
  }

  write(file: string): void {
    this.flushRaw();
    fs.writeFileSync(file, zlib.gzipSync(Buffer.concat(this.parts), { level: 1 }));
  }
}

type Record = { raw: Buffer } | { file: Buffer; size: number };

function* records(file: string): Generator<Record> {
  let data: Buffer;
  try { data = zlib.gunzipSync(fs.readFileSync(file)); } catch (e) {
    throw new TspodError('E_LAYER_LAYOUT', `the layer's tar layout ${file} cannot be read: ${(e as Error).message}`, { hint: 'remove the image and pull it again' });
  }
  let pos = 0;
  while (pos < data.length) {
    const kind = data[pos];
    const length = data.readUInt32LE(pos + 1);
    pos += 5;
    if (kind === 0x52) { yield { raw: data.subarray(pos, pos + length) }; pos += length; continue; }
    const name = data.subarray(pos, pos + length);
    pos += length;
    yield { file: name, size: data.readDoubleLE(pos) };
    pos += 8;
  }
}

/** The tar's length, from its layout alone. */
export function layoutSize(file: string): number {
  let n = 0;
  for (const r of records(file)) n += 'raw' in r ? r.raw.length : r.size;
  return n;
}

const CHUNK = 256 << 10;

/** Exactly `size` bytes of a file (never through a symlink), in chunks; `short` says why when it has fewer. */
export function* fileBytes(full: Buffer, size: number, short: () => Error): Generator<Buffer> {
  const fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    for (let left = size; left > 0;) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) throw short();
      left -= n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The layer's tar again, byte for byte: raw spans from the layout, bodies read from `diff`. */
export async function* replayLayout(file: string, diff: string): AsyncGenerator<Buffer> {
  const root = Buffer.from(`${diff}/`);
  const changed = (name: Buffer, why: string) => new TspodError('E_LAYER_LAYOUT', `layer file ${path.join(diff, name.toString('utf8'))} ${why}`, { hint: 'the store was changed by hand; remove the image and pull it again' });
  for (const r of records(file)) {
    if ('raw' in r) { yield r.raw; continue; }
    const full = Buffer.concat([root, r.file]);
    try {
      yield* fileBytes(full, r.size, () => changed(r.file, 'is shorter than when it was stored'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw e instanceof TspodError || !code ? e : changed(r.file, `is missing (${code})`);
    }
  }
}
