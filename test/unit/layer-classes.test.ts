// Layers checked against the image spec and overlayfs: each class of malformed or hostile input the
// fault campaign found, unpacked the way a pull unpacks it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { unpackLayer } from '../../src/storage/unpack.js';
import { lgetxattr } from '../../src/sys/index.js';
import { overlayLowers } from '../../src/storage/mapped.js';
import { rawTar, type RawEntry } from '../fixtures/raw-tar.js';

function layerDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-class-'));
  fs.mkdirSync(path.join(d, 'diff'));
  return path.join(d, 'diff');
}

async function unpack(entries: RawEntry[], warnings: string[] = []) {
  const dir = layerDir();
  await unpackLayer(Readable.from([rawTar(entries)]), dir, { overlayXattrPrefix: 'user.overlay.', onWarning: (m) => warnings.push(m) });
  return dir;
}

test('overlay-private xattrs carried in a layer are never written to the store', async () => {
  const warnings: string[] = [];
  const dir = await unpack([
    { name: 'hidden/' , pax: [['SCHILY.xattr.user.overlay.opaque', 'y'], ['SCHILY.xattr.user.kept', 'yes']] },
    { name: 'hidden/file', content: 'x', pax: [['SCHILY.xattr.trusted.overlay.whiteout', 'y'], ['SCHILY.xattr.user.overlay.redirect', '/etc']] },
    { name: 'also', content: 'x', pax: [['SCHILY.xattr.trusted.overlay.opaque', 'y'], ['SCHILY.xattr.user.overlay.metacopy', '']] },
  ], warnings);
  for (const [f, names] of [['hidden', ['user.overlay.opaque']], ['hidden/file', ['trusted.overlay.whiteout', 'user.overlay.redirect']], ['also', ['trusted.overlay.opaque', 'user.overlay.metacopy']]] as const) {
    for (const n of names) assert.is(lgetxattr(path.join(dir, f), n), undefined, `${f} has ${n}`);
  }
  assert.is(lgetxattr(path.join(dir, 'hidden'), 'user.kept')?.toString(), 'yes', 'other xattrs are kept');
  assert.equal(warnings.filter((w) => /overlayfs's own attribute/.test(w)).length, 1, 'said once');
});

test('file names are bytes: names that are not UTF-8 survive byte for byte, in ustar and pax records', async () => {
  const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1: not UTF-8
  const invalid = Buffer.from([0x78, 0xff, 0xfe, 0x80]);
  const dir = await unpack([
    { name: Buffer.concat([Buffer.from('d-'), latin1, Buffer.from('/')]) },
    { name: Buffer.concat([Buffer.from('d-'), latin1, Buffer.from('/'), invalid]), content: 'bytes' },
    { name: 'placeholder', content: 'pax', pax: [['path', Buffer.concat([Buffer.from('p-'), invalid])]] },
    { name: Buffer.concat([Buffer.from('l-'), invalid]), type: 'symlink', linkname: Buffer.concat([Buffer.from('t-'), latin1]) },
    { name: 'utf8-é', content: 'plain' },
  ]);
  const names = fs.readdirSync(dir, { encoding: 'buffer' }).map((b) => b.toString('hex')).sort();
  const hex = (...p: Buffer[]) => Buffer.concat(p).toString('hex');
  assert.equal(names, [hex(Buffer.from('d-'), latin1), hex(Buffer.from('l-'), invalid), hex(Buffer.from('p-'), invalid), hex(Buffer.from('utf8-é'))].sort());
  const sub = Buffer.concat([Buffer.from(dir + '/d-'), latin1, Buffer.from('/'), invalid]);
  assert.is(fs.readFileSync(sub, 'utf8'), 'bytes');
  assert.is(fs.readlinkSync(Buffer.concat([Buffer.from(dir + '/l-'), invalid]), { encoding: 'buffer' }).toString('hex'), hex(Buffer.from('t-'), latin1));
  assert.is(fs.readFileSync(path.join(dir, 'utf8-é'), 'utf8'), 'plain');
});

/** security.capability v2 (20 bytes) or v3 (24, with the root uid the caps hold for), effective bit set. */
function capability(version: 2 | 3, permitted: number, rootid = 0): Buffer {
  const b = Buffer.alloc(version === 2 ? 20 : 24);
  b.writeUInt32LE(((version === 2 ? 0x02000000 : 0x03000000) | 1) >>> 0, 0);
  b.writeUInt32LE(permitted, 4);
  if (version === 3) b.writeUInt32LE(rootid, 20);
  return b;
}

test('binary xattr values are written byte for byte: security.capability v2 and v3', async () => {
  const binary = Buffer.from([0, 1, 0xff, 0x0a, 0x3d, 0x20, 0x80, 0]);
  const dir = await unpack([
    { name: 'bin/' },
    { name: 'bin/v2', content: 'x', mode: 0o755, pax: [['SCHILY.xattr.security.capability', capability(2, 1 << 10)]] },
    { name: 'bin/v3', content: 'x', mode: 0o755, pax: [['SCHILY.xattr.security.capability', capability(3, 1 << 10, 0)]] },
    { name: 'bin/blob', content: 'x', pax: [['SCHILY.xattr.user.binary', binary]] },
  ]);
  assert.ok(lgetxattr(path.join(dir, 'bin/blob'), 'user.binary')?.equals(binary), 'binary value kept');
  for (const f of ['v2', 'v3']) {
    const got = lgetxattr(path.join(dir, 'bin', f), 'security.capability');
    assert.ok(got, `${f} has its capability`);
    assert.is(got!.readUInt32LE(4), 1 << 10, `${f}: CAP_NET_BIND_SERVICE permitted`);
    // Written by real root, a root uid of 0 is stored as it is (or as v2, which means the same).
    if (got!.length === 24) assert.is(got!.readUInt32LE(20), 0);
  }
});

test('a whiteout applies only to lower layers: a file followed by its own whiteout stays', async () => {
  const dir = await unpack([
    { name: 'etc/' },
    { name: 'etc/kept', content: 'mine' },
    { name: 'etc/.wh.kept', content: '' },
    { name: 'etc/.wh.lower-only', content: '' },
  ]);
  assert.is(fs.readFileSync(path.join(dir, 'etc/kept'), 'utf8'), 'mine');
  assert.ok(fs.lstatSync(path.join(dir, 'etc/lower-only')).isCharacterDevice(), 'a whiteout for what only lower layers have');
});

test('a whiteout followed by a directory of the same name makes that directory opaque, in either order', async () => {
  const dir = await unpack([
    { name: '.wh.data', content: '' },
    { name: 'data/' },
    { name: 'data/new', content: 'new' },
    { name: 'cache/' },
    { name: 'cache/own', content: 'own' },
    { name: '.wh.cache', content: '' },
    { name: 'plain/' },
  ]);
  assert.ok(fs.statSync(path.join(dir, 'data')).isDirectory());
  assert.is(lgetxattr(path.join(dir, 'data'), 'user.overlay.opaque')?.toString(), 'y', 'deleted lower files must not come back');
  assert.is(fs.readFileSync(path.join(dir, 'data/new'), 'utf8'), 'new');
  assert.is(lgetxattr(path.join(dir, 'cache'), 'user.overlay.opaque')?.toString(), 'y');
  assert.is(fs.readFileSync(path.join(dir, 'cache/own'), 'utf8'), 'own');
  assert.is(lgetxattr(path.join(dir, 'plain'), 'user.overlay.opaque'), undefined);
});

test('a layer listed twice is mounted once, at its topmost place: overlay refuses one lower directory twice', () => {
  // Image order, base first: A B A C. Overlay wants the top first; the lower A adds nothing the upper A lacks.
  assert.equal(overlayLowers(['A', 'B', 'A', 'C']), ['C', 'A', 'B']);
  assert.equal(overlayLowers(['A']), ['A']);
  assert.equal(overlayLowers(['A', 'A']), ['A']);
});

test.run();
