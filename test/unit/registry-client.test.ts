// The registry client against local HTTP servers on listen(0): Docker Hub's bearer-token dance,
// Basic auth, credentials from auth.json, retries on 5xx, and resuming a dropped blob with Range.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { RegistryClient } from '../../src/registry/client.js';
import { parseChallenge, findCredentials } from '../../src/registry/auth.js';

function listen(handler: http.RequestListener): Promise<{ url: string; host: string; close: () => void }> {
  return new Promise((resolve) => {
    const s = http.createServer(handler).listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      resolve({ url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, close: () => { s.closeAllConnections(); s.close(); } });
    });
  });
}

const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {}, layers: [] });

test('challenge parsing', () => {
  const c = parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"');
  assert.equal(c, { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } });
  assert.equal(parseChallenge('Basic realm="x"')?.scheme, 'basic');
});

test('a registry where nothing listens fails at once with a clear error, not after retries', async () => {
  const srv = await listen(() => {});
  const host = srv.host;
  srv.close();
  const client = new RegistryClient(host, { insecure: true });
  const t0 = Date.now();
  try {
    await client.ping();
    assert.unreachable('ping should fail');
  } catch (e) {
    assert.match((e as Error).message, new RegExp(`cannot reach registry ${host}: ECONNREFUSED`));
  }
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
  await client.close();
});

test('anonymous bearer token flow, as Docker Hub does it', async () => {
  const seen: string[] = [];
  const tokens = await listen((req, res) => {
    const u = new URL(req.url!, 'http://x');
    seen.push(`${u.searchParams.get('service')} ${u.searchParams.get('scope')} ${req.headers.authorization ?? 'anon'}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token: 'tok-123' }));
  });
  const reg = await listen((req, res) => {
    if (req.headers.authorization !== 'Bearer tok-123') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${tokens.url}/token",service="registry.example"` });
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    res.end(MANIFEST);
  });
  const c = new RegistryClient(reg.host, { insecure: true });
  const m = await c.getManifest('library/alpine', 'latest');
  assert.is(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.is(m.body.toString(), MANIFEST);
  assert.equal(seen, ['registry.example repository:library/alpine:pull anon']);
  await c.close(); tokens.close(); reg.close();
});

test('bearer flow with credentials from auth.json; a refused login is a clear error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-auth-'));
  const good = Buffer.from('alice:secret').toString('base64');
  const tokens = await listen((req, res) => {
    if (req.headers.authorization !== `Basic ${good}`) { res.writeHead(401); return res.end(); }
    res.end(JSON.stringify({ access_token: 'alice-token' }));
  });
  const reg = await listen((req, res) => {
    if (req.headers.authorization !== 'Bearer alice-token') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${tokens.url}/token",service="reg"` });
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    res.end(MANIFEST);
  });
  const file = path.join(dir, 'auth.json');
  fs.writeFileSync(file, JSON.stringify({ auths: { [reg.host]: { auth: good } } }));
  assert.equal(findCredentials(reg.host, 'private/app', [file]), { username: 'alice', password: 'secret' });
  const ok = new RegistryClient(reg.host, { insecure: true, credentials: findCredentials(reg.host, 'private/app', [file]) });
  assert.is((await ok.getManifest('private/app', 'v1')).body.toString(), MANIFEST);
  const bad = new RegistryClient(reg.host, { insecure: true, credentials: { username: 'alice', password: 'wrong' } });
  try { await bad.getManifest('private/app', 'v1'); assert.unreachable(); } catch (e) {
    assert.match((e as Error).message, /refused user alice \(401\)/);
  }
  await ok.close(); await bad.close(); tokens.close(); reg.close();
});

test('basic auth challenge', async () => {
  const reg = await listen((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('bob:pw').toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="reg"' });
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    res.end(MANIFEST);
  });
  const c = new RegistryClient(reg.host, { insecure: true, credentials: { username: 'bob', password: 'pw' } });
  assert.is((await c.getManifest('x/y', 'latest')).body.toString(), MANIFEST);
  const anon = new RegistryClient(reg.host, { insecure: true, credentials: undefined });
  try { await anon.getManifest('nobody/has-creds-for-this', 'latest'); assert.unreachable(); } catch (e) {
    assert.match((e as Error).message, /requires a login/);
  }
  await c.close(); await anon.close(); reg.close();
});

test('5xx answers are retried, then reported', async () => {
  let calls = 0;
  const reg = await listen((req, res) => {
    if (req.url === '/v2/') return res.end('{}');
    calls++;
    if (calls < 3) { res.writeHead(503); return res.end(); }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    res.end(MANIFEST);
  });
  const c = new RegistryClient(reg.host, { insecure: true, backoffMs: 1 });
  assert.is((await c.getManifest('a', 'b')).body.toString(), MANIFEST);
  assert.is(calls, 3);
  const always = await listen((req, res) => { if (req.url === '/v2/') return res.end('{}'); res.writeHead(500); res.end(); });
  const c2 = new RegistryClient(always.host, { insecure: true, backoffMs: 1, retries: 2 });
  try { await c2.getManifest('a', 'b'); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /answered 500/); }
  await c.close(); await c2.close(); reg.close(); always.close();
});

for (const honoursRange of [true, false]) {
  test(`a blob dropped mid-stream resumes (${honoursRange ? 'with Range' : 'registry ignores Range'})`, async () => {
    const blob = crypto.randomBytes(300_000);
    const digest = `sha256:${crypto.createHash('sha256').update(blob).digest('hex')}`;
    let dropped = false;
    const ranges: string[] = [];
    const reg = await listen((req, res) => {
      if (req.url === '/v2/') return res.end('{}');
      const range = req.headers.range;
      if (range) ranges.push(range);
      if (range && honoursRange) {
        const start = Number(/bytes=(\d+)-/.exec(range)![1]);
        res.writeHead(206, { 'content-length': blob.length - start });
        return res.end(blob.subarray(start));
      }
      res.writeHead(200, { 'content-length': blob.length });
      if (!dropped) { dropped = true; res.write(blob.subarray(0, 100_000), () => setTimeout(() => res.destroy(), 20)); return; }
      res.end(blob);
    });
    const c = new RegistryClient(reg.host, { insecure: true, backoffMs: 1 });
    const chunks: Buffer[] = [];
    for await (const ch of c.blob('a', digest, blob.length)) chunks.push(ch);
    const got = Buffer.concat(chunks);
    assert.is(got.length, blob.length);
    assert.ok(got.equals(blob), 'the bytes are the same, none repeated or lost');
    assert.is(ranges.length, 1);
    assert.match(ranges[0], /^bytes=\d+-$/);
    await c.close(); reg.close();
  });
}

test('the /v2/ ping is retried on 5xx like any request, and fails with the status once retries run out', async () => {
  let pings = 0;
  const reg = await listen((req, res) => {
    if (req.url === '/v2/') { pings++; if (pings < 3) { res.writeHead(500); return res.end(); } return res.end('{}'); }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    res.end(MANIFEST);
  });
  const c = new RegistryClient(reg.host, { insecure: true, backoffMs: 1 });
  assert.is((await c.getManifest('a', 'b')).body.toString(), MANIFEST);
  assert.is(pings, 3);
  const down = await listen((_req, res) => { res.writeHead(503); res.end(); });
  const c2 = new RegistryClient(down.host, { insecure: true, backoffMs: 1, retries: 2 });
  try { await c2.getManifest('a', 'b'); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /answered 503 to \/v2\/ 3 times/); }
  await c.close(); await c2.close(); reg.close(); down.close();
});

test('a blob longer or shorter than its descriptor fails while it streams; a huge declared size allocates nothing', async () => {
  const blob = crypto.randomBytes(200_000);
  let served = 0;
  const reg = await listen((req, res) => {
    if (req.url === '/v2/') return res.end('{}');
    served++;
    res.writeHead(200, { 'content-length': blob.length });
    res.end(blob);
  });
  const c = new RegistryClient(reg.host, { insecure: true, backoffMs: 1, retries: 1 });
  const read = async (size: number) => { let n = 0; for await (const ch of c.blob('a', 'sha256:x', size)) n += ch.length; return n; };
  try { await read(1000); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /is longer than the 1000 bytes its descriptor declares/); }
  served = 0;
  // Short: the end is taken for a dropped transfer and resumed once, then it fails.
  try { await read(300_000); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /is shorter than the 300000 bytes its descriptor declares \(it ended after 200000\)/); }
  assert.is(served, 2);
  const rss = process.memoryUsage().rss;
  try { await read(Number.MAX_SAFE_INTEGER); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /shorter/); }
  assert.ok(process.memoryUsage().rss - rss < 64 << 20, 'no buffer sized by the declaration');
  await c.close(); reg.close();
});

test('close() aborts a blob nobody reads any more, at once, and nothing retries after it', async () => {
  const reg = await listen((req, res) => {
    if (req.url === '/v2/') return res.end('{}');
    res.writeHead(200, { 'content-length': 10_000_000 });
    res.write(Buffer.alloc(100_000)); // and never more
  });
  const c = new RegistryClient(reg.host, { insecure: true, backoffMs: 200 });
  const it = c.blob('a', 'sha256:x', 10_000_000)[Symbol.asyncIterator]();
  await it.next();
  const pending = (async () => { try { for (;;) { const n = await it.next(); if (n.done) return 'done'; } } catch (e) { return (e as Error).message; } })();
  const t0 = Date.now();
  await c.close();
  const outcome = await pending;
  assert.match(outcome, /failed after|destroyed/i);
  assert.ok(Date.now() - t0 < 1000, `close took ${Date.now() - t0} ms`);
  reg.close();
});

test('an unreachable registry names itself and suggests what to check', async () => {
  const c = new RegistryClient('127.0.0.1:1', { retries: 0 });
  try { await c.getManifest('a', 'b'); assert.unreachable(); } catch (e) {
    assert.match((e as Error).message, /cannot reach registry 127\.0\.0\.1:1/);
  }
  await c.close();
});

test.run();
