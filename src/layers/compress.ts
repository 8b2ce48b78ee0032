// Layer compression for destinations that want it: gzip on every core (parallelGzip), or zstd (the
// zstd program, else zstd-napi).
import os from 'node:os';
import { parallelGzip } from './pgzip.js';
import { Readable, type Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { findExecutable } from '../sys/proc.js';
import { filterProcess } from '../sys/filter.js';
import type { Compressor } from '../copy/copy.js';

/** deflate's level: TSPOD_GZIP_LEVEL, else 6 (zlib's and gzip's default). */
const GZIP_LEVEL = Math.min(9, Math.max(1, Number(process.env.TSPOD_GZIP_LEVEL) || 6));

/** zstd on every core: the `zstd` program when installed, else zstd-napi on this thread. */
function zstdStream(): Duplex {
  const zstd = process.env.TSPOD_ZSTD === 'napi' ? undefined : findExecutable('zstd');
  if (zstd) return filterProcess(zstd, ['-c', '-q', '-3', `-T${Math.max(1, os.availableParallelism())}`]);
  const { CompressStream } = createRequire(import.meta.url)('zstd-napi');
  return new CompressStream();
}

export function compressor(name: 'gzip' | 'zstd'): Compressor {
  return {
    name,
    compress(tar: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
      if (name === 'gzip') return parallelGzip(tar, { level: GZIP_LEVEL });
      const input = Readable.from(tar, { objectMode: false });
      const out = zstdStream();
      input.on('error', (e) => out.destroy(e));
      return input.pipe(out);
    },
  };
}
