// Pull from a real registry as the unprivileged user: plain, two tags, multi-platform, zstd,
// several layers, failures, crash safety and concurrency.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { getWorld, startRegistry, tspod, TEST_USER, ROOT, waitForPort } from '../fixtures/world.js';

const STORE = `/home/${TEST_USER}/.local/share/tspod`;
let reg = '';

test.before(async () => { reg = (await getWorld()).registry; });

const layerDirs = () => fs.readdirSync(path.join(STORE, 'layers'));
const tmpEntries = () => fs.readdirSync(path.join(STORE, 'tmp'));

test('pull prints plain progress when not on a terminal, and the image id on stdout', () => {
  const r = tspod(['pull', `${reg}/alpine:3.20`]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^[a-f0-9]{64}\n$/);
  // containers/image's lines, as Podman prints them off a terminal.
  assert.match(r.stderr, /Getting image source signatures\n(Copying blob sha256:[a-f0-9]{64}\n)+Copying config sha256:[a-f0-9]{64}\nWriting manifest to image destination\nStoring signatures\n/);
  assert.not.match(r.stderr, /\x1b\[/, 'no terminal escapes');
});

test('-q prints only the id; pulling again reuses the layer', () => {
  const r = tspod(['pull', '-q', `${reg}/alpine:3.20`]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /^[a-f0-9]{64}\n$/);
});

test('two tags of one image share one id and one unpacked layer', () => {
  const a = tspod(['pull', '-q', `${reg}/alpine:3.20`]).stdout;
  const before = layerDirs().length;
  const b = tspod(['pull', '-q', `${reg}/alpine:latest`]);
  assert.is(b.status, 0, b.stderr);
  assert.is(b.stdout, a);
  assert.is(layerDirs().length, before);
  const images = tspod(['images']);
  assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/m);
  assert.match(images.stdout, new RegExp(`${reg.replace(/\./g, '\\.')}/alpine\\s+3\\.20\\s+${a.slice(0, 12)}`));
  assert.match(images.stdout, new RegExp(`/alpine\\s+latest\\s+${a.slice(0, 12)}`));
  const json = JSON.parse(tspod(['images', '--format', 'json']).stdout) as Array<{ Id: string; Names: string[] }>;
  assert.equal(json.find((i) => i.Id === a.trim())!.Names.sort(), [`${reg}/alpine:3.20`, `${reg}/alpine:latest`]);
});

test('short names resolve through registries.conf', () => {
  const r = tspod(['pull', '-q', 'alpine:3.19']);
  assert.is(r.status, 0, r.stderr);
  assert.match(tspod(['images']).stdout, /alpine\s+3\.19/);
});

test('a multi-platform index: the host platform by default, --platform for another', () => {
  const amd = tspod(['pull', '-q', `${reg}/multi`]);
  assert.is(amd.status, 0, amd.stderr);
  assert.is(JSON.parse(tspod(['image', 'inspect', amd.stdout.trim()]).stdout)[0].Architecture, 'amd64');
  const arm = tspod(['pull', '-q', '--platform', 'linux/arm64', `${reg}/multi`]);
  assert.is(arm.status, 0, arm.stderr);
  assert.is.not(arm.stdout, amd.stdout);
  assert.is(tspod(['image', 'inspect', '--format', '{{.Architecture}}', arm.stdout.trim()]).stdout, 'arm64\n');
  const none = tspod(['pull', '--platform', 'linux/s390x', `${reg}/multi`]);
  assert.is(none.status, 125);
  assert.match(none.stderr, /has no image for linux\/s390x \(it has: linux\/amd64, linux\/arm64\)/);
});

test('a zstd layer is pulled and runs, through the zstd program and through zstd-napi', () => {
  // The zstd image has alpine:3.20's layer: with no image stored, the layer must really be decoded.
  const removeAll = () => {
    const ids = tspod(['images', '-q']).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) assert.is(tspod(['rmi', '-f', ...ids]).status, 0);
  };
  for (const env of [{}, { TSPOD_ZSTD: 'napi' }] as Array<Record<string, string>>) {
    removeAll();
    const r = tspod(['run', '--rm', '--network', 'none', `${reg}/zstd`, 'cat', '/etc/alpine-release'], { env });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '3.20.3\n');
  }
  removeAll();
  assert.is(tspod(['pull', '-q', `${reg}/alpine:3.20`]).status, 0);
});

test('pull by digest verifies the manifest digest', () => {
  const digest = JSON.parse(tspod(['image', 'inspect', `${reg}/alpine:3.20`]).stdout)[0].Digest as string;
  const ok = tspod(['pull', '-q', `${reg}/alpine@${digest}`]);
  assert.is(ok.status, 0, ok.stderr);
  const wrong = tspod(['pull', `${reg}/alpine@sha256:${'0'.repeat(64)}`]);
  assert.is(wrong.status, 125);
  assert.match(wrong.stderr, /^Error: .*manifest unknown/m);
});

test('tag, untag, and rmi of a digest reference only drop names; the image stays', () => {
  const img = `${reg}/alpine:3.20`;
  const id = tspod(['pull', '-q', img]).stdout.trim();
  assert.is(tspod(['tag', img, 'mine', `${reg}/other:x`]).status, 0);
  const rows = () => tspod(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).stdout;
  assert.match(rows(), new RegExp(`^localhost/mine:latest ${id.slice(0, 12)}$`, 'm'), 'a short name is localhost\'s');
  assert.match(rows(), new RegExp(`^${reg}/other:x ${id.slice(0, 12)}$`, 'm'));
  const digest = tspod(['inspect', '--format', '{{.Digest}}', img]).stdout.trim();
  assert.is(tspod(['pull', '-q', `${reg}/alpine@${digest}`]).stdout.trim(), id);
  const before = rows();
  const untagged = tspod(['rmi', `${reg}/alpine@${digest}`]);
  assert.equal([untagged.status, untagged.stdout], [0, `Untagged: ${reg}/alpine@${digest}\n`]);
  assert.is(rows(), before, 'the image and its tags stay');
  assert.is(tspod(['untag', img, 'mine', `${reg}/other:x`]).status, 0);
  assert.not.match(rows(), /mine|other/);
  assert.match(tspod(['untag', img, 'never-tagged']).stderr, /never-tagged: tag not known/);
});

test('unknown images, bad references and unreachable registries fail with one clear line and 125', () => {
  const unknown = tspod(['pull', `${reg}/does-not-exist:1`]);
  assert.is(unknown.status, 125);
  assert.match(unknown.stderr, /^Error: .*does-not-exist:1: manifest unknown; [^\n]+$/m);
  assert.match(unknown.stderr, /^Trying to pull [^\n]+does-not-exist:1\.\.\.\n/, 'Podman\'s first line');
  const bad = tspod(['pull', 'Alpine:UPPER']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /^Error: invalid image reference "Alpine:UPPER": repository names must be lowercase/);
  const down = tspod(['pull', '--tls-verify=false', '127.0.0.1:1/alpine']);
  assert.is(down.status, 125);
  assert.match(down.stderr, /^Error: cannot reach registry 127\.0\.0\.1:1/m);
  const tls = tspod(['pull', `localhost:1/alpine`]);
  assert.match(tls.stderr, /--tls-verify=false/);
  assert.not.match(unknown.stderr + bad.stderr + down.stderr, /\n\s+at /, 'no stack traces');
});

test('HTTPS: a registry whose CA is in NODE_EXTRA_CA_CERTS is trusted, as Node trusts it; without it the pull fails; no command reads the file before a TLS connection', async () => {
  const dir = fs.mkdtempSync('/tmp/tspod-tls-');
  fs.chmodSync(dir, 0o755);
  const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.is(made.status, 0, made.stderr);
  fs.chmodSync(cert, 0o644);
  const tls = await startRegistry(undefined, { cert, key });
  try {
    const seed = spawnSync('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg}/alpine:3.20`, `docker://${tls.host}/alpine:3.20`], { encoding: 'utf8' });
    assert.is(seed.status, 0, seed.stderr);
    const untrusted = tspod(['pull', '-q', `${tls.host}/alpine:3.20`]);
    assert.is(untrusted.status, 125);
    assert.match(untrusted.stderr, /^Error: .*TLS handshake failed \(.*CERT.*\).*--tls-verify=false/m);
    const trusted = tspod(['pull', '-q', `${tls.host}/alpine:3.20`], { env: { NODE_EXTRA_CA_CERTS: cert } });
    assert.is(trusted.status, 0, trusted.stderr);
    assert.is(trusted.stdout.trim(), tspod(['inspect', '--format', '{{.Id}}', `${reg}/alpine:3.20`]).stdout.trim());
    // Node would warn about a missing file at every start; tspod only where it would trust it.
    const missing = '/nonexistent/ca.pem';
    assert.is(tspod(['images', '-q'], { env: { NODE_EXTRA_CA_CERTS: missing } }).stderr, '');
    const warned = tspod(['pull', '-q', `${tls.host}/alpine:3.20`], { env: { NODE_EXTRA_CA_CERTS: missing } });
    assert.is(warned.status, 125);
    assert.match(warned.stderr, /^Warning: ignoring extra certs from \/nonexistent\/ca\.pem, load failed: .*ENOENT/m);
    assert.is(tspod(['rmi', `${tls.host}/alpine:3.20`]).status, 0);
  } finally {
    tls.proc.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('certs.d: a registry\'s CA and client certificate from ~/.config/containers/certs.d/HOST:PORT, as Podman reads them, or from --cert-dir', async () => {
  const dir = fs.mkdtempSync('/tmp/tspod-mtls-');
  fs.chmodSync(dir, 0o755);
  const f = (n: string) => path.join(dir, n);
  const openssl = (...args: string[]) => { const r = spawnSync('openssl', args, { encoding: 'utf8' }); assert.is(r.status, 0, r.stderr); };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('clientca.key'), '-out', f('clientca.pem'), '-days', '2', '-subj', '/CN=tspod test client CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=tspodtest');
  openssl('x509', '-req', '-in', f('client.csr'), '-CA', f('clientca.pem'), '-CAkey', f('clientca.key'), '-CAcreateserial', '-out', f('client.pem'), '-days', '2');
  const tls = await startRegistry(undefined, { cert: f('server.pem'), key: f('server.key') });
  // The same registry's data, served again asking every client for a certificate of that CA.
  const config = fs.readFileSync(path.join(tls.dir, 'config.yml'), 'utf8');
  const port = Number(tls.host.split(':')[1]) + 1;
  const mtlsConfig = path.join(tls.dir, 'mtls.yml');
  fs.writeFileSync(mtlsConfig, config.replace(/addr: 127\.0\.0\.1:\d+/, `addr: 127.0.0.1:${port}`).replace(/(    key: .*\n)/, `$1    clientcas:\n      - ${f('clientca.pem')}\n`));
  const mtls = spawn('docker-registry', ['serve', mtlsConfig], { stdio: 'ignore' });
  const certsD = `/home/${TEST_USER}/.config/containers/certs.d`;
  try {
    await waitForPort(port);
    const seed = spawnSync('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg}/alpine:3.20`, `docker://${tls.host}/alpine:3.20`], { encoding: 'utf8' });
    assert.is(seed.status, 0, seed.stderr);
    const mtlsHost = `127.0.0.1:${port}`;
    const place = (host: string, files: Record<string, string>) => {
      fs.mkdirSync(path.join(certsD, host), { recursive: true });
      for (const [to, from] of Object.entries(files)) fs.copyFileSync(f(from), path.join(certsD, host, to));
      spawnSync('chown', ['-R', `${TEST_USER}:${TEST_USER}`, `/home/${TEST_USER}/.config/containers`]);
    };
    place(tls.host, { 'ca.crt': 'server.pem' });
    const trusted = tspod(['pull', '-q', `${tls.host}/alpine:3.20`]);
    assert.is(trusted.status, 0, trusted.stderr);
    place(mtlsHost, { 'ca.crt': 'server.pem' });
    const noCert = tspod(['pull', '-q', `${mtlsHost}/alpine:3.20`]);
    assert.is(noCert.status, 125, 'the registry wants a client certificate');
    assert.match(noCert.stderr, new RegExp(`^Error: cannot reach registry ${mtlsHost.replace(/\./g, '\\.')}: `, 'm'));
    place(mtlsHost, { 'client.cert': 'client.pem', 'client.key': 'client.key' });
    const withCert = tspod(['pull', '-q', `${mtlsHost}/alpine:3.20`]);
    assert.is(withCert.status, 0, withCert.stderr);
    fs.rmSync(path.join(certsD, mtlsHost, 'client.key'));
    const noKey = tspod(['pull', '-q', `${mtlsHost}/alpine:3.20`]);
    assert.is(noKey.status, 125);
    assert.match(noKey.stderr, /^Error: .*client\.cert has no key beside it \(client\.key\)/m);
    // --cert-dir names the directory instead.
    const own = path.join(dir, 'mine');
    fs.mkdirSync(own, { mode: 0o755 });
    for (const [to, from] of Object.entries({ 'ca.crt': 'server.pem', 'client.cert': 'client.pem', 'client.key': 'client.key' })) fs.copyFileSync(f(from), path.join(own, to));
    spawnSync('chown', ['-R', `${TEST_USER}:${TEST_USER}`, own]);
    const given = tspod(['pull', '-q', '--cert-dir', own, `${mtlsHost}/alpine:3.20`]);
    assert.is(given.status, 0, given.stderr);
    const typo = tspod(['pull', '-q', '--cert-dir', '/nonexistent/certs', `${mtlsHost}/alpine:3.20`]);
    assert.equal([typo.status, typo.stderr.split('\n').filter((l) => l.startsWith('Error'))], [125, ["Error: --cert-dir /nonexistent/certs: no such directory; give a directory holding the registry's *.crt (and *.cert with *.key)"]]);
    assert.is(tspod(['rmi', `${tls.host}/alpine:3.20`, `${mtlsHost}/alpine:3.20`]).status, 0);
  } finally {
    mtls.kill();
    tls.proc.kill();
    fs.rmSync(certsD, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt blob fails the pull with a clear message and leaves nothing behind', () => {
  const layersBefore = layerDirs().sort();
  const imagesBefore = tspod(['images', '-q']).stdout;
  const r = tspod(['pull', `${reg}/corrupt`]);
  assert.is(r.status, 125);
  assert.match(r.stderr, /^Error: layer sha256:[a-f0-9]{64} (is corrupt|.*digest mismatch)/m);
  assert.match(r.stderr, /nothing was stored/);
  assert.equal(layerDirs().sort(), layersBefore);
  assert.equal(tmpEntries(), []);
  assert.is(tspod(['images', '-q']).stdout, imagesBefore);
  // Bytes changed where gzip does not look (its mtime field): only the digest check catches it.
  const plain = tspod(['pull', `${reg}/corrupt-digest`]);
  assert.is(plain.status, 125);
  assert.match(plain.stderr, /^Error: layer sha256:([a-f0-9]{64}): digest mismatch, expected sha256:\1 but the content is sha256:[a-f0-9]{64}; the registry served corrupt data/m, plain.stderr);
  assert.equal(layerDirs().sort(), layersBefore);
  assert.equal(tmpEntries(), []);
});

test('a pull killed with SIGKILL at any moment leaves a usable store, and the next pull completes', async () => {
  for (const delay of [150, 400, 800]) {
    tspod(['rmi', '-f', `${reg}/big`]);
    const child = spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=/home/${TEST_USER}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', path.join(ROOT, 'bin/tspod'), 'pull', '-q', `${reg}/big`], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    await new Promise((r) => setTimeout(r, delay));
    // Kill the tspod node process itself (runuser's child), as an OOM killer or `kill -9` would.
    spawnSync('pkill', ['-KILL', '-u', TEST_USER, '-f', 'dist/bundle/tspod.cjs pull']);
    await exited;
    const images = tspod(['images']);
    assert.is(images.status, 0, images.stderr);
    const again = tspod(['pull', '-q', `${reg}/big`]);
    assert.is(again.status, 0, again.stderr);
    const run = tspod(['run', '--rm', '--network', 'none', `${reg}/big`, 'stat', '-c', '%s', '/big/random.bin']);
    assert.is(run.stdout, `${48 << 20}\n`, run.stderr);
    assert.equal(tmpEntries(), [], 'staging of the killed pull was swept');
  }
});

test('two pulls of the same image at the same time both succeed', async () => {
  tspod(['rmi', '-f', `${reg}/big`]);
  const pull = () => new Promise<number>((resolve) => {
    spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=/home/${TEST_USER}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', path.join(ROOT, 'bin/tspod'), 'pull', '-q', `${reg}/big`], { stdio: 'ignore' })
      .on('exit', (code) => resolve(code ?? -1));
  });
  const codes = await Promise.all([pull(), pull(), pull()]);
  assert.equal(codes, [0, 0, 0]);
  assert.is(tspod(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter((l) => l.endsWith('/big:latest')).length, 1);
  assert.equal(tmpEntries(), []);
});

test.run();
