// Faults, as a user meets them: a registry that fails, cuts connections or serves flipped bytes, a
// full disk, processes killed with SIGKILL at any moment, a damaged store, bad flags, and layers
// that bend the image spec. Each ends with exit 125 and one clear line, or with what Podman would
// do, and with nothing lost, nothing hanging and nothing left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { getWorld, tspod, TEST_USER, ROOT, type RunResult } from '../fixtures/world.js';
import { startFlakyProxy, type FlakyProxy } from '../fixtures/flaky-proxy.js';

const HOME = `/home/${TEST_USER}`;
const UID = Number(spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout.trim());
const RUNTIME = `/tmp/tspod-run-${UID}`;
const DEFAULT_STORE = `${HOME}/.local/share/tspod`;
/** The pull faults use a store of their own, so no layer of the other tests makes a pull skip its download. */
const STORE = `${HOME}/faults-store`;
const inStore = { env: { TSPOD_STORE: STORE }, timeout: 60_000 };
let reg = '';
let proxy: FlakyProxy;

test.before(async () => {
  reg = (await getWorld()).registry;
  proxy = await startFlakyProxy(reg);
});
test.after(() => proxy.stop());

const ls = (d: string) => { try { return fs.readdirSync(d).sort(); } catch { return []; } };
const pausePid = () => fs.readFileSync(`${RUNTIME}/pause.pid`, 'utf8').split(' ')[0];

/** The user's live processes (not zombies), but the pause process. */
const liveProcesses = () => spawnSync('ps', ['-u', TEST_USER, '-o', 'pid=,stat=,args='], { encoding: 'utf8' }).stdout.split('\n')
  .filter((l) => l.trim() && !/\ssleep infinity$/.test(l) && !/^\s*\d+\s+Z/.test(l));

/** Whatever the user has that no container explains: new live processes, mounts, names, staging, runtime state, netns files. */
function leftovers(before: string[], store = DEFAULT_STORE) {
  const procs = liveProcesses().filter((l) => !before.includes(l));
  const mounts = fs.readFileSync(`/proc/${pausePid()}/mountinfo`, 'utf8').split('\n').filter((l) => l.includes(`${store}/`) || l.includes(`${RUNTIME}/netns/`));
  return { procs, mounts, names: ls(`${store}/names`), containers: ls(`${store}/containers`), tmp: ls(`${store}/tmp`), runc: ls(`${RUNTIME}/runc`), netns: ls(`${RUNTIME}/netns`) };
}
const NOTHING = { procs: [], mounts: [], names: [], containers: [], tmp: [], runc: [], netns: [] };

function assertFailed(r: RunResult, re: RegExp): void {
  assert.is(r.status, 125, `exit status (stderr: ${r.stderr})`);
  assert.match(r.stderr, re);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
}

/** The digest of the first layer of an image in the test registry. */
async function layerDigest(repo: string, tag: string): Promise<string> {
  const r = await fetch(`http://${reg}/v2/${repo}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  return ((await r.json()) as { layers: Array<{ digest: string }> }).layers[0].digest;
}

function emptyStore(): void {
  spawnSync('rm', ['-rf', STORE]);
}

test('the /v2/ ping is retried on 500 like any request; a registry that keeps failing fails with its status', async () => {
  emptyStore();
  await proxy.set({ kind: 'status', status: 500, path: '^/v2/$', times: 2 });
  const ok = tspod(['pull', '-q', '--tls-verify=false', `${proxy.host}/alpine:3.20`], inStore);
  assert.is(ok.status, 0, ok.stderr);
  assert.is(await proxy.hits(), 2);
  await proxy.set({ kind: 'status', status: 503, path: '.' });
  const down = tspod(['pull', '--tls-verify=false', `${proxy.host}/alpine:3.19`], inStore);
  assertFailed(down, /^Error: registry 127\.0\.0\.1:\d+ answered 503 to \/v2\/ 5 times(; .*)?$/m);
});

test('a blob cut mid-stream every time fails the pull with the blob named, after resuming with Range', async () => {
  emptyStore();
  const layer = await layerDigest('alpine', '3.20');
  await proxy.set({ kind: 'cut', path: layer, after: 500_000 });
  const r = tspod(['pull', '--tls-verify=false', `${proxy.host}/alpine:3.20`], inStore);
  assertFailed(r, new RegExp(`^Error: download of ${layer} from 127\\.0\\.0\\.1:\\d+ failed after \\d+ bytes`, 'm'));
  assert.ok(await proxy.hits() > 1, 'resumed before giving up');
  assert.equal(ls(`${STORE}/tmp`), []);
  assert.equal(ls(`${STORE}/layers`), []);
  await proxy.set({ kind: 'cut', path: layer, after: 500_000, times: 1 });
  const resumed = tspod(['pull', '-q', '--tls-verify=false', `${proxy.host}/alpine:3.20`], inStore);
  assert.is(resumed.status, 0, resumed.stderr);
});

test('flipped bytes anywhere in a layer: exit 125 at once, the blob named, nothing stored', async () => {
  const layer = await layerDigest('alpine', '3.20');
  const size = Number((await fetch(`http://${reg}/v2/alpine/blobs/${layer}`, { method: 'HEAD' })).headers.get('content-length'));
  // gzip's magic, its header, the deflate stream, the CRC and the length at its end
  for (const offset of [1, 9, 40_000, Math.floor(size / 2), size - 6, size - 2]) {
    emptyStore();
    await proxy.set({ kind: 'flip', path: layer, offsets: [offset] });
    const t0 = Date.now();
    const r = tspod(['pull', '--tls-verify=false', `${proxy.host}/alpine:3.20`], inStore);
    assertFailed(r, new RegExp(`^Error: layer ${layer}(:| is corrupt| \\(uncompressed)`, 'm'));
    assert.ok(Date.now() - t0 < 20_000, `offset ${offset}: took ${Date.now() - t0} ms`);
    assert.equal(ls(`${STORE}/tmp`), [], `offset ${offset}: staging left`);
    assert.equal(ls(`${STORE}/layers`), [], `offset ${offset}: a layer was stored`);
    assert.is(tspod(['images', '-q'], inStore).stdout, '');
  }
});

test('a blob longer or shorter than its descriptor declares fails the pull', async () => {
  const layer = await layerDigest('alpine', '3.20');
  for (const delta of [1000, -1000]) {
    emptyStore();
    await proxy.set({ kind: 'length', path: layer, delta });
    const r = tspod(['pull', '--tls-verify=false', `${proxy.host}/alpine:3.20`], inStore);
    assertFailed(r, new RegExp(`^Error: blob ${layer} is ${delta > 0 ? 'longer' : 'shorter'} than the \\d+ bytes its descriptor declares`, 'm'));
    assert.equal(ls(`${STORE}/layers`), []);
    assert.equal(ls(`${STORE}/tmp`), []);
  }
  await proxy.set({ kind: 'none' });
});

test('a pull into a store that fills up fails with "no space left on device" naming the store, and leaves nothing', () => {
  const full = `${HOME}/full-store`;
  fs.mkdirSync(full, { recursive: true });
  spawnSync('chown', [`${TEST_USER}:`, full]);
  tspod(['images']); // the pause process must exist: the small file system is mounted in its namespace
  const mount = spawnSync('nsenter', ['-t', pausePid(), '-m', 'mount', '-t', 'tmpfs', '-o', `size=20m,uid=${UID},gid=${UID},mode=0700`, 'tmpfs', full], { encoding: 'utf8' });
  assert.is(mount.status, 0, mount.stderr);
  try {
    const store = `${full}/store`;
    const r = tspod(['pull', `${reg}/big`], { env: { TSPOD_STORE: store }, timeout: 60_000 });
    assertFailed(r, new RegExp(`^Error: layer sha256:[a-f0-9]{64} could not be stored: no space left on device \\(ENOSPC\\) in ${store}(; .*)?$`, 'm'));
    const inside = spawnSync('nsenter', ['-t', pausePid(), '-m', 'sh', '-c', `find ${store}/tmp ${store}/layers -mindepth 1 | wc -l; df --output=used -B1 ${full} | tail -1`], { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.is(inside[0], '0', 'tmp and layers are empty');
    assert.ok(Number(inside[1]) < 1 << 20, `the space is given back (${inside[1]} bytes used)`);
    assert.is(tspod(['images', '-q'], { env: { TSPOD_STORE: store } }).stdout, '');
  } finally {
    spawnSync('nsenter', ['-t', pausePid(), '-m', 'umount', full]);
  }
});

test('a killed pull that nobody reaps (a zombie) is dead: the next pull sweeps its staging', async () => {
  emptyStore();
  // The pull runs under a shell that then becomes `sleep`, which never waits for its children.
  const parent = spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=${HOME}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', `TSPOD_STORE=${STORE}`,
    'sh', '-c', `${ROOT}/bin/tspod pull -q ${reg}/big >/dev/null 2>&1 & exec sleep 60`], { stdio: 'ignore' });
  try {
    let staged: string[] = [];
    for (let i = 0; i < 100 && !staged.length; i++) { await new Promise((r) => setTimeout(r, 50)); staged = ls(`${STORE}/tmp`); }
    assert.ok(staged.length, 'the pull staged something');
    spawnSync('pkill', ['-KILL', '-u', TEST_USER, '-f', 'dist/bundle/tspod.cjs pull -q']);
    await new Promise((r) => setTimeout(r, 300));
    const pid = staged[0].split('-')[0];
    assert.match(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'), /\) Z /, 'the killed pull is a zombie');
    const next = tspod(['pull', '-q', `${reg}/alpine:3.20`], inStore);
    assert.is(next.status, 0, next.stderr);
    assert.equal(ls(`${STORE}/tmp`), [], 'the zombie\'s staging was swept');
  } finally {
    parent.kill('SIGKILL');
    spawnSync('pkill', ['-KILL', '-u', TEST_USER, '-xf', 'sleep 60']);
  }
});

/** Start tspod with args, SIGKILL its Node process after `ms`, wait for it. */
async function killAfter(args: string[], ms: number): Promise<void> {
  const child = spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=${HOME}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', path.join(ROOT, 'bin/tspod'), ...args], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  await new Promise((r) => setTimeout(r, ms));
  spawnSync('pkill', ['-KILL', '-u', TEST_USER, '-f', `dist/bundle/tspod.cjs ${args[0]}`]);
  await exited;
}

test('run -d, run, rm -f and rmi killed at any moment: ps -a and rm -f -a find and undo everything, and the name is free again', async () => {
  assert.is(tspod(['pull', '-q', `${reg}/alpine:3.20`]).status, 0);
  assert.is(tspod(['rm', '-f', '-t', '0', '-a']).status, 0);
  await new Promise((r) => setTimeout(r, 300));
  const before = liveProcesses();
  const cases: Array<[string, number]> = [
    ...[30, 60, 90, 120, 150, 190, 240].map((ms) => ['run', ms] as [string, number]),
    ...[300, 700].map((ms) => ['fg', ms] as [string, number]),
    ...[20, 50, 90].map((ms) => ['rm', ms] as [string, number]),
    ...[20, 50, 90].map((ms) => ['rmi', ms] as [string, number]),
  ];
  for (const [what, ms] of cases) {
    const name = `killed-${what}-${ms}`;
    if (what === 'rm' || what === 'rmi') assert.is(tspod(['run', '-d', '--name', name, `${reg}/alpine:3.20`, 'sleep', '600']).status, 0);
    if (what === 'rmi') assert.is(tspod(['pull', '-q', `${reg}/alpine:3.19`]).status, 0);
    const args = what === 'run' ? ['run', '-d', '--name', name, `${reg}/alpine:3.20`, 'sleep', '600']
      : what === 'fg' ? ['run', '--name', name, `${reg}/alpine:3.20`, 'sleep', '600'] // a foreground run: its tspod watches the container
      : what === 'rm' ? ['rm', '-f', '-t', '0', name] : ['rmi', '-f', `${reg}/alpine:3.19`];
    await killAfter(args, ms);
    const ps = tspod(['ps', '-a']);
    assert.is(ps.status, 0, `${what} ${ms} ms: ps -a: ${ps.stderr}`);
    const rm = tspod(['rm', '-f', '-t', '0', '-a']);
    assert.is(rm.status, 0, `${what} ${ms} ms: rm -f -a: ${rm.stderr}`);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(leftovers(before), NOTHING, `${what} killed after ${ms} ms`);
    const again = tspod(['run', '--rm', '--name', name, '--network', 'none', `${reg}/alpine:3.20`, 'true']);
    assert.is(again.status, 0, `${what} ${ms} ms: the name is free again: ${again.stderr}`);
  }
  assert.is(tspod(['images', '--format', '{{.Repository}}:{{.Tag}}']).status, 0);
});

test('a truncated images.json: the file and the fix are named, the records rebuilt from the store', () => {
  emptyStore();
  const id = tspod(['pull', '-q', `${reg}/alpine:3.20`], inStore).stdout.trim();
  const file = `${STORE}/images.json`;
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').slice(0, 40));
  const images = tspod(['images', '--format', '{{.ID}} {{.Repository}}'], inStore);
  assert.is(images.status, 0, images.stderr);
  assert.match(images.stderr, new RegExp(`^Warning: ${file.replace(/\//g, '\\/')} was damaged \\(.*\\): rebuilt 1 image record`));
  assert.match(images.stdout, new RegExp(`^${id.slice(0, 12)} <none>`));
  const run = tspod(['run', '--rm', '--network', 'none', id, 'cat', '/etc/alpine-release'], inStore);
  assert.is(run.stdout, '3.20.3\n', run.stderr);
  assert.is(tspod(['images', '-q'], inStore).stderr, '', 'rebuilt once');
});

test('a damaged container record: ps says so and how to remove it, rm -f removes it', () => {
  emptyStore();
  assert.is(tspod(['create', '--name', 'damaged', `${reg}/alpine:3.20`, 'true'], inStore).status, 0);
  const id = fs.readdirSync(`${STORE}/containers`)[0];
  fs.writeFileSync(`${STORE}/containers/${id}/container.json`, '{"id": "');
  const ps = tspod(['ps', '-a'], inStore);
  assert.is(ps.status, 0);
  assert.match(ps.stderr, new RegExp(`^Warning: container ${id.slice(0, 12)} has a damaged record .*tspod rm -f ${id.slice(0, 12)}`));
  const rm = tspod(['rm', '-f', '-t', '0', '-a'], inStore);
  assert.is(rm.status, 0, rm.stderr);
  assert.equal(ls(`${STORE}/containers`), []);
  assert.is(tspod(['create', '--name', 'damaged', `${reg}/alpine:3.20`, 'true'], inStore).status, 0, 'the name is free');
});

test('usage errors exit 125 with one plain Error line and a hint, never a colour', () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', '--no-such-flag', 'alpine'], /^Error: unknown flag: --no-such-flag\nSee 'tspod run --help'\n$/],
    [['ps', '--filter'], /^Error: flag needs an argument: --filter\n/],
    [['run'], /^Error: `tspod run` requires IMAGE\n/],
    [['pull', 'a', 'b'], /^Error: `tspod pull` accepts at most 1 arg\(s\), received 2\n/],
    [['no-such-command'], /^Error: unrecognized command `tspod no-such-command`\n/],
  ];
  for (const [args, re] of cases) {
    const r = tspod(args);
    assert.is(r.status, 125, args.join(' '));
    assert.match(r.stderr, re);
    assert.not.match(r.stderr + r.stdout, /\x1b\[/, 'no terminal escapes');
  }
  // Podman's own exceptions: an unknown log level exits 1, with no "Error:".
  const level = tspod(['--log-level=telepathic', 'info']);
  assert.equal([level.status, level.stderr], [1, 'Log Level "telepathic" is not supported, choose from: trace, debug, info, warn, warning, error, fatal, panic\n']);
  const both = tspod(['--debug', '--log-level=panic', 'info']);
  assert.equal([both.status, both.stderr], [1, 'Setting --log-level and --debug is not allowed\n']);
  const debug = tspod(['--log-level=debug', 'info', '--format', '{{.Host.Arch}}']);
  assert.match(debug.stderr, /^time="[^"]+" level=info msg="tspod filtering at log level debug"$/m);
  assert.match(debug.stderr, / level=debug msg="using graph root /);
  assert.not.match(tspod(['--log-level=info', 'info', '--format', '{{.Host.Arch}}']).stderr, / level=debug /);
});

test('--env-file belongs to tspod, never to Node: a missing file is named before any pull, an existing one reaches only the container', () => {
  const missing = tspod(['run', '--rm', '--env-file', '/nonexistent/x', `${reg}/never-pulled`, 'true']);
  assertFailed(missing, /^Error: cannot read env file \/nonexistent\/x: ENOENT(; [^\n]*)?\n/);
  const file = `${HOME}/tspod-envfile`;
  fs.writeFileSync(file, 'FROM_FILE=yes\nTSPOD_STORE=/nonexistent\n');
  const ok = tspod(['run', '--rm', '--network', 'none', '--env-file', file, `${reg}/alpine:3.20`, 'sh', '-c', 'echo $FROM_FILE']);
  assert.is(ok.stdout, 'yes\n', ok.stderr);
  fs.rmSync(file);
});

test('a layer listed twice in a manifest pulls and runs', () => {
  const r = tspod(['run', '--rm', '--network', 'none', `${reg}/dup`, 'sh', '-c', 'cat /etc/alpine-release /marker/here']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '3.20.3\nbetween\n');
  assert.is(JSON.parse(tspod(['image', 'inspect', `${reg}/dup`]).stdout)[0].RootFS.Layers.length, 3);
});

test('layers by the spec: overlay attributes ignored, names as bytes, same-layer whiteouts, file capabilities', () => {
  const run = (...cmd: string[]) => tspod(['run', '--rm', '--network', 'none', `${reg}/spec`, ...cmd]);
  const etc = run('sh', '-c', 'cat /etc/alpine-release; test -f /etc/motd && echo motd-is-a-file');
  assert.is(etc.stdout, '3.20.3\nmotd-is-a-file\n', `an image's overlay xattrs must not hide lower files: ${etc.stderr}`);
  const names = run('sh', '-c', 'printf %s /bytes-* | od -An -tx1');
  assert.is(names.stdout.replace(/\s+/g, ' ').trim(), '2f 62 79 74 65 73 2d ff fe', names.stderr);
  assert.is(run('cat', '/kept').stdout, 'kept\n', 'a file followed by its own whiteout stays');
  assert.is(run('sh', '-c', 'ls /data').stdout, 'new\n', 'deleted files of lower layers do not come back');
});

test('file capabilities work as in Podman: v2 and v3 for the container\'s root raise a user\'s capabilities, v3 for another root does not', () => {
  const capEff = (dir: string) => tspod(['run', '--rm', '--network', 'none', '-u', '1000', `${reg}/caps`, `/opt/${dir}/grep`, 'CapEff', '/proc/self/status']);
  for (const dir of ['v2', 'v3root']) {
    const r = capEff(dir);
    assert.is(r.stdout, 'CapEff:\t0000000000000400\n', `${dir}: ${r.stderr}`);
  }
  const other = capEff('v3other');
  assert.is(other.stdout, 'CapEff:\t0000000000000000\n', other.stderr);
});

test('a killed pause process is dead even as a zombie: the next command starts a new one and works', async () => {
  assert.is(tspod(['rm', '-f', '-t', '0', '-a']).status, 0);
  const old = pausePid();
  spawnSync('kill', ['-KILL', old]);
  await new Promise((r) => setTimeout(r, 200));
  const state = (() => { try { return /\) (\S)/.exec(fs.readFileSync(`/proc/${old}/stat`, 'utf8'))?.[1]; } catch { return 'gone'; } })();
  assert.ok(state === 'Z' || state === 'gone', `the old pause is dead (${state})`);
  const r = tspod(['run', '--rm', '--network', 'none', `${reg}/alpine:3.20`, 'true']);
  assert.is(r.status, 0, r.stderr);
  assert.is.not(pausePid(), old);
});

test.run();
