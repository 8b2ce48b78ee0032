// A damaged store file: images.json truncated or overwritten is rebuilt from the manifests,
// configs and layers on disk, the damage is named, and nothing else is lost.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { Store } from '../../src/storage/store.js';

const sha = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

/** A store holding one complete image (manifest, config, layer) and one manifest whose layer is missing. */
function storeWithImage(): { store: Store; warnings: string[]; id: string; manifestHex: string; layer: string } {
  const warnings: string[] = [];
  const store = new Store(fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-recover-')), (m) => warnings.push(m)).init();
  const layer = `sha256:${sha('layer')}`;
  const staging = store.stagingDir();
  fs.mkdirSync(path.join(staging, 'diff'));
  store.commitLayer(staging, layer, 42);
  const blob = (data: string) => { const hex = sha(data); store.putBlob(`sha256:${hex}`, Buffer.from(data)); return hex; };
  const configHex = blob(JSON.stringify({ created: '2026-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [layer] } }));
  const manifestHex = blob(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: `sha256:${configHex}`, size: 1 }, layers: [{ digest: `sha256:${'a'.repeat(64)}`, size: 1 }] }));
  const orphanConfig = blob(JSON.stringify({ rootfs: { diff_ids: [`sha256:${'b'.repeat(64)}`] } }));
  blob(JSON.stringify({ schemaVersion: 2, config: { digest: `sha256:${orphanConfig}`, size: 1 }, layers: [{ digest: `sha256:${'c'.repeat(64)}`, size: 1 }] }));
  store.withLock(() => store.addImage({ id: configHex, names: ['example.test/app:1'], digest: `sha256:${manifestHex}`, repoDigests: [], layers: [layer], size: 42, manifestMediaType: 'x', pulled: '' }));
  return { store, warnings, id: configHex, manifestHex, layer };
}

test('a truncated images.json is rebuilt from the blobs and layers, named in one warning, and kept aside', () => {
  const { store, warnings, id, manifestHex, layer } = storeWithImage();
  const file = path.join(store.root, 'images.json');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').slice(0, 30));
  const images = store.readImages();
  assert.is(images.length, 1, 'the image whose layers are all there; not the one missing a layer');
  assert.is(images[0].id, id);
  assert.is(images[0].digest, `sha256:${manifestHex}`);
  assert.equal(images[0].layers, [layer]);
  assert.is(images[0].size, 42);
  assert.equal(images[0].names, []);
  assert.is(warnings.length, 1);
  assert.match(warnings[0], new RegExp(`${file.replace(/[/.]/g, '\\$&')} was damaged \\(.*\\): rebuilt 1 image record from the layers and manifests in the store, without their tags`));
  assert.ok(fs.readdirSync(store.root).some((f) => f.startsWith('images.json.damaged-')), 'the damaged file is kept');
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).images.map((i: { id: string }) => i.id), [id], 'images.json is whole again');
  assert.is(store.readImages().length, 1);
  assert.is(warnings.length, 1, 'rebuilt once');
});

test('an images.json that parses but holds no image list is damaged too', () => {
  const { store, warnings } = storeWithImage();
  fs.writeFileSync(path.join(store.root, 'images.json'), '{"images": 7}');
  assert.is(store.readImages().length, 1);
  assert.match(warnings[0], /does not hold a list of image records/);
});

test('writes that fail leave no temporary file behind', () => {
  const { store } = storeWithImage();
  const target = path.join(store.root, 'no-such-dir', 'file');
  assert.throws(() => store.writeAtomic(target, 'x'));
  fs.mkdirSync(path.join(store.root, 'ro'));
  fs.mkdirSync(path.join(store.root, 'ro', 'file'));
  assert.throws(() => store.writeAtomic(path.join(store.root, 'ro', 'file'), 'x'), /EISDIR|EEXIST|ENOTEMPTY|EISDIR/);
  assert.equal(fs.readdirSync(path.join(store.root, 'ro')), ['file']);
});

test.run();
