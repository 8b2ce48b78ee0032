// One layer from its compressed bytes to an unpacked directory: the compressed digest, the
// decompressor (chosen by magic bytes), the diff id, and the unpack, all in one pass over the stream.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { Readable, type Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { CorruptLayerError } from '../errors.js';
import { findExecutable } from '../sys/proc.js';
import { filterProcess } from '../sys/filter.js';
import { unpackLayer } from './unpack.js';
import { CorruptTarError } from './tar-reader.js';
import { LayoutRecorder } from './tar-layout.js';

/** What the first bytes say a stream is compressed with, whatever a media type claims. */
export function compressionOfBytes(first: Buffer): 'gzip' | 'zstd' | null {
  if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) return 'gzip';
  if (first.length >= 4 && first.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return null; // an uncompressed tar
}

/** The decompressor the first bytes call for (zstd starts the `zstd` program: ask compressionOfBytes only to know). */
export function decompressor(first: Buffer): Duplex | null {
  const kind = compressionOfBytes(first);
  if (kind === 'gzip') return zlib.createGunzip({ chunkSize: 256 * 1024 });
  if (kind === 'zstd') {
    const binary = process.env.TSPOD_ZSTD === 'napi' ? undefined : findExecutable('zstd');
    if (binary) return filterProcess(binary, ['-d', '-c', '-q']);
    const { DecompressStream } = createRequire(import.meta.url)('zstd-napi');
    return new DecompressStream();
  }
  return null;
}

export interface LayerStreamOptions {
  /** the layer's compressed digest, to name it in errors */
  digest: string;
  /** xattr namespace overlayfs reads: "user.overlay." (rootless) or "trusted.overlay." */
  overlayXattrPrefix: string;
  onWarning?: (message: string) => void;
  /** where to write the tar's layout (tar-layout.ts), when it can give the tar back */
  layoutFile?: string;
}

/** What the stream turned out to be; the caller compares the digests with what it expected. */
export interface UnpackedLayer { compressedDigest: string; diffDigest: string; size: number; /** the uncompressed tar's length */ tarSize: number }

/** Pass the chunks on, hashing each as it goes by. */
async function* hashing(source: AsyncIterable<Buffer>, hash: crypto.Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) { hash.update(chunk); yield chunk; }
}

/** Unpack a compressed (or plain) layer stream into `diff`, an empty directory. */
export async function unpackLayerStream(compressed: AsyncIterable<Buffer>, diff: string, opts: LayerStreamOptions): Promise<UnpackedLayer> {
  let source: Readable | undefined;
  try {
    const compressedHash = crypto.createHash('sha256');
    const diffHash = crypto.createHash('sha256');
    const iterator = hashing(compressed, compressedHash)[Symbol.asyncIterator]();
    const first = await iterator.next();
    const firstChunk = first.done ? Buffer.alloc(0) : first.value;
    const body = (async function* () {
      if (first.done) return;
      yield firstChunk;
      for (;;) { const n = await iterator.next(); if (n.done) return; yield n.value; }
    })();
    source = Readable.from(body, { objectMode: false });
    const dec = decompressor(firstChunk);
    let tar: Readable = source;
    if (dec) {
      source.on('error', (e) => dec.destroy(e));
      tar = source.pipe(dec);
    }
    const layout = opts.layoutFile ? new LayoutRecorder() : undefined;
    // A plain tar's diff id is the digest of the stream itself: hashing it twice would cost a second SHA-256 pass.
    const result = await unpackLayer(dec ? hashing(tar, diffHash) : tar, diff, { overlayXattrPrefix: opts.overlayXattrPrefix, onWarning: opts.onWarning, layout });
    if (layout && result.replayable) layout.write(opts.layoutFile!);
    const compressedDigest = `sha256:${compressedHash.digest('hex')}`;
    return { compressedDigest, diffDigest: dec ? `sha256:${diffHash.digest('hex')}` : compressedDigest, size: result.size, tarSize: layout?.size ?? 0 };
  } catch (e) {
    source?.destroy();
    if (e instanceof CorruptTarError) throw new CorruptLayerError(opts.digest, `it is not a valid tar archive (${e.why})`);
    const code = (e as { code?: string }).code ?? '';
    if (/^Z_|^ZSTD|^ERR_ZSTD/.test(code) || /zstd|incorrect (header|data) check|invalid (block|distance|code)|unexpected end of (file|data)/i.test((e as Error).message)) {
      throw new CorruptLayerError(opts.digest, `it does not decompress (${(e as Error).message})`);
    }
    throw e;
  }
}
