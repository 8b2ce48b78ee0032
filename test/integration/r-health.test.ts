// Health checks (issue 17) without a systemd user manager: the container's own `healthcheck
// monitor` runs them every interval (no `healthcheck run` by hand), ps and inspect show the status,
// --health-on-failure acts, an image's HEALTHCHECK applies, and the monitor ends with the container.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getWorld, tspod, TEST_USER } from '../fixtures/world.js';

let alpine = '';
const ok = (args: string[]) => { const r = tspod(args, { timeout: 300_000 }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const health = (name: string) => JSON.parse(ok(['inspect', '--format', '{{json .State.Health}}', name])) as { Status: string; FailingStreak: number; Log: Array<{ ExitCode: number; Output: string }> };
async function until(name: string, status: string, ms = 15_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 250) { if (health(name).Status === status) return; await sleep(250); }
  assert.unreachable(`${name} did not become ${status}: ${JSON.stringify(health(name))}`);
}
const monitors = (id: string) => spawnSync('pgrep', ['-u', TEST_USER, '-f', `healthcheck monitor ${id}`], { encoding: 'utf8' }).stdout.trim();

test.before(async () => {
  alpine = `${(await getWorld()).registry}/alpine:3.20`;
  ok(['pull', '-q', alpine]);
});
test.after(() => { tspod(['rm', '-a', '-f', '-t', '0']); });

test('checks run by themselves: starting, healthy, then unhealthy after --health-retries failures; ps shows it; healthcheck run answers', async () => {
  const id = ok(['run', '-d', '--name', 'hc', '--health-cmd', 'echo checked; test ! -e /tmp/bad', '--health-interval', '1s', '--health-retries', '2', alpine, 'sleep', '300']).trim();
  await until('hc', 'healthy');
  assert.match(ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^hc Up .* \(healthy\)$/m);
  assert.ok(monitors(id), 'a monitor runs the checks');
  const cfg = JSON.parse(ok(['inspect', '--format', '{{json .Config.Healthcheck}}', 'hc']));
  assert.equal(cfg, { Test: ['CMD-SHELL', 'echo checked; test ! -e /tmp/bad'], Interval: 1e9, Timeout: 30e9, StartPeriod: 0, Retries: 2 });
  assert.is(health('hc').Log.at(-1)?.Output, 'checked');
  ok(['exec', 'hc', 'touch', '/tmp/bad']);
  await until('hc', 'unhealthy');
  assert.ok(health('hc').FailingStreak >= 2);
  assert.match(ok(['ps', '--format', '{{.Status}}', '--filter', 'name=hc']), /\(unhealthy\)/);
  const run = tspod(['healthcheck', 'run', 'hc']);
  assert.is(run.status, 1);
  assert.is(run.stdout, 'unhealthy\n');
  ok(['exec', 'hc', 'rm', '/tmp/bad']);
  assert.is(tspod(['healthcheck', 'run', 'hc']).status, 0);
  assert.is(health('hc').Status, 'healthy');
  ok(['stop', '-t', '0', 'hc']);
  for (let i = 0; i < 20 && monitors(id); i++) await sleep(250);
  assert.is(monitors(id), '', 'the monitor ends with the container');
  const none = tspod(['healthcheck', 'run', 'hc']);
  assert.is(none.status, 125);
  assert.match(none.stderr, /is not running/);
});

test('--health-on-failure=kill ends an unhealthy container; restart brings it back running', async () => {
  ok(['run', '-d', '--name', 'hckill', '--health-cmd', 'test ! -e /tmp/bad', '--health-interval', '1s', '--health-retries', '1', '--health-on-failure', 'kill', alpine, 'sleep', '300']);
  ok(['exec', 'hckill', 'touch', '/tmp/bad']);
  for (let i = 0; i < 40 && ok(['inspect', '--format', '{{.State.Status}}', 'hckill']).trim() === 'running'; i++) await sleep(250);
  assert.is(ok(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'hckill']).trim(), 'exited 137');
  ok(['run', '-d', '--name', 'hcrestart', '--health-cmd', 'if test -e /tmp/bad; then rm /tmp/bad; exit 1; fi', '--health-interval', 'disable', '--health-retries', '1', '--health-on-failure', 'restart', alpine, 'sleep', '300']);
  const started = ok(['inspect', '--format', '{{.State.StartedAt}}', 'hcrestart']).trim();
  ok(['exec', 'hcrestart', 'touch', '/tmp/bad']);
  assert.is(tspod(['healthcheck', 'run', 'hcrestart']).status, 1);
  assert.is(ok(['inspect', '--format', '{{.State.Status}}', 'hcrestart']).trim(), 'running');
  assert.is.not(ok(['inspect', '--format', '{{.State.StartedAt}}', 'hcrestart']).trim(), started, 'restarted');
  assert.is(tspod(['healthcheck', 'run', 'hcrestart']).status, 0, 'healthy again after the restart');
});

test('the image\'s HEALTHCHECK applies, --no-healthcheck drops it; bad flags are 125', async () => {
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-hc-'));
  fs.writeFileSync(path.join(ctx, 'Containerfile'), `FROM ${alpine}\nHEALTHCHECK --interval=1s --retries=1 CMD ["true"]\nCMD ["sleep", "300"]\n`);
  spawnSync('chmod', ['-R', 'a+rX', ctx]);
  ok(['build', '-q', '--format', 'docker', '-t', 'hcimage', ctx]); // an OCI image config has no HEALTHCHECK
  fs.rmSync(ctx, { recursive: true, force: true });
  ok(['run', '-d', '--name', 'hcimg', 'hcimage']);
  await until('hcimg', 'healthy');
  assert.equal(JSON.parse(ok(['inspect', '--format', '{{json .Config.Healthcheck.Test}}', 'hcimg'])), ['CMD', 'true']);
  ok(['create', '--name', 'hcnone', '--no-healthcheck', 'hcimage']);
  assert.is(ok(['inspect', '--format', '{{.State.Health.Status}}', 'hcnone']).trim(), '');
  for (const [flags, message] of [
    [['--health-on-failure', 'kill'], /cannot set on-failure action to kill without a health check/],
    [['--health-cmd', 'true', '--health-interval', 'soon'], /invalid duration "soon"/],
    [['--health-cmd', 'true', '--health-on-failure', 'explode'], /invalid on-failure action "explode"/],
  ] as const) {
    const r = tspod(['create', ...flags, alpine]);
    assert.is(r.status, 125, flags.join(' '));
    assert.match(r.stderr, message);
  }
});

test.run();
