// Hostile layers: every way out of the layer directory, each refused with nothing written outside.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { unpackLayer, cleanEntryName } from '../../src/storage/unpack.js';
import { tarOf, type Entry } from '../fixtures/oci-layout.js';

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  try { await p; } catch (e) { assert.match((e as Error).message, re); return; }
  assert.unreachable('expected a rejection');
}

function sandbox(): { root: string; layer: string; outside: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-unpack-'));
  const layer = path.join(root, 'layer');
  const outside = path.join(root, 'outside');
  fs.mkdirSync(layer);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim'), 'original\n');
  return { root, layer, outside };
}

async function unpack(entries: Entry[], layer: string) {
  return unpackLayer(Readable.from([await tarOf(entries)]), layer, { overlayXattrPrefix: 'user.overlay.' });
}

function untouched(outside: string): void {
  assert.equal(fs.readdirSync(outside), ['victim']);
  assert.is(fs.readFileSync(path.join(outside, 'victim'), 'utf8'), 'original\n');
}

test('names are cleaned; ".." is refused', () => {
  assert.is(cleanEntryName('./a/b/'), 'a/b');
  assert.is(cleanEntryName('/etc/passwd'), 'etc/passwd');
  assert.throws(() => cleanEntryName('../x'), /climbs out/);
  assert.throws(() => cleanEntryName('a/../../x'), /climbs out/);
});

test('an entry named ../outside/victim is refused', async () => {
  const s = sandbox();
  await rejects(unpack([{ name: '../outside/victim', content: 'owned' }], s.layer), /climbs out/);
  untouched(s.outside);
});

test('an absolute path lands inside the layer', async () => {
  const s = sandbox();
  await unpack([{ name: `${s.outside}/victim`, content: 'inside' }], s.layer);
  untouched(s.outside);
  assert.is(fs.readFileSync(path.join(s.layer, s.outside, 'victim'), 'utf8'), 'inside');
});

test('a file written through a symlink that points out is refused', async () => {
  const s = sandbox();
  await rejects(unpack([
    { name: 'escape', type: 'symlink', linkname: s.outside },
    { name: 'escape/victim', content: 'owned' },
  ], s.layer), /through the symlink "escape"/);
  untouched(s.outside);
});

test('a relative symlink climbing out, then written through, is refused', async () => {
  const s = sandbox();
  await rejects(unpack([
    { name: 'a/', },
    { name: 'a/up', type: 'symlink', linkname: '../../outside' },
    { name: 'a/up/new', content: 'owned' },
  ], s.layer), /through the symlink/);
  untouched(s.outside);
});

test('a symlink written over by a file replaces the link, never writes through it', async () => {
  const s = sandbox();
  await unpack([
    { name: 'victim', type: 'symlink', linkname: path.join(s.outside, 'victim') },
    { name: 'victim', content: 'replaced' },
  ], s.layer);
  untouched(s.outside);
  const st = fs.lstatSync(path.join(s.layer, 'victim'));
  assert.ok(st.isFile());
  assert.is(fs.readFileSync(path.join(s.layer, 'victim'), 'utf8'), 'replaced');
});

test('a hard link to a file outside is refused', async () => {
  const s = sandbox();
  await rejects(unpack([{ name: 'h', type: 'link', linkname: '../outside/victim' }], s.layer), /climbs out/);
  await rejects(unpack([{ name: 'h2', type: 'link', linkname: path.join(s.outside, 'victim') }], s.layer), /not in the layer/);
  untouched(s.outside);
});

test('a hard link through a symlinked directory is refused', async () => {
  const s = sandbox();
  await rejects(unpack([
    { name: 'dir', type: 'symlink', linkname: s.outside },
    { name: 'h', type: 'link', linkname: 'dir/victim' },
  ], s.layer), /through the symlink "dir"/);
  untouched(s.outside);
});

test('a whiteout through a symlink is refused', async () => {
  const s = sandbox();
  await rejects(unpack([
    { name: 'dir', type: 'symlink', linkname: s.outside },
    { name: 'dir/.wh.victim', content: '' },
  ], s.layer), /through the symlink/);
  untouched(s.outside);
});

test('whiteouts become 0/0 character devices; modes, links and long names are kept', async () => {
  const s = sandbox();
  const long = `d/${'x'.repeat(150)}`;
  const r = await unpack([
    { name: 'd/' },
    { name: 'd/.wh.gone', content: '' },
    { name: 'd/suid', content: 'x', mode: 0o4755 },
    { name: 'd/orig', content: 'same' },
    { name: 'd/hard', type: 'link', linkname: 'd/orig' },
    { name: long, content: 'long' },
    { name: 'o/' },
    { name: 'o/.wh..wh..opq', content: '' },
  ], s.layer);
  const wh = fs.lstatSync(path.join(s.layer, 'd/gone'));
  assert.ok(wh.isCharacterDevice());
  assert.is(wh.rdev, 0);
  assert.is(fs.statSync(path.join(s.layer, 'd/suid')).mode & 0o7777, 0o4755);
  assert.is(fs.statSync(path.join(s.layer, 'd/hard')).ino, fs.statSync(path.join(s.layer, 'd/orig')).ino);
  assert.is(fs.readFileSync(path.join(s.layer, long), 'utf8'), 'long');
  assert.not.ok(fs.existsSync(path.join(s.layer, 'o/.wh..wh..opq')));
  assert.is(r.size, 1 + 4 + 4);
});

test.run();
