// copyImage between an in-memory source and destination: what it refuses before it fetches
// anything, how a layer listed twice is fetched, and that a failure stops and takes back the rest.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import crypto from 'node:crypto';
import { copyImage } from '../../src/copy/copy.js';
import type { ImageDestination, ImageSource, ResolvedManifest } from '../../src/copy/types.js';
import type { Descriptor } from '../../src/registry/manifest.js';

const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

function image(layers: Buffer[], diffIds: string[]) {
  const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: diffIds } }));
  const descs: Descriptor[] = layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(l), size: l.length }));
  const manifest = { schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length }, layers: descs };
  const body = Buffer.from(JSON.stringify(manifest));
  const blobs = new Map<string, Buffer>([[sha(config), config], ...layers.map((l) => [sha(l), l] as [string, Buffer])]);
  const streamed: string[] = [];
  let closed = false;
  const source: ImageSource = {
    name: 'example.test/img:1',
    resolveManifest: async (): Promise<ResolvedManifest> => ({ digest: sha(body), mediaType: 'application/vnd.oci.image.manifest.v1+json', body, manifest }),
    async *streamBlob(desc) { streamed.push(desc.digest); yield blobs.get(desc.digest)!; },
    close: async () => { closed = true; },
  };
  return { source, streamed, closed: () => closed, descs };
}

function destination(present: string[] = [], failOn?: string) {
  const put: string[] = [];
  const state = { committed: false, abandoned: false };
  const dest: ImageDestination = {
    layerForm: 'any',
    reuseLayer: async (d, known) => present.includes(d) ? known[0]?.desc : undefined,
    async putLayer(desc, diffId, open) {
      for await (const _ of open()) { /* drain */ }
      if (desc.digest === failOn) throw new Error('injected');
      put.push(diffId);
      return desc;
    },
    abandon: () => { state.abandoned = true; },
    commitImage: async () => { state.committed = true; return 'id'; },
  };
  return { dest, put, state };
}

const tarA = Buffer.from('layer A'), tarB = Buffer.from('layer B');

test('a config whose diff_ids count differs from the layers fails closed, also when the layers are in the store', async () => {
  const img = image([tarA, tarB], [sha(tarA)]);
  const d = destination([sha(tarA), sha(tarB)]);
  try { await copyImage(img.source, d.dest); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /lists 2 layers but the config has 1 diff ids/); }
  assert.not.ok(d.state.committed);
  assert.equal(img.streamed.filter((x) => x !== img.descs[0].digest && x !== img.descs[1].digest).length, 1, 'only the config was fetched');
});

test('diff_ids that are no sha256 digests fail before anything names a file', async () => {
  const img = image([tarA], ['sha256:../../etc']);
  try { await copyImage(img.source, destination().dest); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /rootfs\.diff_ids is not a list of sha256 digests/); }
});

test('a layer listed twice is fetched once and recorded twice', async () => {
  const img = image([tarA, tarB, tarA], [sha(tarA), sha(tarB), sha(tarA)]);
  const d = destination();
  let recorded: string[] = [];
  d.dest.commitImage = async (a) => { recorded = a.diffIds; return 'id'; };
  await copyImage(img.source, d.dest);
  assert.equal(d.put.sort(), [sha(tarA), sha(tarB)].sort());
  assert.equal(recorded, [sha(tarA), sha(tarB), sha(tarA)]);
});

test('the first failed layer closes the source at once and takes back what the copy added', async () => {
  const img = image([tarA, tarB], [sha(tarA), sha(tarB)]);
  const d = destination([], sha(tarB));
  try { await copyImage(img.source, d.dest); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /injected/); }
  assert.ok(img.closed(), 'source closed');
  assert.ok(d.state.abandoned, 'destination told to take back its layers');
  assert.not.ok(d.state.committed);
});

test.run();
