// The API's pieces that need no service: Docker's stream framing, the error-to-status mapping, the
// endpoint URIs and Docker's create body as create options.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import { frame, parseFrames, outputStreams, STDOUT, STDERR } from '../../src/api/frames.js';
import { statusOf, ApiError, Router, filterList, flag } from '../../src/api/http.js';
import { parseEndpoint } from '../../src/api/service.js';
import { createOptionsOf } from '../../src/api/containers.js';
import { TspodError, ImageNotFoundError, ContainerNotFoundError, UsageError } from '../../src/errors.js';

test('a frame is stream, three zero bytes, big-endian length, payload; frames read back whole or wait', () => {
  const f = frame(STDERR, Buffer.from('oops\n'));
  assert.equal([...f.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 5]);
  assert.is(f.subarray(8).toString(), 'oops\n');
  const two = Buffer.concat([frame(STDOUT, Buffer.from('a')), f]);
  const { frames, rest } = parseFrames(two.subarray(0, two.length - 2));
  assert.equal(frames.map(([s, p]) => [s, p.toString()]), [[1, 'a']]);
  assert.is(rest.length, f.length - 2);
  assert.equal(parseFrames(two).frames.map(([s]) => s), [1, 2]);
});

test('output streams frame each chunk without a terminal, and pass bytes as they are with one', async () => {
  const framed = new PassThrough();
  const o = outputStreams(framed, false);
  o.stdout.write(Buffer.from('out'));
  o.stderr.write(Buffer.from('err'));
  await new Promise((r) => setImmediate(r));
  assert.equal(parseFrames(framed.read() as Buffer).frames.map(([s, p]) => `${s}:${p}`), ['1:out', '2:err']);
  const raw = new PassThrough();
  outputStreams(raw, true).stderr.write(Buffer.from('tty bytes'));
  await new Promise((r) => setImmediate(r));
  assert.is((raw.read() as Buffer).toString(), 'tty bytes');
});

test('engine errors get Docker\'s statuses: 404 not there, 409 conflicts, 400 bad input, 500 else', () => {
  assert.is(statusOf(new ImageNotFoundError('x')), 404);
  assert.is(statusOf(new ContainerNotFoundError('x')), 404);
  assert.is(statusOf(new TspodError('E_NAME_IN_USE', 'the container name "a" is already in use')), 409);
  assert.is(statusOf(new TspodError('E_CONTAINER_RUNNING', 'container a is already running')), 409);
  assert.is(statusOf(new UsageError('bad flag')), 400);
  assert.is(statusOf(new ApiError(418, 'teapot')), 418);
  assert.is(statusOf(new Error('boom')), 500);
});

test('routes: parameters, greedy image names, HEAD served by GET, another method is 405', () => {
  const r = new Router();
  const h = () => undefined;
  r.add('GET', '/images/json', h).add('GET', '/images/{name*}/json', h).add('POST', '/containers/{id}/start', h);
  const found = r.find('GET', '/images/127.0.0.1:5000/lib/alpine:3/json');
  assert.ok(found && found !== 'method');
  assert.equal((found as { params: Record<string, string> }).params, { name: '127.0.0.1:5000/lib/alpine:3' });
  assert.ok(r.find('HEAD', '/images/json'));
  assert.is(r.find('GET', '/containers/abc/start'), 'method');
  assert.is(r.find('GET', '/nowhere'), undefined);
});

test('query values: Docker\'s booleans and both shapes of filters', () => {
  assert.ok(flag(new URLSearchParams('all=1'), 'all'));
  assert.ok(flag(new URLSearchParams('all=True'), 'all'));
  assert.not.ok(flag(new URLSearchParams('all=0'), 'all'));
  assert.equal(filterList(new URLSearchParams({ filters: '{"label":["a=b","c"],"status":{"exited":true}}' })), [['label', 'a=b'], ['label', 'c'], ['status', 'exited']]);
  assert.throws(() => filterList(new URLSearchParams({ filters: '{bad' })), /invalid filters/);
});

test('endpoint URIs, and Podman\'s words for a scheme it does not serve', () => {
  assert.equal(parseEndpoint('unix:///tmp/x.sock'), { kind: 'unix', path: '/tmp/x.sock' });
  assert.equal(parseEndpoint('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
  assert.equal(parseEndpoint('tcp:localhost:8080'), { kind: 'tcp', host: 'localhost', port: 8080 });
  assert.throws(() => parseEndpoint('localhost:9292'), /scheme "localhost" is not supported. Try tcp:\/\/localhost:9292 or unix:\/localhost:9292/);
  assert.throws(() => parseEndpoint('myunix.sock'), /scheme "" is not supported/);
  assert.throws(() => parseEndpoint('tcp://127.0.0.1'), /has no port/);
});

test('Docker\'s create body: ports, binds and mounts, networks with aliases, restart, health, the 10 s stop timeout', () => {
  const o = createOptionsOf({
    Image: 'alpine', Cmd: ['sh'], Env: ['A=1'], Tty: true, OpenStdin: true, StdinOnce: true, Labels: { k: 'v' }, Volumes: { '/anon': {} },
    Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Retries: 3 },
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostPort: '' }] }, Binds: ['/src:/dst:ro'], Mounts: [{ Type: 'volume', Source: 'v', Target: '/v' }, { Type: 'tmpfs', Target: '/t' }],
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 }, AutoRemove: true, Memory: 1048576, NanoCpus: 5e8 },
    NetworkingConfig: { EndpointsConfig: { appnet: { Aliases: ['web'] } } },
  }, 'n');
  assert.equal(o.publish, ['8080:80/tcp', '53/udp'], 'no host port: a free one, as -p 53/udp');
  assert.equal(o.volumes, ['/src:/dst:ro', 'v:/v', '/anon']);
  assert.equal(o.tmpfs, ['/t']);
  assert.is(o.network, 'appnet');
  assert.equal(o.networkAliases, ['web']);
  assert.is(o.restart, 'on-failure:2');
  assert.is(o.stopTimeout, 10);
  assert.ok(o.rm && o.tty && o.interactive && o.stdinOnce);
  assert.equal(o.health, { cmd: 'true', interval: '2000ms', timeout: undefined, startPeriod: undefined, retries: '3' });
  assert.is(o.confinement?.resources?.memory, '1048576');
  assert.is(o.confinement?.resources?.cpus, '0.5');
  assert.is(createOptionsOf({ Image: 'a', HostConfig: { NetworkMode: 'host' } }, undefined).network, 'host');
  assert.is(createOptionsOf({ Image: 'a', HostConfig: { NetworkMode: 'default' } }, undefined).network, undefined);
  assert.throws(() => createOptionsOf({}, undefined), /Image is required/);
});

test.run();
