// Events (issue 18, first part): every tspod process appends what it did to one log, read back by
// `tspod events` with Podman's filters, line format and templates, and followed as it grows.
import fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getWorld, tspod, tspodCommand, TEST_USER } from '../fixtures/world.js';

let alpine = '';
const ok = (args: string[]) => { const r = tspod(args, { timeout: 300_000 }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async () => {
  alpine = `${(await getWorld()).registry}/alpine:3.20`;
  ok(['pull', '-q', alpine]);
});
test.after(() => { tspod(['rm', '-a', '-f', '-t', '0']); });

test('a container\'s life as events: create, start, died with its exit code, remove; filters by name, label and event', () => {
  const t0 = new Date().toISOString();
  const r = tspod(['run', '--rm', '--name', 'evc', '-l', 'tier=web', alpine, 'sh', '-c', 'exit 3']);
  assert.is(r.status, 3);
  const mine = ok(['events', '--stream=false', '--since', t0, '--filter', 'container=evc', '--format', '{{.Status}}']);
  assert.equal(mine.trim().split('\n'), ['create', 'start', 'died', 'remove']);
  const start = ok(['events', '--stream=false', '--since', t0, '--filter', 'type=container', '--filter', 'label=tier=web', '--filter', 'event=start']);
  assert.match(start, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} \+0000 UTC container start [0-9a-f]{64} \(image=\S+alpine:3\.20, name=evc, tier=web\)\n$/);
  assert.is(ok(['events', '--stream=false', '--since', t0, '--filter', 'container=evc', '--filter', 'status=died', '--format', '{{.Attributes.containerExitCode}} {{.Attributes.tier}}']), '3 web\n');
  assert.is(ok(['events', '--stream=false', '--since', t0, '--filter', 'container=nosuch', '--filter', 'container=evc', '--filter', 'event=remove', '--format', '{{.Name}}']), 'evc\n', 'the same key is OR');
});

test('image events: tag, untag', () => {
  const t0 = new Date().toISOString();
  ok(['tag', alpine, 'localhost/evtag:1']);
  ok(['rmi', 'localhost/evtag:1']);
  const lines = ok(['events', '--stream=false', '--since', t0, '--filter', 'type=image', '--format', '{{.Status}} {{.Name}}']);
  assert.match(lines, /^tag localhost\/evtag:1$/m);
  assert.match(lines, /^untag localhost\/evtag:1$/m);
});

test('image events of push to dir:, save, load, pull of docker-archive:, tag, untag and rmi, as Podman writes them; skopeo reads the dir: image', () => {
  const dir = fs.mkdtempSync('/tmp/tspod-ev-img-');
  spawnSync('chown', [TEST_USER, dir]);
  const pushed = `${dir}/pushed`, tarball = `${dir}/ball.tar`;
  ok(['tag', alpine, 'localhost/evimg:1']);
  const id = ok(['image', 'inspect', '--format', '{{.Id}}', 'localhost/evimg:1']).trim();
  const t0 = new Date().toISOString();
  ok(['push', 'localhost/evimg:1', `dir:${pushed}`]);
  ok(['save', '-o', tarball, 'localhost/evimg:1']);
  ok(['load', '-i', tarball]);
  ok(['pull', `docker-archive:${tarball}`]);
  ok(['tag', 'localhost/evimg:1', 'registry.example/evtag']);
  ok(['untag', 'localhost/evimg:1', 'registry.example/evtag']);
  const lines = ok(['events', '--stream=false', '--since', t0, '--filter', 'type=image', '--format', '{{.Status}}--{{.ID}}--{{.Name}}']).trim().split('\n');
  assert.equal(lines, [`push--${id}--dir:${pushed}`, `save--${id}--${tarball}`, `loadfromarchive----${tarball}`, `pull----docker-archive:${tarball}`,
    `tag--${id}--registry.example/evtag`, `untag--${id}--registry.example/evtag:latest`]);
  const inspect = spawnSync('skopeo', ['inspect', `dir:${pushed}`], { encoding: 'utf8' });
  assert.is(inspect.status, 0, inspect.stderr);
  const raw = JSON.parse(spawnSync('skopeo', ['inspect', '--raw', `dir:${pushed}`], { encoding: 'utf8' }).stdout) as { config: { digest: string }; layers: unknown[] };
  assert.is(raw.config.digest, `sha256:${id}`, 'the same image: its config');
  assert.ok(raw.layers.length >= 1);
  const copied = spawnSync('skopeo', ['copy', `dir:${pushed}`, `oci:${dir}/copied:x`], { encoding: 'utf8' });
  assert.is(copied.status, 0, `skopeo verifies every blob of it as it copies: ${copied.stderr}`);
  assert.ok(fs.existsSync(`${pushed}/manifest.json`) && fs.readFileSync(`${pushed}/version`, 'utf8').startsWith('Directory Transport Version'));
  ok(['rmi', 'localhost/evimg:1']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('events_logfile_max_size: a full log keeps its newer half and says log-rotation', () => {
  const dir = fs.mkdtempSync('/tmp/tspod-ev-rot-');
  const log = `${dir}/events.txt`, conf = `${dir}/containers.conf`;
  const old = Array.from({ length: 100 }, (_, i) => `{"Name":"busybox","Status":"pull","Time":"2022-04-06T11:26:42.7236679${String(i).padStart(2, '0')}+02:00","Type":"image","Attributes":null}\n`).join('');
  fs.writeFileSync(log, old);
  fs.writeFileSync(conf, `[engine]\nevents_logger="file"\nevents_logfile_path="${log}"\nevents_logfile_max_size=${old.length / 2}\n`);
  spawnSync('chown', ['-R', TEST_USER, dir]);
  const env = { CONTAINERS_CONF: conf };
  const id = tspod(['create', alpine, 'true'], { env }).stdout.trim();
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.is(lines.length, 49 + 2, 'the older half went (the line across the middle with it), then the rotation, then the create');
  assert.is(lines[0], old.split('\n')[51]);
  assert.equal(JSON.parse(lines[49]).Status, 'log-rotation');
  assert.equal(JSON.parse(lines[50]).ID, id);
  assert.match(tspod(['events', '--stream=false', '--since', '2022-01-01T00:00:00Z'], { env }).stdout, new RegExp(`system log-rotation ${log}\n`));
  tspod(['rm', id], { env });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('volume, network and pod events', () => {
  const t0 = new Date().toISOString();
  ok(['volume', 'create', 'evvol']);
  ok(['volume', 'rm', 'evvol']);
  ok(['network', 'create', 'evnet']);
  ok(['network', 'rm', 'evnet']);
  ok(['pod', 'create', '--name', 'evpod']);
  ok(['pod', 'rm', 'evpod']);
  const seen = ok(['events', '--stream=false', '--since', t0, '--filter', 'type=volume', '--filter', 'type=network', '--filter', 'type=pod', '--format', '{{.Type}} {{.Status}} {{.Name}}']);
  assert.equal(seen.trim().split('\n'), ['volume create evvol', 'volume remove evvol', 'network create evnet', 'network remove evnet', 'pod create evpod', 'pod remove evpod']);
});

test('events follows the log as other tspods write it; --events-backend none refuses', async () => {
  const [cmd, ...args] = tspodCommand(['events', '--since', '1s', '--filter', 'event=create', '--format', '{{.Name}}']);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await sleep(1500);
  ok(['create', '--name', 'evfollow', alpine, 'true']);
  for (let i = 0; i < 40 && !out.includes('evfollow'); i++) await sleep(100);
  child.kill('SIGTERM');
  spawnSync('pkill', ['-u', TEST_USER, '-f', 'tspod events']);
  assert.match(out, /^evfollow$/m);
  const none = tspod(['--events-backend', 'none', 'events', '--stream=false']);
  assert.is(none.status, 125);
  assert.match(none.stderr, /cannot read events with the "none" backend/);
});

test.run();
