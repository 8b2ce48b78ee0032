// Layer compression for destinations that want it: gzip (pigz on every core when it is installed,
// else zlib on this thread) or zstd (the zstd program, else zstd-napi).
import os from 'node:os';
import zlib from 'node:zlib';
import { Readable, type Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { findExecutable } from '../sys/proc.js';
import { filterProcess } from '../sys/filter.js';
import type { Compressor } from '../copy/copy.js';

function compressorStream(name: 'gzip' | 'zstd'): Duplex {
  const threads = String(Math.max(1, os.availableParallelism()));
  if (name === 'gzip') {
    const pigz = findExecutable('pigz');
    return pigz ? filterProcess(pigz, ['-c', '-p', threads, '-6']) : zlib.createGzip({ level: 6, chunkSize: 256 * 1024 });
  }
  const zstd = process.env.TSPOD_ZSTD === 'napi' ? undefined : findExecutable('zstd');
  if (zstd) return filterProcess(zstd, ['-c', '-q', '-3', `-T${threads}`]);
  const { CompressStream } = createRequire(import.meta.url)('zstd-napi');
  return new CompressStream();
}

export function compressor(name: 'gzip' | 'zstd'): Compressor {
  return {
    name,
    compress(tar: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
      const input = Readable.from(tar, { objectMode: false });
      const out = compressorStream(name);
      input.on('error', (e) => out.destroy(e));
      return input.pipe(out);
    },
  };
}
