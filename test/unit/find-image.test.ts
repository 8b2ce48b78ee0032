// How a name typed by a user finds a stored image: ids, id prefixes, full names, short names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store, type ImageRecord } from '../../src/storage/store.js';
import { findImage } from '../../src/engine/images.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-find-'));
process.env.CONTAINERS_REGISTRIES_CONF = path.join(dir, 'registries.conf');
fs.writeFileSync(process.env.CONTAINERS_REGISTRIES_CONF, 'unqualified-search-registries = ["docker.io", "quay.io"]\n');
const store = new Store(path.join(dir, 'store')).init();
const img = (id: string, names: string[]): ImageRecord => ({ id, names, digest: `sha256:${'d'.repeat(64)}`, repoDigests: [], layers: [], size: 0, manifestMediaType: '', pulled: '' });
fs.writeFileSync(path.join(store.root, 'images.json'), JSON.stringify({ images: [
  img(`abc1${'0'.repeat(60)}`, ['docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest']),
  img(`abc2${'0'.repeat(60)}`, ['quay.io/team/tool:1']),
  img(`fff0${'0'.repeat(60)}`, ['localhost:5000/alpine:edge']),
] }));

test('by id and by unique id prefix', async () => {
  assert.is((await findImage(store, `abc1${'0'.repeat(60)}`))?.names[0], 'docker.io/library/alpine:3.20');
  assert.is((await findImage(store, 'abc2'))?.names[0], 'quay.io/team/tool:1');
  assert.is((await findImage(store, 'sha256:fff0'))?.names[0], 'localhost:5000/alpine:edge');
});

test('an ambiguous id prefix says so', async () => {
  try { await findImage(store, 'abc'); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /matches 2 images/); }
});

test('short names through the search registries, then any repository ending with the name', async () => {
  assert.is((await findImage(store, 'alpine'))?.id.slice(0, 4), 'abc1');
  assert.is((await findImage(store, 'alpine:3.20'))?.id.slice(0, 4), 'abc1');
  assert.is((await findImage(store, 'team/tool:1'))?.id.slice(0, 4), 'abc2');
  assert.is((await findImage(store, 'alpine:edge'))?.id.slice(0, 4), 'fff0');
  assert.is(await findImage(store, 'alpine:3.1'), undefined);
  assert.is(await findImage(store, 'docker.io/library/alpine:edge'), undefined);
});

test.run();
