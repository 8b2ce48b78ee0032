import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { selectPlatform, kindOf, parseManifest, parsePlatform } from '../../src/registry/manifest.js';

const index = {
  schemaVersion: 2,
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:amd', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:arm7', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:arm64', size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  ],
};

test('platform selection picks os/arch, and the variant when asked', () => {
  assert.is(selectPlatform(index, { os: 'linux', architecture: 'amd64' }, 'x').digest, 'sha256:amd');
  assert.is(selectPlatform(index, parsePlatform('linux/arm64'), 'x').digest, 'sha256:arm64');
  assert.is(selectPlatform(index, parsePlatform('linux/arm/v7'), 'x').digest, 'sha256:arm7');
  assert.throws(() => selectPlatform(index, parsePlatform('linux/s390x'), 'img'), /no image for linux\/s390x \(it has: linux\/amd64, linux\/arm\/v7, linux\/arm64\/v8\)/);
});

test('media types: index, manifest, and unknown ones refused', () => {
  const b = Buffer.from('{}');
  assert.is(kindOf('application/vnd.docker.distribution.manifest.list.v2+json', b), 'index');
  assert.is(kindOf('application/vnd.oci.image.index.v1+json', b), 'index');
  assert.is(kindOf('application/vnd.docker.distribution.manifest.v2+json', b), 'manifest');
  assert.is(kindOf('', Buffer.from('{"manifests":[]}')), 'index');
  assert.throws(() => kindOf('application/vnd.docker.distribution.manifest.v1+prettyjws', b), /unsupported manifest media type/);
});

test('layer media types are checked', () => {
  const m = (mt: string) => Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: `sha256:${'c'.repeat(64)}`, size: 1, mediaType: 'x' }, layers: [{ mediaType: mt, digest: `sha256:${'1'.repeat(64)}`, size: 1 }] }));
  assert.ok(parseManifest(m('application/vnd.oci.image.layer.v1.tar+zstd'), 'x'));
  assert.throws(() => parseManifest(m('application/vnd.example.weird'), 'x'), /unsupported layer media type/);
});

test('descriptors: a digest must be sha256 hex before it names a file, a size a whole number', () => {
  const m = (layer: Record<string, unknown>) => Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: `sha256:${'c'.repeat(64)}`, size: 1, mediaType: 'x' },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${'1'.repeat(64)}`, size: 1, ...layer }] }));
  assert.throws(() => parseManifest(m({ digest: 'sha256:../../../etc' }), 'x'), /digest "sha256:\.\.\/\.\.\/\.\.\/etc", not sha256/);
  assert.throws(() => parseManifest(m({ digest: `md5:${'a'.repeat(32)}` }), 'x'), /not sha256/);
  assert.throws(() => parseManifest(m({ size: -1 }), 'x'), /declares size -1/);
  assert.throws(() => parseManifest(m({ size: 1e300 }), 'x'), /declares size/);
  assert.throws(() => parseManifest(m({ size: '12' }), 'x'), /declares size "12"/);
});

test.run();
