// The tar reader against archives written by GNU tar (gnu, pax and v7 formats) and by tar-stream:
// long names, long link targets, big ids, pax xattrs, any chunking, and broken archives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { TarReader, CorruptTarError, type TarHeader } from '../../src/storage/tar-reader.js';
import { tarOf } from '../fixtures/oci-layout.js';

interface Seen { header: TarHeader; body: string }

/** Read an archive fed in pieces of `step` bytes; every entry with its body. */
function read(tar: Buffer, step = tar.length): Seen[] {
  const seen: Seen[] = [];
  let body: Buffer[] = [];
  const reader = new TarReader({
    begin(header) { seen.push({ header, body: '' }); body = []; return header.type === 'file'; },
    data(chunk) { body.push(Buffer.from(chunk)); },
    end() { seen[seen.length - 1].body = Buffer.concat(body).toString(); },
  });
  for (let i = 0; i < tar.length; i += step) reader.push(tar.subarray(i, i + step));
  reader.end();
  return seen;
}

const LONG = `${'d'.repeat(60)}/${'e'.repeat(70)}/${'f'.repeat(90)}.txt`;

/** A small tree: a long name, a long symlink target, a hard link, a directory, an empty file. */
function tree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-tar-'));
  fs.mkdirSync(path.join(dir, 'src', path.dirname(LONG)), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src', LONG), 'long name\n');
  fs.writeFileSync(path.join(dir, 'src', 'big.bin'), Buffer.alloc(70_000, 7));
  fs.writeFileSync(path.join(dir, 'src', 'empty'), '');
  fs.symlinkSync(LONG, path.join(dir, 'src', 'to-long'));
  fs.linkSync(path.join(dir, 'src', 'empty'), path.join(dir, 'src', 'hard'));
  fs.chmodSync(path.join(dir, 'src', 'big.bin'), 0o4755);
  return dir;
}

function gnuTar(dir: string, format: string, ...extra: string[]): Buffer {
  return execFileSync('tar', ['-C', path.join(dir, 'src'), `--format=${format}`, '--sort=name', '--numeric-owner', ...extra, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
}

for (const format of ['gnu', 'pax', 'ustar']) {
  test(`GNU tar --format=${format}: names, link targets, modes, bodies, whatever the chunking`, () => {
    const dir = tree();
    // ustar can't hold the long symlink target; the other formats can.
    if (format === 'ustar') fs.rmSync(path.join(dir, 'src', 'to-long'));
    const tar = gnuTar(dir, format, '--owner=1234', '--group=5678');
    const whole = read(tar);
    const byName = new Map(whole.map((s) => [s.header.name.replace(/^\.\//, ''), s]));
    assert.is(byName.get(LONG)?.body, 'long name\n');
    assert.is(byName.get(LONG)?.header.type, 'file');
    assert.is(byName.get('big.bin')?.body.length, 70_000);
    assert.is(byName.get('big.bin')?.header.mode, 0o4755);
    assert.is(byName.get('big.bin')?.header.uid, 1234);
    assert.is(byName.get('big.bin')?.header.gid, 5678);
    assert.is(byName.get('empty')?.body, '');
    assert.is(byName.get('hard')?.header.type, 'link');
    assert.is(byName.get('hard')?.header.linkname.replace(/^\.\//, ''), 'empty');
    if (format !== 'ustar') {
      assert.is(byName.get('to-long')?.header.type, 'symlink');
      assert.is(byName.get('to-long')?.header.linkname, LONG);
    }
    assert.is(byName.get(path.dirname(LONG) + '/')?.header.type ?? byName.get(path.dirname(LONG))?.header.type, 'directory');
    // Byte by byte, and at an odd step across every block boundary, the reader sees the same.
    for (const step of [1, 511, 4097]) assert.equal(read(tar, step), whole, `step ${step}`);
  });
}

test('ids too big for octal: base-256 (gnu) and pax records', () => {
  const dir = tree();
  for (const format of ['gnu', 'pax']) {
    const seen = read(gnuTar(dir, format, '--owner=3000000', '--group=4000000', '--mtime=@9000000000'));
    const big = seen.find((s) => s.header.name.endsWith('big.bin'))!;
    assert.is(big.header.uid, 3_000_000, format);
    assert.is(big.header.gid, 4_000_000, format);
    assert.is(Math.floor(big.header.mtime), 9_000_000_000, format);
  }
});

test('pax xattr records arrive as raw bytes; a v7 "name/" is a directory', async () => {
  const tar = await tarOf([
    { name: 'dir/', type: 'file' },
    { name: 'with-xattr', content: 'x', pax: { 'SCHILY.xattr.user.note': 'héllo' } },
  ]);
  const seen = read(tar);
  assert.is(seen[0].header.type, 'directory');
  assert.equal(seen[1].header.xattrs?.get('user.note'), Buffer.from('héllo'));
});

test('an archive cut in the middle of an entry is refused', () => {
  const tar = gnuTar(tree(), 'gnu');
  const cut = tar.subarray(0, tar.indexOf(Buffer.alloc(512, 7)) + 700);
  assert.throws(() => read(cut), (e: Error) => e instanceof CorruptTarError && /ends in the middle of an entry/.test(e.message));
});

test('a header with a bad checksum, or no tar at all, is refused', () => {
  const tar = Buffer.from(gnuTar(tree(), 'gnu'));
  tar[0] ^= 0x20;
  assert.throws(() => read(tar), /first header has a bad checksum/);
  assert.throws(() => read(Buffer.alloc(1024, 'not a tar archive, just text ')), /not a valid tar archive/);
});

test('anything after the end-of-archive blocks is ignored', () => {
  const tar = gnuTar(tree(), 'gnu');
  const seen = read(Buffer.concat([tar, Buffer.alloc(1024, 'x')]));
  assert.ok(seen.some((s) => s.header.name.endsWith('big.bin')));
});

test.run();
