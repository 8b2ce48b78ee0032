// A container's files as a user works with them: commit (a layer with whiteouts another tool
// honours), diff, cp both ways with Docker's rules and for running, created and exited containers,
// export and import, history, and the store's accounting (system df, image prune).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { getWorld, tspod, tspodCommand, TEST_USER } from '../fixtures/world.js';

const HOME = `/home/${TEST_USER}`;
const WORK = `/tmp/tspod-commit-cp-${process.pid}`;
let alpine = '';

const asUser = (cmd: string[]) => spawnSync('runuser', ['-u', TEST_USER, '--', ...cmd], { encoding: 'utf8', cwd: '/' });
const ok = (args: string[], input?: string) => { const r = tspod(args, { input }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };

test.before(async () => {
  const { registry } = await getWorld();
  alpine = `${registry}/alpine:3.20`;
  fs.mkdirSync(WORK, { recursive: true });
  fs.chmodSync(WORK, 0o777);
  ok(['pull', '-q', alpine]);
});
test.after(() => {
  tspod(['rm', '-a', '-f', '-t', '0']);
  fs.rmSync(WORK, { recursive: true, force: true });
});

test('commit: changes and deletions become one layer; diff lists them; the image runs, saves and loads in Podman with the deletion kept', () => {
  ok(['run', '--name', 'cm1', alpine, 'sh', '-c', 'echo hi > /root/new; rm /etc/motd; mkdir -p /srv/x; echo a > /srv/x/a; ln /srv/x/a /srv/x/b']);
  assert.is(ok(['diff', 'cm1']), 'C /etc\nD /etc/motd\nC /root\nA /root/new\nC /srv\nA /srv/x\nA /srv/x/a\nA /srv/x/b\n');
  const json = JSON.parse(ok(['diff', '--format', 'json', 'cm1']));
  assert.equal(json, { changed: ['/etc', '/root', '/srv'], added: ['/root/new', '/srv/x', '/srv/x/a', '/srv/x/b'], deleted: ['/etc/motd'] });
  const id = ok(['commit', '-q', '-c', 'CMD ["cat", "/root/new"]', '-c', 'ENV MODE=fixed', '-m', 'a fix', 'cm1', 'fixed:1']).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.is(ok(['run', '--rm', 'fixed:1']), 'hi\n', 'the new CMD');
  assert.is(ok(['run', '--rm', 'fixed:1', 'sh', '-c', 'echo $MODE; test -e /etc/motd || echo motd-gone; stat -c %h /srv/x/a']), 'fixed\nmotd-gone\n2\n');
  assert.is(ok(['image', 'inspect', '--format', '{{len .RootFS.Layers}}', 'fixed:1']), '2\n');
  assert.match(ok(['history', 'fixed:1']), /a fix/);
  assert.is(ok(['diff', 'fixed:1']), 'C /etc\nD /etc/motd\nC /root\nA /root/new\nC /srv\nA /srv/x\nA /srv/x/a\nA /srv/x/b\n', 'an image\'s diff is its top layer');
  // Another tool reads the layer: Podman loads the saved image and sees the whiteout.
  ok(['save', '-o', `${WORK}/fixed.tar`, 'fixed:1']);
  const root = `${HOME}/.cache/tspod-test-podman-j`;
  const podman = (args: string[]) => asUser(['env', '-i', `HOME=${HOME}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', 'podman', '--root', `${root}/root`, '--runroot', `${root}/run`, '--storage-driver', 'overlay', '--runtime', 'runc', ...args]);
  assert.is(podman(['load', '-i', `${WORK}/fixed.tar`]).status, 0);
  assert.is(podman(['run', '--rm', 'localhost/fixed:1', 'sh', '-c', 'cat /root/new; test -e /etc/motd || echo motd-gone']).stdout, 'hi\nmotd-gone\n');
  podman(['system', 'reset', '-f']);
  fs.rmSync(root, { recursive: true, force: true });
});

test('an image without /etc/mtab gets one at start, a link to /proc/mounts, as in Podman; diff and commit leave it out', () => {
  ok(['run', '--name', 'mtab-gone', alpine, 'rm', '/etc/mtab']);
  assert.is(ok(['diff', 'mtab-gone']), 'C /etc\nD /etc/mtab\n');
  ok(['commit', '-q', 'mtab-gone', 'nomtab:1']);
  ok(['run', '--name', 'mtab-made', 'nomtab:1', 'stat', '-c', '%N %u', '/etc/mtab']);
  assert.is(ok(['logs', 'mtab-made']), "'/etc/mtab' -> '/proc/mounts' 0\n");
  assert.is(ok(['diff', 'mtab-made']), '');
  ok(['commit', '-q', 'mtab-made', 'nomtab:2']);
  assert.is(ok(['diff', 'nomtab:2']), '', 'the link is not in the committed layer');
  assert.is(ok(['run', '--rm', '--read-only', 'nomtab:2', 'stat', '-c', '%N', '/etc/mtab']), "'/etc/mtab' -> '/proc/mounts'\n");
  ok(['rm', 'mtab-gone', 'mtab-made']);
  ok(['rmi', 'nomtab:2', 'nomtab:1']);
});

test('commit of a running container leaves it running', () => {
  ok(['run', '-d', '--name', 'cm2', alpine, 'sh', '-c', 'echo live > /live; sleep 60']);
  let seen = '';
  for (let i = 0; i < 50 && !seen; i++) seen = tspod(['exec', 'cm2', 'cat', '/live']).stdout;
  ok(['commit', '-q', 'cm2', 'live:1']);
  assert.is(ok(['inspect', '--format', '{{.State.Status}}', 'cm2']), 'running\n');
  assert.is(ok(['run', '--rm', 'live:1', 'cat', '/live']), 'live\n');
  ok(['rm', '-f', '-t', '0', 'cm2']);
});

test('cp into and out of running, created and exited containers, with Docker\'s rules', () => {
  const src = path.join(WORK, 'src');
  fs.mkdirSync(path.join(src, 'd/sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'f'), 'file\n');
  fs.writeFileSync(path.join(src, 'd/sub/y'), 'deep\n');
  spawnSync('chmod', ['-R', 'a+rX', WORK]);
  ok(['run', '-d', '--name', 'cp1', '-w', '/srv', alpine, 'sleep', '120']);
  ok(['cp', `${src}/f`, 'cp1:/tmp']);
  ok(['cp', `${src}/f`, 'cp1:rel.txt']);
  ok(['cp', `${src}/d`, 'cp1:/tmp/']);
  ok(['cp', `${src}/d/.`, 'cp1:/tmp/contents']);
  assert.is(ok(['exec', 'cp1', 'sh', '-c', 'cat /tmp/f /srv/rel.txt /tmp/d/sub/y /tmp/contents/sub/y; stat -c %u:%g /tmp/f']), 'file\nfile\ndeep\ndeep\n0:0\n', 'nested, renamed, contents; owned by the container user');
  const missing = tspod(['cp', `${src}/nope`, 'cp1:/tmp']);
  assert.is(missing.status, 125);
  assert.match(missing.stderr, /"\/.*\/nope" could not be found on the host/);
  const noDir = tspod(['cp', `${src}/f`, 'cp1:/nope/']);
  assert.is(noDir.status, 125);
  assert.match(noDir.stderr, /"\/nope\/" could not be found on container cp1: no such file or directory/);
  // A symlink out of the root leads back inside it.
  ok(['exec', 'cp1', 'ln', '-s', '/etc', '/tmp/escape']);
  ok(['cp', `${src}/f`, 'cp1:/tmp/escape/']);
  assert.is(ok(['exec', 'cp1', 'cat', '/etc/f']), 'file\n');
  // Out: files belong to the caller; a tar on stdout.
  const out = path.join(WORK, 'out');
  fs.mkdirSync(out);
  fs.chmodSync(out, 0o777);
  ok(['cp', 'cp1:/tmp/d', `${out}/copy`]);
  assert.is(fs.readFileSync(`${out}/copy/sub/y`, 'utf8'), 'deep\n');
  const uid = Number(spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout);
  assert.is(fs.statSync(`${out}/copy/sub/y`).uid, uid);
  const [cmd, ...argv] = tspodCommand(['cp', 'cp1:/tmp/f', '-']);
  const tar = spawnSync(cmd, argv, { cwd: '/' });
  assert.is(spawnSync('tar', ['-t'], { input: tar.stdout, encoding: 'utf8' }).stdout, 'f\n');
  // A tar on stdin; -a=false keeps its owners.
  const t = spawnSync('tar', ['-c', '--owner=1042', '--group=1043', '-C', src, 'f'], {});
  const [c2, ...a2] = tspodCommand(['cp', '-a=false', '-', 'cp1:/srv']);
  assert.is(spawnSync(c2, a2, { input: t.stdout, cwd: '/' }).status, 0);
  assert.is(ok(['exec', 'cp1', 'stat', '-c', '%u:%g', '/srv/f']), '1042:1043\n');
  const notTar = tspod(['cp', '-', 'cp1:/srv'], { input: 'not a tar\n' });
  assert.is(notTar.status, 125);
  assert.match(notTar.stderr, /source must be a \(compressed\) tar archive when copying from stdin/);
  // Stopped, then created: copied in while not running, seen once started.
  ok(['stop', '-t', '0', 'cp1']);
  ok(['cp', `${src}/f`, 'cp1:/tmp/while-stopped']);
  ok(['cp', 'cp1:/tmp/while-stopped', `${out}/from-stopped`]);
  assert.is(fs.readFileSync(`${out}/from-stopped`, 'utf8'), 'file\n');
  ok(['create', '--name', 'cp2', alpine, 'cat', '/tmp/created']);
  ok(['cp', `${src}/f`, 'cp2:/tmp/created']);
  assert.is(ok(['start', '-a', 'cp2']), 'file\n');
  // --overwrite: a file where a directory is, and the other way round.
  ok(['run', '-d', '--name', 'cp3', alpine, 'sh', '-c', 'mkdir /tmp/f; sleep 120']);
  const clash = tspod(['cp', `${src}/f`, 'cp3:/tmp']);
  assert.is(clash.status, 125);
  assert.match(clash.stderr, /error creating "\/tmp\/f": .*file exists/);
  ok(['cp', '--overwrite', `${src}/f`, 'cp3:/tmp']);
  assert.is(ok(['exec', 'cp3', 'cat', '/tmp/f']), 'file\n');
  // Into a tmpfs of a running container (--mount, the long form of --tmpfs): seen by the container.
  ok(['run', '-d', '--name', 'cp4', '--mount', 'type=tmpfs,dst=/scratch', alpine, 'sleep', '120']);
  ok(['cp', `${src}/f`, 'cp4:/scratch']);
  assert.is(ok(['exec', 'cp4', 'sh', '-c', 'cat /scratch/f; grep -c " /scratch tmpfs" /proc/mounts']), 'file\n1\n');
  // A created container: copied into the overlay, and copied up into its tmpfs when it starts (tmpcopyup).
  ok(['create', '--name', 'cp5', '--mount', 'type=tmpfs,dst=/tmp', alpine, 'sleep', '120']);
  ok(['cp', `${src}/f`, 'cp5:/tmp']);
  ok(['start', 'cp5']);
  assert.is(ok(['exec', 'cp5', 'cat', '/tmp/f']), 'file\n');
  ok(['rm', '-f', '-t', '0', 'cp1', 'cp2', 'cp3', 'cp4', 'cp5']);
});

test('export and import: a container\'s whole root as a tar, back as a one-layer image (file, stdin, gzip; --change)', () => {
  ok(['run', '--name', 'ex1', alpine, 'sh', '-c', 'echo exported > /random.txt']);
  ok(['export', '-o', `${WORK}/ex1.tar`, 'ex1']);
  const listing = spawnSync('tar', ['-tf', `${WORK}/ex1.tar`], { encoding: 'utf8' }).stdout;
  assert.ok(listing.includes('random.txt') && listing.includes('etc/alpine-release'));
  const id = ok(['import', '-q', `${WORK}/ex1.tar`]).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.is(ok(['run', '--rm', id, 'cat', '/random.txt']), 'exported\n');
  const [cmd, ...argv] = tspodCommand(['import', '-q', '-c', 'CMD ["cat", "/random.txt"]', '-', 'flat:1']);
  assert.is(spawnSync(cmd, argv, { input: fs.readFileSync(`${WORK}/ex1.tar`), cwd: '/' }).status, 0, 'import from stdin');
  assert.is(ok(['run', '--rm', 'flat:1']), 'exported\n');
  assert.is(ok(['image', 'inspect', '--format', '{{len .RootFS.Layers}}', 'flat:1']), '1\n');
  spawnSync('sh', ['-c', `gzip -c ${WORK}/ex1.tar > ${WORK}/ex1.tar.gz && chmod 644 ${WORK}/ex1.tar.gz`]);
  ok(['import', '-q', `${WORK}/ex1.tar.gz`, 'flat:gz']);
  assert.is(ok(['run', '--rm', 'flat:gz', 'cat', '/random.txt']), 'exported\n');
  const junk = tspod(['import', '-'], { input: 'junk\n' });
  assert.is(junk.status, 125);
  assert.match(junk.stderr, /cannot import -/);
  ok(['rm', 'ex1']);
});

test('commit keeps how the container ran (entrypoint, command, user, workdir, ports); run and create take a docker-archive:', () => {
  ok(['run', '--name', 'ran', '-w', '/tmp', '-u', '1:1', '--expose', '99', '--entrypoint', '["/bin/echo","from-entrypoint"]', alpine]);
  ok(['commit', '-q', 'ran', 'ranimg:1']);
  const cfg = JSON.parse(ok(['image', 'inspect', '--format', '{{json .Config}}', 'ranimg:1']));
  assert.equal(cfg.Entrypoint, ['/bin/echo', 'from-entrypoint']);
  assert.is(cfg.Cmd, undefined, 'an entrypoint given to run replaces the image\'s command');
  assert.is(cfg.User, '1:1');
  assert.is(cfg.WorkingDir, '/tmp');
  assert.ok('99/tcp' in cfg.ExposedPorts);
  ok(['run', '--name', 'ran2', alpine, 'echo', 'a', 'b']);
  assert.is(ok(['inspect', '--format', '{{json .Config.Cmd}}', 'ran2']).trim(), '["echo","a","b"]');
  ok(['commit', '-q', 'ran2', 'ranimg:2']);
  assert.is(ok(['image', 'inspect', '--format', '{{json .Config.Cmd}}', 'ranimg:2']).trim(), '["echo","a","b"]');
  ok(['save', '-q', '-o', `${WORK}/ran.tar`, 'ranimg:1']);
  ok(['rm', 'ran', 'ran2']);
  ok(['rmi', 'ranimg:1', 'ranimg:2']);
  const run = tspod(['run', '--rm', `docker-archive:${WORK}/ran.tar`]);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, 'from-entrypoint\n');
  assert.match(run.stderr, /^Getting image source signatures\n(Copying blob .*\n)+Copying config sha256:[a-f0-9]{64}\nWriting manifest to image destination\nStoring signatures\n$/);
  const id = ok(['create', '-q', `docker-archive:${WORK}/ran.tar`]).trim().split('\n').pop()!;
  assert.is(ok(['start', '--attach', id]), 'from-entrypoint\n');
  assert.match(ok(['inspect', '--format', '{{.ImageName}}', id]), /ranimg:1/);
  ok(['rm', id]);
  ok(['rmi', 'ranimg:1']);
});

test('system df counts images, containers and volumes; image prune removes dangling images only, -a every unused one', () => {
  ok(['rm', '-a', '-f', '-t', '0']);
  ok(['run', '-v', '/anon', '--name', 'df1', alpine, 'true']);
  const summary = ok(['system', 'df', '--format', '{{.Type}}:{{.Total}}:{{.Active}}']).split('\n');
  assert.match(summary[0], /^Images:\d+:1$/);
  assert.match(summary[1], /^Containers:1:0$/);
  assert.is(summary[2], 'Local Volumes:1:1');
  // The import without a name above is the dangling one.
  const before = ok(['images', '-q', '--no-trunc']).split('\n').filter(Boolean);
  const removed = ok(['image', 'prune', '-f']).split('\n').filter(Boolean);
  assert.ok(removed.length >= 1, 'the untagged image went');
  assert.is(ok(['images', '-q', '--no-trunc']).split('\n').filter(Boolean).length, before.length - removed.length);
  assert.ok(ok(['images', '--format', '{{.Repository}}']).includes('alpine'), 'named images stay');
  ok(['rm', '-v', 'df1']);
  ok(['image', 'prune', '-a', '-f']);
  assert.is(ok(['images', '-q']), '', 'nothing uses any image now');
  ok(['pull', '-q', alpine]);
});

test('system prune: exited containers and unused networks go, running ones and named images stay; --volumes takes unused volumes too', () => {
  ok(['rm', '-a', '-f', '-t', '0']);
  ok(['volume', 'create', 'prunevol']);
  ok(['network', 'create', 'prunenet']);
  const pod = ok(['pod', 'create', '--name', 'prunepod']).trim();
  const exited = ok(['run', '-d', alpine, 'true']).trim();
  const running = ok(['run', '-d', alpine, 'sleep', '100']).trim();
  ok(['wait', exited]);
  const out = ok(['system', 'prune', '-f']);
  assert.match(out, new RegExp(`Deleted Containers\n${exited}\n`));
  assert.match(out, /Deleted Networks\nprunenet\n/);
  assert.match(out, new RegExp(`Deleted Pods\n${pod}\n`), 'a pod that does not run goes, its infra with it');
  assert.is(ok(['ps', '-a', '-q', '--no-trunc']).trim(), running, 'only the running container is left');
  assert.is(ok(['volume', 'ls', '-q']).trim(), 'prunevol', 'volumes stay without --volumes');
  assert.match(ok(['images', '--format', '{{.Repository}}']), /alpine/);
  assert.match(ok(['system', 'prune', '-f', '--volumes']), /Deleted Volumes\nprunevol\n/);
  assert.is(ok(['volume', 'ls', '-q']), '');
  ok(['rm', '-f', '-t', '0', running]);
});

test.run();
