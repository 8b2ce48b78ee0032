// Confinement, first part (issue 16): the seccomp filter of Podman's profile by default, kept by
// exec and by build's RUN; --security-opt seccomp=unconfined|FILE, no-new-privileges; --ulimit.
// Each read inside the container from /proc/self.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { getWorld, tspod } from '../fixtures/world.js';

let alpine = '';
const WORK = `/tmp/tspod-security-${process.pid}`;
const ok = (args: string[]) => { const r = tspod(args, { timeout: 300_000 }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };
const status = (field: string) => `grep '^${field}:' /proc/self/status | cut -f2`;

test.before(async () => {
  ({ registry: alpine } = await getWorld());
  alpine = `${alpine}/alpine:3.20`;
  ok(['pull', '-q', alpine]);
  fs.mkdirSync(WORK, { recursive: true, mode: 0o777 });
  fs.chmodSync(WORK, 0o777);
});
test.after(() => { tspod(['rm', '-a', '-f', '-t', '0']); fs.rmSync(WORK, { recursive: true, force: true }); });

test('seccomp is on by default (filter mode), exec keeps it, seccomp=unconfined turns it off', () => {
  assert.is(ok(['run', '--rm', alpine, 'sh', '-c', status('Seccomp')]), '2\n');
  assert.is(ok(['run', '--rm', '--security-opt', 'seccomp=unconfined', alpine, 'sh', '-c', status('Seccomp')]), '0\n');
  ok(['run', '-d', '--name', 'sec-exec', alpine, 'sleep', '60']);
  assert.is(ok(['exec', 'sec-exec', 'sh', '-c', status('Seccomp')]), '2\n');
  ok(['rm', '-f', '-t', '0', 'sec-exec']);
});

test('a profile file of one\'s own is used; a missing or invalid one, or an unknown option, fails with 125 naming it', () => {
  const mine = path.join(WORK, 'deny-mkdir.json');
  // Everything allowed but mkdir/mkdirat, which fail with EPERM: the filter is this file's.
  fs.writeFileSync(mine, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }));
  fs.chmodSync(mine, 0o644);
  const r = tspod(['run', '--rm', '--security-opt', `seccomp=${mine}`, alpine, 'sh', '-c', 'mkdir /x 2>&1; echo rc=$?']);
  assert.match(r.stdout, /Operation not permitted\nrc=1/);
  for (const [opt, why] of [[`seccomp=${WORK}/none.json`, /none\.json: no such file or directory/], [`seccomp=${WORK}`, /seccomp profile/], ['bogus=1', /invalid --security-opt "bogus=1"/]] as const) {
    const f = tspod(['run', '--rm', '--security-opt', opt, alpine, 'true']);
    assert.is(f.status, 125, f.stderr);
    assert.match(f.stderr, why);
    assert.is(f.stderr.trim().split('\n').length, 1, f.stderr);
  }
});

test('no-new-privileges and --ulimit reach the process; a bad --ulimit fails with 125', () => {
  assert.is(ok(['run', '--rm', '--security-opt', 'no-new-privileges', alpine, 'sh', '-c', status('NoNewPrivs')]), '1\n');
  assert.is(ok(['run', '--rm', alpine, 'sh', '-c', status('NoNewPrivs')]), '0\n');
  assert.match(ok(['run', '--rm', '--ulimit', 'nofile=101:102', alpine, 'grep', 'Max open files', '/proc/self/limits']), /\s101\s+102\s/);
  for (const bad of ['nofile', 'bogus=1', 'nofile=5:4']) assert.is(tspod(['run', '--rm', '--ulimit', bad, alpine, 'true']).status, 125, bad);
});

test('capabilities: Podman\'s default set, --cap-add/--cap-drop by any spelling and ALL, a non-root user with only what is added, an unknown name 125', () => {
  const caps = (args: string[]) => ok(['run', '--rm', ...args, alpine, 'sh', '-c', `${status('CapEff')}; ${status('CapBnd')}`]);
  assert.is(caps([]), '00000000800405fb\n00000000800405fb\n');
  assert.is(caps(['--cap-add', 'net_admin', '--cap-drop', 'CAP_CHOWN']), '00000000800415fa\n00000000800415fa\n');
  assert.is(caps(['--cap-drop', 'ALL']), '0000000000000000\n0000000000000000\n');
  assert.is(caps(['--cap-drop', 'all', '--cap-add', 'KILL']), '0000000000000020\n0000000000000020\n');
  assert.is(caps(['--user', '1000']), '0000000000000000\n00000000800405fb\n');
  assert.is(caps(['--user', '1000', '--cap-add', 'NET_RAW']), '0000000000002000\n00000000800425fb\n');
  ok(['run', '-d', '--name', 'sec-caps', '--cap-drop', 'ALL', alpine, 'sleep', '60']);
  assert.is(ok(['exec', 'sec-caps', 'sh', '-c', status('CapEff')]), '0000000000000000\n', 'exec keeps the set');
  ok(['rm', '-f', '-t', '0', 'sec-caps']);
  const bad = tspod(['run', '--rm', '--cap-add', 'NOT_A_CAP', alpine, 'true']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /^Error: --cap-add NOT_A_CAP: unknown capability "NOT_A_CAP"; /);
  assert.is(bad.stderr.trim().split('\n').length, 1);
});

test('build: RUN steps run under the filter and take --ulimit and --security-opt', () => {
  const ctx = path.join(WORK, 'ctx');
  fs.mkdirSync(ctx, { recursive: true });
  fs.writeFileSync(path.join(ctx, 'Containerfile'), `FROM ${alpine}\nRUN grep Seccomp: /proc/self/status | awk '{ print $1$2 }'\nRUN grep "Max open files" /proc/self/limits | awk '{ print $4":"$5 }'\n`);
  spawnSync('chmod', ['-R', 'a+rX', ctx]);
  const a = ok(['build', '--ulimit', 'nofile=101:102', '-t', 'sec-build', ctx]);
  assert.match(a, /Seccomp:2/);
  assert.match(a, /101:102/);
  // Another confinement is another step: not taken from the cache.
  assert.match(ok(['build', '--security-opt', 'seccomp=unconfined', '-t', 'sec-build', ctx]), /Seccomp:0/);
});

test.run();
