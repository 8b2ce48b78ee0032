// Images out of the store and back, as the unprivileged user, each result read by another tool:
// push (skopeo reads what the registry got, layer by layer against rootfs.diff_ids), login and
// logout against a registry with basic auth, save and load both ways with Podman (its own store),
// and archives that are junk, truncated or tampered with.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { getWorld, startRegistry, tspod, tspodCommand, TEST_USER } from '../fixtures/world.js';

const HOME = `/home/${TEST_USER}`;
const WORK = `/tmp/tspod-images-out-${process.pid}`;
const PODMAN_ROOT = `${HOME}/.cache/tspod-test-podman`;
let registry = '';
let layered = '';
let auth: Awaited<ReturnType<typeof startRegistry>> | undefined;

// What the layered image holds where owners, links, setuid bits and whiteouts matter.
const CHECK = ['sh', '-c', 'stat -c "%u:%g %a" /data/owned-by-1000 /data/setuid-tool; [ "$(stat -c %i /data/original)" = "$(stat -c %i /data/hardlink)" ] && echo linked; ls /opaque; test -e /data/doomed || echo doomed-gone; test -e /etc/motd || echo motd-gone'];
let expected = '';

function asUser(cmd: string[], input?: string) {
  const r = spawnSync('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=${HOME}`, `USER=${TEST_USER}`, 'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', ...cmd], { encoding: 'utf8', cwd: '/', input });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const podman = (args: string[]) => asUser(['podman', '--root', `${PODMAN_ROOT}/root`, '--runroot', `${PODMAN_ROOT}/run`, '--storage-driver', 'overlay', '--runtime', 'runc', ...args]);
const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
const imageId = (ref: string) => tspod(['image', 'inspect', '--format', '{{.Id}}', ref]).stdout.trim();

test.before(async () => {
  ({ registry } = await getWorld());
  layered = `${registry}/layered:latest`;
  fs.mkdirSync(WORK, { recursive: true, mode: 0o777 });
  fs.chmodSync(WORK, 0o777);
  assert.is(tspod(['pull', '-q', layered]).status, 0);
  expected = tspod(['run', '--rm', layered, ...CHECK]).stdout;
  assert.match(expected, /linked\nnew\ndoomed-gone\nmotd-gone\n$/);
});
test.after(() => {
  auth?.proc.kill();
  podman(['system', 'reset', '-f']);
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.rmSync(PODMAN_ROOT, { recursive: true, force: true });
});

test('push to another registry moves the blobs as pulled, fetched again from their registry; with that one gone it compresses the layers again', async () => {
  const origin = await startRegistry();
  const conf = `${HOME}/.config/containers/registries.conf`;
  const before = fs.readFileSync(conf, 'utf8');
  const others: Array<Awaited<ReturnType<typeof startRegistry>>> = [];
  try {
    fs.appendFileSync(conf, `\n[[registry]]\nlocation = "${origin.host}"\ninsecure = true\n`);
    const src = `${origin.host}/origin/layered:1`;
    const seed = spawnSync('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${layered}`, `docker://${src}`], { encoding: 'utf8' });
    assert.is(seed.status, 0, seed.stderr);
    const digests = (ref: string) => JSON.parse(spawnSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`], { encoding: 'utf8' }).stdout).layers.map((l: { digest: string }) => l.digest);
    const pulled = digests(src);
    // From an empty store, so the only place these layers are known from is the origin.
    assert.is(tspod(['system', 'reset', '-f']).status, 0);
    assert.is(tspod(['pull', '-q', src]).status, 0);
    const b = await startRegistry();
    others.push(b);
    const r = tspod(['push', '--tls-verify=false', src, `${b.host}/copy/layered:1`]);
    assert.is(r.status, 0, r.stderr);
    assert.equal(digests(`${b.host}/copy/layered:1`), pulled, 'the same compressed blobs, not compressed again');
    // The origin goes away: the next push compresses, and what it sends is still the image.
    origin.proc.kill('SIGKILL');
    const c = await startRegistry();
    others.push(c);
    const again = tspod(['push', '--tls-verify=false', src, `${c.host}/copy/layered:1`]);
    assert.is(again.status, 0, again.stderr);
    const sent = digests(`${c.host}/copy/layered:1`);
    assert.is(sent.length, pulled.length);
    assert.not.equal(sent, pulled, 'compressed here, not fetched');
    assert.is(tspod(['rmi', '-f', src]).status, 0);
    assert.is(tspod(['pull', '-q', '--tls-verify=false', `${c.host}/copy/layered:1`]).status, 0);
    assert.is(tspod(['run', '--rm', `${c.host}/copy/layered:1`, ...CHECK]).stdout, expected);
  } finally {
    fs.writeFileSync(conf, before);
    origin.proc.kill('SIGKILL');
    for (const o of others) o.proc.kill();
    assert.is(tspod(['pull', '-q', layered]).status, 0);
  }
});

test('push sends every layer as its diff id says, keeps the image ID, records the digest the registry has, and skips what is there', () => {
  const id = imageId(layered);
  const dest = `${registry}/pushed/layered:1`;
  const r = tspod(['push', layered, dest]);
  assert.is(r.status, 0, r.stderr);
  // skopeo reads it back: the config is the image's own, and each layer decompresses to its diff id.
  const dir = path.join(WORK, 'skopeo-oci');
  const copy = spawnSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${dest}`, `oci:${dir}:x`], { encoding: 'utf8' });
  assert.is(copy.status, 0, copy.stderr);
  const blob = (d: string) => fs.readFileSync(path.join(dir, 'blobs/sha256', d.slice(7)));
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString());
  assert.is(manifest.config.digest, `sha256:${id}`, 'the config, hence the image ID, is unchanged');
  const diffIds: string[] = JSON.parse(blob(manifest.config.digest).toString()).rootfs.diff_ids;
  assert.is(manifest.layers.length, 3);
  manifest.layers.forEach((l: { digest: string; mediaType: string }, i: number) => {
    const data = blob(l.digest);
    assert.is(sha(/gzip$/.test(l.mediaType) ? zlib.gunzipSync(data) : data), diffIds[i], `layer ${i} is its diff id`);
  });
  // RepoDigests: what the registry answers for the tag.
  const remote = spawnSync('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${dest}`], { encoding: 'utf8' }).stdout.trim();
  assert.ok(tspod(['image', 'inspect', '--format', '{{json .RepoDigests}}', layered]).stdout.includes(`${registry}/pushed/layered@${remote}`));
  // Again: nothing to send.
  const again = tspod(['push', layered, dest]);
  assert.is(again.status, 0, again.stderr);
  assert.match(again.stderr, /Copying blob sha256:[a-f0-9]{64} skipped: already exists\n/);
  assert.not.match(again.stderr, /Copying blob sha256:[a-f0-9]{64}\n/, 'no blob is sent again');
  // --digestfile, and zstd on request, which pulls back and runs as the same image.
  const zdest = `${registry}/pushed/layered:zstd`;
  const z = tspod(['push', '--compression-format', 'zstd', '--digestfile', `${WORK}/digest`, layered, zdest]);
  assert.is(z.status, 0, z.stderr);
  const zraw = JSON.parse(spawnSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${zdest}`], { encoding: 'utf8' }).stdout);
  assert.ok(zraw.layers.every((l: { mediaType: string }) => /zstd$|\.tar$/.test(l.mediaType)), JSON.stringify(zraw.layers));
  assert.is(fs.readFileSync(`${WORK}/digest`, 'utf8'), spawnSync('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${zdest}`], { encoding: 'utf8' }).stdout.trim());
  assert.is(tspod(['rmi', layered]).status, 0);
  assert.is(tspod(['pull', '-q', zdest]).status, 0);
  assert.is(imageId(zdest), id);
  assert.is(tspod(['run', '--rm', zdest, ...CHECK]).stdout, expected);
  assert.is(tspod(['tag', zdest, layered]).status, 0);
});

test('push of an unknown image, and to a name without a registry, fail with 125 and one line', () => {
  const r = tspod(['push', 'nope/nothing:1']);
  assert.is(r.status, 125);
  assert.match(r.stderr, /nope\/nothing:1: image not known/);
});

test('login checks the password first, stores 0600 in a 0700 dir, pull and push read it; logout takes it away', async () => {
  auth = await startRegistry({ user: 'ci', password: 's3cret' });
  const host = auth.host;
  const runtimeDir = `/tmp/podman-run-${spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout.trim()}`;
  const file = `${runtimeDir}/containers/auth.json`;
  fs.rmSync(file, { force: true });
  const bad = tspod(['login', '--tls-verify=false', '-u', 'ci', '-p', 'wrong', host]);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /unauthorized/);
  assert.not.ok(fs.existsSync(file), 'a failed login stores nothing');
  const denied = tspod(['push', '--tls-verify=false', layered, `${host}/app:1`]);
  assert.is(denied.status, 125);
  assert.match(denied.stderr, new RegExp(`${host}.*unauthorized`));
  assert.is(denied.stderr.trim().split('\n').filter((l) => l.startsWith('Error')).length, 1);
  const good = tspod(['login', '--tls-verify=false', '-u', 'ci', '--password-stdin', host], { input: 's3cret\n' });
  assert.is(good.status, 0, good.stderr);
  assert.is(good.stdout, 'Login Succeeded!\n');
  assert.is(fs.statSync(file).mode & 0o777, 0o600);
  assert.is(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.is(tspod(['login', '--get-login', host]).stdout, 'ci\n');
  const pushed = tspod(['push', '--tls-verify=false', layered, `${host}/app:1`]);
  assert.is(pushed.status, 0, pushed.stderr);
  const pulled = tspod(['pull', '-q', '--tls-verify=false', `${host}/app:1`]);
  assert.is(pulled.status, 0, pulled.stderr);
  assert.is(tspod(['logout', host]).stdout, `Removed login credentials for ${host}\n`);
  assert.is(tspod(['rmi', `${host}/app:1`]).status, 0);
  const after = tspod(['pull', '--tls-verify=false', `${host}/app:1`]);
  assert.is(after.status, 125);
  assert.match(after.stderr, /unauthorized/);
  assert.is(tspod(['logout', host]).status, 125, 'logging out twice says there was nothing');
});

test('save and load round trip within tspod, by name and by id (the id kept, the name only when saved by name)', () => {
  const id = imageId(layered);
  const byName = `${WORK}/by-name.tar`;
  assert.is(tspod(['save', '-o', byName, layered]).status, 0);
  const byId = `${WORK}/by-id.tar`;
  assert.is(tspod(['save', '-o', byId, id]).status, 0);
  assert.is(tspod(['rmi', '-f', id]).status, 0);
  const l1 = tspod(['load', '-i', byId]);
  assert.is(l1.status, 0, l1.stderr);
  assert.is(l1.stdout, `Loaded image: sha256:${id}\n`);
  assert.is(tspod(['images', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']).stdout.split('\n').find((l) => l.startsWith(id.slice(0, 12))), `${id.slice(0, 12)} <none>:<none>`);
  const [cmd, ...argv] = tspodCommand(['load']);
  const l2 = spawnSync(cmd, argv, { encoding: 'utf8', input: zlib.gzipSync(fs.readFileSync(byName)), cwd: '/' });
  assert.is(l2.status, 0, l2.stderr);
  assert.is(l2.stdout, `Loaded image: ${layered}\n`, 'a gzipped archive on stdin');
  assert.is(imageId(layered), id);
  assert.is(tspod(['run', '--rm', layered, ...CHECK]).stdout, expected);
});

test('archives tspod saves load and run in Podman; archives Podman saves load and run in tspod (docker-archive and oci-archive)', () => {
  const id = imageId(layered);
  for (const format of ['docker-archive', 'oci-archive']) {
    const mine = `${WORK}/mine-${format}.tar`;
    assert.is(tspod(['save', '--format', format, '-o', mine, layered]).status, 0);
    const pl = podman(['load', '-i', mine]);
    assert.is(pl.status, 0, pl.stderr);
    assert.is(podman(['image', 'inspect', '--format', '{{.Id}}', layered]).stdout.trim(), id, `${format}: the same image in Podman`);
    assert.is(podman(['run', '--rm', layered, ...CHECK]).stdout, expected, `${format}: Podman runs it with owners, links, setuid and whiteouts intact`);
    const theirs = `${WORK}/theirs-${format}.tar`;
    const ps = podman(['save', '--format', format, '-o', theirs, layered]);
    assert.is(ps.status, 0, ps.stderr);
    podman(['rmi', '-f', layered]);
    assert.is(tspod(['rmi', '-f', layered]).status, 0);
    const tl = tspod(['load', '-i', theirs]);
    assert.is(tl.status, 0, tl.stderr);
    assert.is(imageId(layered), id, `${format}: Podman's archive is the same image in tspod`);
    assert.is(tspod(['run', '--rm', layered, ...CHECK]).stdout, expected);
  }
});

test('save -o into a directory one cannot write fails at once, in one line; load -i of a URL fetches the archive', async () => {
  const locked = `${WORK}/locked`;
  fs.mkdirSync(locked, { mode: 0o755 });
  const denied = tspod(['save', '-o', `${locked}/x.tar`, layered]);
  assert.is(denied.status, 125);
  assert.is(denied.stderr, `Error: cannot write ${locked}/x.tar: EACCES: permission denied; give -o a path in a directory you can write\n`);
  assert.equal(fs.readdirSync(locked), []);
  const tar = `${WORK}/for-url.tar`;
  assert.is(tspod(['save', '-o', tar, layered]).status, 0);
  const server = spawn('python3', ['-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', WORK], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<string>((resolve) => server.stdout.on('data', (d: Buffer) => { const m = /port (\d+)/.exec(d.toString()); if (m) resolve(m[1]); }));
    const loaded = tspod(['load', '-i', `http://127.0.0.1:${port}/for-url.tar`]);
    assert.is(loaded.status, 0, loaded.stderr);
    assert.is(loaded.stdout, `Loaded image: ${layered}\n`);
    const missing = tspod(['load', '-i', `http://127.0.0.1:${port}/nothing.tar`]);
    assert.equal([missing.status, missing.stderr], [125, `Error: http://127.0.0.1:${port}/nothing.tar answered 404; check the URL\n`]);
  } finally { server.kill(); }
});

test('junk, truncated and tampered archives fail with 125 and a message, and store nothing', () => {
  const images = () => tspod(['images', '-q', '--no-trunc']).stdout;
  const layers = () => fs.readdirSync(`${HOME}/.local/share/tspod/layers`).sort().join(',');
  const before = [images(), layers()];
  const junk = tspod(['load'], { input: 'Danger, Will Robinson!! This is a corrupt tarball!\n' });
  assert.is(junk.status, 125);
  assert.match(junk.stderr, /payload does not match any of the supported image formats/);
  const good = `${WORK}/whole.tar`;
  assert.is(tspod(['save', '-o', good, layered]).status, 0);
  const data = fs.readFileSync(good);
  // Truncated in the middle of a layer.
  fs.writeFileSync(`${WORK}/cut.tar`, data.subarray(0, Math.floor(data.length / 2)));
  // Tampered: a byte of the biggest layer's content flipped (its header and size intact).
  const tampered = Buffer.from(data);
  const at = tampered.indexOf(Buffer.from('linked content'));
  assert.ok(at > 0);
  tampered[at] ^= 0x20;
  fs.writeFileSync(`${WORK}/tampered.tar`, tampered);
  assert.is(tspod(['rmi', '-f', layered]).status, 0);
  const afterRmi = [images(), layers()];
  for (const bad of ['cut.tar', 'tampered.tar']) {
    const r = tspod(['load', '-i', `${WORK}/${bad}`]);
    assert.is(r.status, 125, `${bad}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').filter((l) => l.startsWith('Error')).length, 1, r.stderr);
    assert.match(r.stderr, bad === 'cut.tar' ? /truncated|ends in the middle/ : /digest|sha256/i);
    assert.equal([images(), layers()], afterRmi, `${bad}: nothing stored`);
  }
  assert.is(tspod(['load', '-i', good]).status, 0);
  assert.equal([images(), layers()], before);
});

test.run();
