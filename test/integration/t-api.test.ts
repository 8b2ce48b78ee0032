// The Docker Engine API (issue 18): `tspod system service` driven by the real clients from Debian,
// the docker CLI (docker.io; its daemon is never started), docker-compose and the Python SDK, as
// the unprivileged user.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getWorld, startRegistry, tspod, tspodCommand, TEST_USER } from '../fixtures/world.js';

let alpine = '';
let registry = '';
let service: ChildProcess | undefined;
const uid = Number(spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout.trim());
const SOCKET = `/tmp/tspod-run-${uid}/tspod.sock`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok = (args: string[]) => { const r = tspod(args, { timeout: 300_000 }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };

/** A client program as the test user, pointed at the service; Debian's docker CLI first on PATH. */
function client(cmd: string[], o: { input?: string; cwd?: string; socket?: string; timeout?: number } = {}) {
  const env = { HOME: `/home/${TEST_USER}`, USER: TEST_USER, PATH: '/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C.UTF-8', DOCKER_HOST: `unix://${o.socket ?? SOCKET}`, DOCKER_BUILDKIT: '0', COMPOSE_INTERACTIVE_NO_CLI: '1' };
  const r = spawnSync('runuser', ['-u', TEST_USER, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...cmd], { encoding: 'utf8', input: o.input ?? '', cwd: o.cwd ?? '/', timeout: o.timeout ?? 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const docker = (args: string[], o: { input?: string; cwd?: string; socket?: string } = {}) => client(['docker', ...args], o);
const dockerOk = (args: string[], o: { input?: string; cwd?: string } = {}) => { const r = docker(args, o); assert.is(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`); return r.stdout; };

/** One HTTP request to the service's socket. */
function request(method: string, p: string, body?: string, socketPath = SOCKET): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: p, headers: body !== undefined ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function startService(args: string[], socket: string): Promise<ChildProcess> {
  const [cmd, ...argv] = tspodCommand(['system', 'service', ...args]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d) => process.stderr.write(`service: ${d}`));
  for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await sleep(50);
  assert.ok(fs.existsSync(socket), `the service made ${socket}`);
  return child;
}

test.before(async () => {
  const w = await getWorld();
  registry = w.registry;
  alpine = `${registry}/alpine:3.20`;
  ok(['pull', '-q', alpine]);
  service = await startService(['--time', '0'], SOCKET);
});
test.after(() => {
  service?.kill('SIGTERM');
  tspod(['rm', '-a', '-f', '-t', '0']);
});

test('no Docker daemon runs: the docker CLI here talks only to tspod', () => {
  assert.is(spawnSync('pgrep', ['-x', 'dockerd']).status, 1, 'dockerd must never be started');
  const st = fs.statSync(SOCKET);
  assert.is(st.mode & 0o777, 0o600, 'the socket is the user\'s only');
  assert.is(fs.statSync(path.dirname(SOCKET)).mode & 0o077, 0);
  const v = dockerOk(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']);
  assert.is(v.trim(), '1.41 linux');
  assert.match(dockerOk(['info', '--format', '{{.OSType}} {{.Driver}}']), /^linux overlay|^linux vfs/);
});

test('HTTP: _ping, versioned paths, Api-Version on every answer; Docker\'s errors as JSON', async () => {
  const ping = await request('GET', '/_ping');
  assert.is(ping.status, 200);
  assert.is(ping.body, 'OK');
  assert.is(ping.headers['api-version'], '1.41');
  assert.is((await request('HEAD', '/v1.41/_ping')).status, 200);
  const missing = await request('GET', '/v1.41/containers/nosuchthing/json');
  assert.is(missing.status, 404);
  assert.is(JSON.parse(missing.body).message, 'No such container: nosuchthing');
  assert.is(missing.headers['api-version'], '1.41');
  const unknown = await request('GET', '/v1.41/nowhere');
  assert.is(unknown.status, 404);
  assert.ok(JSON.parse(unknown.body).message);
  const bad = await request('POST', '/v1.41/containers/create', '{not json');
  assert.is(bad.status, 400);
  assert.is((await request('POST', '/v1.41/containers/create', JSON.stringify({ Image: 'nosuch/image:1' }))).status, 404);
  const images = await request('GET', '/images/json');
  assert.is(images.status, 200);
  assert.ok(JSON.parse(images.body).some((i: { RepoTags: string[] }) => i.RepoTags?.includes(alpine)));
});

test('docker run: output on the right streams, the exit code, --rm leaves nothing; a missing command is 127', () => {
  const r = docker(['run', '--rm', '--name', 'apirun', alpine, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.is(r.status, 3, r.stderr);
  assert.is(r.stdout, 'out\n');
  assert.match(r.stderr, /err\n/);
  assert.not.match(ok(['ps', '-a', '--format', '{{.Names}}']), /apirun/);
  const m = docker(['run', '--rm', '--name', 'apimissing', alpine, 'nosuchcommand']);
  assert.is(m.status, 127, m.stderr);
  assert.match(m.stderr, /executable file not found/);
  assert.not.match(ok(['ps', '-a', '--format', '{{.Names}}']), /apimissing/, 'no --rm container left behind');
});

test('docker run -i passes stdin and its end; -t gives a terminal', () => {
  const r = docker(['run', '--rm', '-i', alpine, 'sh', '-c', 'cat; echo end'], { input: 'line one\nline two\n' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'line one\nline two\nend\n');
  // -it from a terminal (script(1) gives the CLI one): what is typed reaches the shell, its exit code comes back.
  const it = client(['script', '-qec', `docker run --rm -it ${alpine} sh`, '/dev/null'], { input: 'echo typed-in; exit 4\n' });
  assert.is(it.status, 4, it.stderr);
  assert.match(it.stdout, /^typed-in\r?$/m);
  const t = docker(['run', '--rm', '-t', alpine, 'sh', '-c', 'tty; exit 2']);
  assert.is(t.status, 2, t.stderr);
  assert.match(t.stdout, /^\/dev\/pts\/\d+\r?\n$/);
});

test('detached: logs, exec with its exit code and stdin, cp both ways, top, stop sends SIGTERM first', () => {
  dockerOk(['run', '-d', '--name', 'apid', alpine, 'sh', '-c', 'echo started; trap "echo got-term; exit 0" TERM; while :; do sleep 0.2; done']);
  for (let i = 0; i < 50 && !dockerOk(['logs', 'apid']).includes('started'); i++) spawnSync('sleep', ['0.1']);
  assert.is(dockerOk(['logs', 'apid']), 'started\n');
  const e = docker(['exec', 'apid', 'sh', '-c', 'echo in-exec; exit 4']);
  assert.is(e.status, 4);
  assert.is(e.stdout, 'in-exec\n');
  assert.is(dockerOk(['exec', '-i', 'apid', 'cat'], { input: 'via stdin\n' }), 'via stdin\n');
  assert.match(dockerOk(['exec', '-t', 'apid', 'tty']), /^\/dev\/pts\/\d+\r?\n$/);
  const dir = fs.mkdtempSync('/tmp/tspod-api-cp-');
  fs.writeFileSync(path.join(dir, 'in.txt'), 'from the host\n');
  spawnSync('chown', ['-R', TEST_USER, dir]);
  dockerOk(['cp', path.join(dir, 'in.txt'), 'apid:/tmp/']);
  assert.is(dockerOk(['exec', 'apid', 'cat', '/tmp/in.txt']), 'from the host\n');
  dockerOk(['cp', 'apid:/etc/alpine-release', path.join(dir, 'release')]);
  assert.match(fs.readFileSync(path.join(dir, 'release'), 'utf8'), /^3\.20/);
  fs.rmSync(dir, { recursive: true, force: true });
  assert.match(dockerOk(['top', 'apid']), /PID/);
  // docker stats: a reading where the container has a cgroup of its own, else the engine's plain words (rootless on cgroup v1).
  const stats = docker(['stats', '--no-stream', 'apid']);
  if (stats.status === 0) assert.match(stats.stdout, /apid\s+[\d.]+%/);
  else assert.match(stats.stderr, /no cgroup of their own to read/);
  const t0 = Date.now();
  dockerOk(['stop', 'apid']);
  assert.ok(Date.now() - t0 < 5000, 'the trap ended it at SIGTERM');
  assert.match(dockerOk(['logs', 'apid']), /got-term/);
  assert.is(dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'apid']).trim(), 'exited 0');
  dockerOk(['rm', 'apid']);
});

test('docker stop without -t waits 10 s before SIGKILL; kill and wait give 137', () => {
  dockerOk(['run', '-d', '--name', 'apistubborn', alpine, 'sleep', '1000']);
  const t0 = Date.now();
  dockerOk(['stop', 'apistubborn']);
  const took = Date.now() - t0;
  assert.ok(took >= 9000 && took < 20000, `stop took ${took} ms`);
  dockerOk(['start', 'apistubborn']);
  dockerOk(['kill', 'apistubborn']);
  assert.is(dockerOk(['wait', 'apistubborn']).trim(), '137');
  dockerOk(['rm', '-f', 'apistubborn']);
});

test('networks with DNS, volumes, published ports', async () => {
  dockerOk(['network', 'create', 'apinet']);
  dockerOk(['run', '-d', '--name', 'apidb', '--network', 'apinet', alpine, 'sleep', '1000']);
  assert.match(dockerOk(['run', '--rm', '--network', 'apinet', alpine, 'getent', 'hosts', 'apidb']), /^10\.\d+\.\d+\.\d+\s+apidb/);
  dockerOk(['volume', 'create', 'apivol']);
  dockerOk(['run', '--rm', '-v', 'apivol:/data', alpine, 'sh', '-c', 'echo kept > /data/f']);
  assert.is(dockerOk(['run', '--rm', '-v', 'apivol:/data', alpine, 'cat', '/data/f']), 'kept\n');
  assert.match(dockerOk(['volume', 'ls', '--format', '{{.Name}}']), /^apivol$/m);
  dockerOk(['run', '-d', '--name', 'apiweb', '-p', '18431:80', alpine, 'sh', '-c', 'while :; do echo hello-api | nc -l -p 80; done']);
  assert.is(dockerOk(['port', 'apiweb']).trim(), '80/tcp -> 0.0.0.0:18431');
  let got = '';
  for (let i = 0; i < 50 && !got.includes('hello-api'); i++) {
    got = await new Promise<string>((resolve) => {
      const s = net.connect(18431, '127.0.0.1');
      let d = '';
      s.on('data', (c) => { d += c; });
      s.on('close', () => resolve(d));
      s.on('error', () => resolve(''));
      setTimeout(() => s.destroy(), 2000);
    });
    if (!got.includes('hello-api')) await sleep(100);
  }
  assert.match(got, /hello-api/);
  dockerOk(['rm', '-f', 'apidb', 'apiweb']);
  dockerOk(['network', 'rm', 'apinet']);
  dockerOk(['volume', 'rm', 'apivol']);
  assert.is(docker(['volume', 'inspect', 'apivol']).status, 1);
});

test('docker pull (an insecure registry from registries.conf) and docker build', () => {
  const p = docker(['pull', `${registry}/alpine:3.19`]);
  assert.is(p.status, 0, p.stderr);
  assert.match(p.stdout, /Digest: sha256:/);
  assert.match(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), new RegExp(`${registry.replace(/\./g, '\\.')}/alpine:3\\.19`));
  const ctx = fs.mkdtempSync('/tmp/tspod-api-build-');
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${alpine}\nCOPY msg /msg\nRUN echo built >> /msg\nCMD ["cat", "/msg"]\n`);
  fs.writeFileSync(path.join(ctx, 'msg'), 'copied\n');
  spawnSync('chown', ['-R', TEST_USER, ctx]);
  const b = docker(['build', '-t', 'apibuilt:1', '.'], { cwd: ctx });
  assert.is(b.status, 0, b.stdout + b.stderr);
  assert.match(b.stdout, /Successfully tagged apibuilt:1/);
  assert.is(dockerOk(['run', '--rm', 'apibuilt:1']), 'copied\nbuilt\n');
  fs.rmSync(ctx, { recursive: true, force: true });
});

test('images: tag, login and push with credentials, rmi, pull back, history, save and load, commit, rename, restart, events', async () => {
  const reg = await startRegistry({ user: 'apiuser', password: 'apipass' });
  try {
    const login = docker(['login', '-u', 'apiuser', '--password-stdin', reg.host], { input: 'apipass\n' });
    assert.is(login.status, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    assert.is(docker(['login', '-u', 'apiuser', '--password-stdin', reg.host], { input: 'wrong\n' }).status, 1);
    const ref = `${reg.host}/api/alpine:pushed`;
    dockerOk(['tag', alpine, ref]);
    const push = docker(['push', ref]);
    assert.is(push.status, 0, push.stderr);
    assert.match(push.stdout, /digest: sha256:[0-9a-f]{64}/);
    assert.match(dockerOk(['rmi', ref]), /Untagged: /);
    assert.match(dockerOk(['pull', ref]), /Downloaded newer image/);
    dockerOk(['rmi', ref]);
  } finally {
    reg.proc.kill('SIGKILL');
    fs.rmSync(reg.dir, { recursive: true, force: true });
  }
  assert.match(dockerOk(['history', alpine]), /ADD|COPY|CMD|nop/);
  const dir = fs.mkdtempSync('/tmp/tspod-api-save-');
  spawnSync('chown', [TEST_USER, dir]);
  dockerOk(['tag', alpine, 'localhost/apisaved:1']);
  dockerOk(['save', '-o', path.join(dir, 'img.tar'), 'localhost/apisaved:1']);
  dockerOk(['rmi', 'localhost/apisaved:1']);
  assert.match(dockerOk(['load', '-i', path.join(dir, 'img.tar')]), /Loaded image: localhost\/apisaved:1/);
  fs.rmSync(dir, { recursive: true, force: true });
  const since = Math.floor(Date.now() / 1000) - 1;
  dockerOk(['run', '-d', '--name', 'apicommit', alpine, 'sleep', '1000']);
  dockerOk(['exec', 'apicommit', 'sh', '-c', 'echo made > /made']);
  assert.match(dockerOk(['commit', 'apicommit', 'localhost/apicommitted:1']), /^sha256:[0-9a-f]{64}\n$/);
  assert.is(dockerOk(['run', '--rm', 'localhost/apicommitted:1', 'cat', '/made']), 'made\n');
  dockerOk(['rename', 'apicommit', 'apirenamed']);
  dockerOk(['restart', '-t', '0', 'apirenamed']);
  assert.match(dockerOk(['ps', '--filter', 'name=apirenamed', '--format', '{{.Status}}']), /^Up/);
  dockerOk(['rm', '-f', 'apirenamed']);
  const until = Math.floor(Date.now() / 1000) + 1;
  await sleep(1100);
  const events = dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', 'type=container', '--filter', 'event=start', '--format', '{{.Actor.Attributes.name}}']);
  assert.match(events, /^apicommit$/m);
  assert.match(events, /^apirenamed$/m, 'the restart started it under its new name');
});

test('docker-compose: up -d with a network, ports, a volume, depends_on; ps, exec, run --rm, logs; down -v leaves nothing', async () => {
  const dir = fs.mkdtempSync('/tmp/tspod-compose-');
  const project = path.basename(dir).toLowerCase().replace(/[^-_a-z0-9]/g, '');
  fs.writeFileSync(path.join(dir, 'docker-compose.yml'), [
    'version: "3"', 'services:',
    '  db:', `    image: ${alpine}`, `    command: sh -c 'echo db-up; while :; do echo db-answer | nc -l -p 6000; done'`, '    volumes:', '      - data:/data',
    '    healthcheck:', '      test: ["CMD", "true"]', '      interval: 2s',
    '  web:', `    image: ${alpine}`, `    command: sh -c 'while :; do nc db 6000 | nc -l -p 80; done'`, '    environment:', '      GREETING: hello-env',
    '    ports:', '      - "18432:80"', '    depends_on:', '      - db',
    '  built:', '    build: ./built', `    image: localhost/${project}-built:1`,
    'volumes:', '  data:', '',
  ].join('\n'));
  fs.mkdirSync(path.join(dir, 'built'));
  fs.writeFileSync(path.join(dir, 'built/Dockerfile'), `FROM ${alpine}\nRUN echo built-by-compose > /msg\nCMD ["sh", "-c", "cat /msg; sleep 300"]\n`);
  spawnSync('chown', ['-R', TEST_USER, dir]);
  const compose = (args: string[]) => client(['docker-compose', ...args], { cwd: dir });
  const build = compose(['build']);
  assert.is(build.status, 0, build.stderr);
  assert.match(build.stdout, /Successfully built/);
  const up = compose(['up', '-d']);
  assert.is(up.status, 0, up.stderr);
  const ps = compose(['ps']);
  assert.match(ps.stdout, new RegExp(`${project}_db_1 .*Up`));
  assert.match(ps.stdout, new RegExp(`${project}_web_1 .*Up.*18432->80`));
  assert.is(compose(['exec', '-T', 'web', 'sh', '-c', 'echo $GREETING']).stdout, 'hello-env\n');
  let answer = '';
  for (let i = 0; i < 50 && !answer.includes('db-answer'); i++) {
    answer = compose(['exec', '-T', 'web', 'sh', '-c', 'nc db 6000 </dev/null']).stdout;
    if (!answer.includes('db-answer')) await sleep(100);
  }
  assert.match(answer, /db-answer/, 'web reaches db by its service name');
  const run = compose(['run', '--rm', 'web', 'echo', 'one-off']);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /one-off/);
  assert.match(compose(['logs', 'db']).stdout, /db-up/);
  let built = '';
  for (let i = 0; i < 50 && !built.includes('built-by-compose'); i++) { built = compose(['logs', 'built']).stdout; if (!built.includes('built-by-compose')) await sleep(100); }
  assert.match(built, /built-by-compose/);
  const stop = compose(['stop', '-t', '1']);
  assert.is(stop.status, 0, stop.stderr);
  assert.match(compose(['ps']).stdout, /Exit/);
  const down = compose(['down', '-v', '-t', '1']);
  assert.is(down.status, 0, down.stderr);
  assert.not.match(ok(['ps', '-a', '--format', '{{.Names}}']), new RegExp(project));
  assert.not.match(ok(['volume', 'ls', '--format', '{{.Name}}']), new RegExp(project));
  assert.not.match(ok(['network', 'ls', '--format', '{{.Name}}']), new RegExp(project));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A hijacked attach over the service's socket: what the container sends, unframed, until the service closes it. */
function attachStream(id: string): Promise<{ ready: Promise<void>; output: Promise<string> }> {
  return new Promise((resolve) => {
    const s = net.connect(SOCKET);
    let raw = Buffer.alloc(0);
    let ready!: () => void;
    const upgraded = new Promise<void>((r) => { ready = r; });
    s.on('data', (d: Buffer) => { raw = Buffer.concat([raw, d]); if (raw.includes('\r\n\r\n')) ready(); });
    const output = new Promise<string>((r) => s.on('close', () => {
      let body = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
      let text = '';
      while (body.length >= 8) { const n = body.readUInt32BE(4); text += body.subarray(8, 8 + n).toString(); body = body.subarray(8 + n); }
      r(text);
    }));
    s.write(`POST /v1.41/containers/${id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: tspod\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    resolve({ ready: upgraded, output });
  });
}

test('an attach to a container that has ended waits for its next start (docker-compose run starts, then attaches)', async () => {
  const created = await request('POST', '/v1.41/containers/create', JSON.stringify({ Image: alpine, Cmd: ['echo', 'second-run'], AttachStdout: true, AttachStderr: true }));
  assert.is(created.status, 201, created.body);
  const id = JSON.parse(created.body).Id as string;
  try {
    assert.is((await request('POST', `/v1.41/containers/${id}/start`)).status, 204);
    let state: { Running: boolean; Status: string } = { Running: true, Status: '' };
    for (let i = 0; i < 100 && state.Status !== 'exited'; i++) {
      state = JSON.parse((await request('GET', `/v1.41/containers/${id}/json`)).body).State;
      if (state.Status !== 'exited') await sleep(50);
    }
    assert.is(state.Status, 'exited');
    const a = await attachStream(id);
    await a.ready;
    assert.is((await request('POST', `/v1.41/containers/${id}/start`)).status, 204);
    assert.is(await a.output, 'second-run\n');
  } finally {
    await request('DELETE', `/v1.41/containers/${id}?force=1`);
  }
});

test('the Python SDK: run, list, logs, exec, remove', () => {
  const script = [
    'import docker', 'c = docker.from_env()',
    `out = c.containers.run("${alpine}", ["sh", "-c", "echo sdk-out"], remove=True)`, 'print(out.decode().strip())',
    `d = c.containers.run("${alpine}", ["sleep", "100"], detach=True, name="sdkctr")`,
    'print([x.name for x in c.containers.list() if x.name == "sdkctr"][0])',
    'code, o = d.exec_run(["sh", "-c", "echo exec-out; exit 3"])', 'print(code, o.decode().strip())',
    'd.remove(force=True)', 'print(len(c.containers.list(all=True, filters={"name": "sdkctr"})))',
  ].join('\n');
  const r = client(['/usr/bin/python3', '-c', script]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'sdk-out\nsdkctr\n3 exec-out\n0\n');
});

test('twenty concurrent docker ps all answer; containers outlive the service', async () => {
  dockerOk(['run', '-d', '--name', 'apisurvivor', alpine, 'sleep', '1000']);
  const runs = await Promise.all(Array.from({ length: 20 }, () => new Promise<number>((resolve) => {
    const env = { HOME: `/home/${TEST_USER}`, PATH: '/usr/bin:/bin', DOCKER_HOST: `unix://${SOCKET}` };
    const c = spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'docker', 'ps', '-q'], { stdio: 'ignore' });
    c.on('close', (code) => resolve(code ?? -1));
  })));
  assert.equal(runs, Array(20).fill(0));
  service?.kill('SIGTERM');
  for (let i = 0; i < 50 && fs.existsSync(SOCKET); i++) await sleep(100);
  assert.not.ok(fs.existsSync(SOCKET), 'the socket goes with the service');
  assert.is(ok(['inspect', '--format', '{{.State.Status}}', 'apisurvivor']).trim(), 'running');
  service = await startService(['--time', '0'], SOCKET);
  assert.match(dockerOk(['ps', '--format', '{{.Names}}']), /apisurvivor/);
  dockerOk(['rm', '-f', 'apisurvivor']);
});

test('--time: the service exits when idle, but not while a client follows logs', async () => {
  const sock = `/tmp/tspod-run-${uid}/idle-test.sock`;
  const idle = await startService(['--time', '1', `unix://${sock}`], sock);
  const exited = new Promise<number>((resolve) => idle.on('exit', (c) => resolve(c ?? -1)));
  dockerOk(['run', '-d', '--name', 'apifollow', alpine, 'sh', '-c', 'sleep 3; echo late']);
  const env = { HOME: `/home/${TEST_USER}`, PATH: '/usr/bin:/bin', DOCKER_HOST: `unix://${sock}` };
  const follow = spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'docker', 'logs', '-f', 'apifollow'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  follow.stdout!.on('data', (d) => { out += d; });
  await new Promise((r) => follow.on('close', r));
  assert.is(out, 'late\n', 'the follow lasted past --time');
  assert.is(await exited, 0);
  assert.not.ok(fs.existsSync(sock));
  dockerOk(['rm', '-f', 'apifollow']);
});

test('socket activation: the service serves the socket systemd hands it (LISTEN_FDS)', async () => {
  const sock = `/tmp/tspod-run-${uid}/activated.sock`;
  fs.rmSync(sock, { force: true });
  const [cmd, ...argv] = tspodCommand(['system', 'service', '--time', '2']);
  // systemd-socket-activate listens, then starts the service on the first connection with the socket as fd 3.
  const program = argv.findIndex((a) => a.endsWith('/bin/tspod'));
  const activator = spawn(cmd, [...argv.slice(0, program), 'systemd-socket-activate', '-l', sock, ...argv.slice(program)], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !fs.existsSync(sock); i++) await sleep(50);
  const t0 = Date.now();
  const ping = await request('GET', '/_ping', undefined, sock);
  assert.is(ping.status, 200);
  assert.is(ping.body, 'OK');
  assert.ok(Date.now() - t0 < 5000);
  assert.is(docker(['ps', '-q'], { socket: sock }).status, 0);
  activator.kill('SIGTERM');
});

test.run();
