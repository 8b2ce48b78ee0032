// Layer decompression is chosen by magic bytes; a corrupt zstd stream is an error that names zstd,
// whichever decoder runs it (the zstd program, or zstd-napi when TSPOD_ZSTD=napi or it is missing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { decompressor } from '../../src/storage/layer-stream.js';

async function run(input: Buffer): Promise<Buffer> {
  const dec = decompressor(input)!;
  const chunks: Buffer[] = [];
  Readable.from([input]).pipe(dec);
  for await (const c of dec) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const text = Buffer.from('hello layer\n'.repeat(1000));
const zstd = spawnSync('zstd', ['-q', '-c'], { input: text }).stdout;
const garbage = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64, 0xab)]);

for (const mode of ['program', 'napi']) {
  test(`zstd (${mode}): decodes a stream and refuses a corrupt one`, async () => {
    if (mode === 'napi') process.env.TSPOD_ZSTD = 'napi'; else delete process.env.TSPOD_ZSTD;
    assert.equal(await run(zstd), text);
    try {
      await run(garbage);
      assert.unreachable('a corrupt stream must fail');
    } catch (e) {
      assert.match((e as Error).message + String((e as { code?: string }).code), /zstd|ZSTD|header|frame/i);
    }
  });
}

test('an uncompressed tar needs no decoder', () => {
  assert.is(decompressor(Buffer.from('ustar-ish')), null);
});

test.run();
