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
