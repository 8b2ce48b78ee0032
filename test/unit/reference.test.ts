import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseReference, qualify, formatReference, apiHost } from '../../src/registry/reference.js';

const q = (s: string) => { const r = parseReference(s); return formatReference(qualify(r, r.domain || 'docker.io')); };

test('short names get docker.io/library and :latest', () => {
  assert.is(q('alpine'), 'docker.io/library/alpine:latest');
  assert.is(q('alpine:3.20'), 'docker.io/library/alpine:3.20');
  assert.is(q('user/app'), 'docker.io/user/app:latest');
});

test('hosts with ports, localhost and nested paths', () => {
  assert.is(q('localhost:5000/ns/name:tag'), 'localhost:5000/ns/name:tag');
  assert.is(q('localhost/app'), 'localhost/app:latest');
  assert.is(q('quay.io/a/b/c'), 'quay.io/a/b/c:latest');
  assert.equal(parseReference('127.0.0.1:5000/alpine:3.20'), { domain: '127.0.0.1:5000', path: 'alpine', tag: '3.20', digest: undefined });
});

test('digests, with and without a tag', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  assert.is(q(`alpine@${d}`), `docker.io/library/alpine@${d}`);
  const r = parseReference(`alpine:3.20@${d}`);
  assert.is(r.tag, '3.20');
  assert.is(r.digest, d);
});

test('invalid references say what is wrong', () => {
  assert.throws(() => parseReference('Alpine'), /lowercase/);
  assert.throws(() => parseReference('alpine@sha256:abc'), /not a valid digest/);
  assert.throws(() => parseReference('alpine:bad/tag'), /invalid image reference/);
  assert.throws(() => parseReference(''), /empty/);
  assert.throws(() => parseReference('a//b'), /not a valid name component/);
  assert.throws(() => parseReference('alpine:-x'), /not a valid tag/);
});

test('Docker Hub API host', () => {
  assert.is(apiHost('docker.io'), 'registry-1.docker.io');
  assert.is(apiHost('quay.io'), 'quay.io');
});

test.run();
