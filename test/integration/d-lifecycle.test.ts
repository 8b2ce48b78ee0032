// Detached containers watched by conmon: run -d, ps, logs -f, wait, stop, rm -f, run -d --rm,
// and a container killed from outside while no tspod runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { getWorld, tspod, TEST_USER } from '../fixtures/world.js';

let image = '';
test.before(async () => {
  image = `${(await getWorld()).registry}/alpine:3.20`;
  assert.is(tspod(['pull', '-q', image]).status, 0);
});

const uid = () => spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout.trim();
function leftovers(): string {
  const pid = fs.readFileSync(`/tmp/tspod-run-${uid()}/pause.pid`, 'utf8').split(' ')[0];
  const mounts = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter((l) => /containers\/[a-f0-9]+\/merged|tspod-run-\d+\/netns\//.test(l));
  return mounts.join('\n');
}

test('run -d returns at once with the id; logs -f follows until the exit; wait prints the code', () => {
  const t0 = Date.now();
  const r = tspod(['run', '-d', '--name', 'talker', '--network', 'none', image, 'sh', '-c', 'for i in 1 2 3; do echo out $i; echo err $i >&2; sleep 0.4; done; exit 4']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^[a-f0-9]{64}\n$/);
  assert.ok(Date.now() - t0 < 1000, 'returned while the container still runs');
  assert.match(tspod(['ps']).stdout, /Up .*talker$/m);
  const logs = tspod(['logs', '-f', 'talker']);
  assert.is(logs.stdout, 'out 1\nout 2\nout 3\n');
  assert.is(logs.stderr, 'err 1\nerr 2\nerr 3\n');
  assert.is(tspod(['wait', 'talker']).stdout, '4\n');
  assert.match(tspod(['ps', '-a']).stdout, /Exited \(4\).*talker$/m);
  // --tail counts lines of both streams, as Docker does: the last two are "out 3" and "err 3".
  const tail = tspod(['logs', '-t', '--tail', '2', 'talker']);
  assert.match(tail.stdout, /^\d{4}-\d\d-\d\dT\S+ out 3\n$/);
  assert.match(tail.stderr, /^\d{4}-\d\d-\d\dT\S+ err 3\n$/);
  assert.is(leftovers(), '');
});

test('stop: SIGTERM, then SIGKILL after -t seconds (137) for a process that ignores it', () => {
  assert.is(tspod(['run', '-d', '--name', 'stubborn', image, 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']).status, 0);
  const t0 = Date.now();
  const r = tspod(['stop', '-t', '1', 'stubborn']);
  const took = Date.now() - t0;
  assert.is(r.status, 0, r.stderr);
  assert.ok(took >= 1000 && took < 6000, `took ${took} ms`);
  assert.is(tspod(['wait', 'stubborn']).stdout, '137\n');
  assert.match(tspod(['ps', '-a']).stdout, /Exited \(137\).*stubborn$/m);
  assert.is(tspod(['rm', 'stubborn']).status, 0);
  assert.is(leftovers(), '');
});

test('run -d --rm removes the container after it exits; rm -f removes a running one', async () => {
  const id = tspod(['run', '-d', '--rm', '--network', 'none', image, 'sleep', '0.3']).stdout.trim();
  await new Promise((r) => setTimeout(r, 1500));
  assert.not.match(tspod(['ps', '-a', '--no-trunc']).stdout, new RegExp(id));
  assert.is(tspod(['run', '-d', '--name', 'victim', image, 'sleep', '60']).status, 0);
  const rm = tspod(['rm', '-f', '-t', '0', 'victim']);
  assert.is(rm.status, 0, rm.stderr);
  assert.not.match(tspod(['ps', '-a']).stdout, /victim/);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(leftovers(), '');
});

test('a container killed from outside while no tspod runs shows as exited', async () => {
  const id = tspod(['run', '-d', '--name', 'outside', '--network', 'none', image, 'sleep', '60']).stdout.trim();
  const pid = fs.readFileSync(`/home/${TEST_USER}/.local/share/tspod/containers/${id}/userdata/pidfile`, 'utf8').trim();
  process.kill(Number(pid), 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  assert.match(tspod(['ps', '-a']).stdout, /Exited \(137\).*outside$/m);
  assert.is(tspod(['rm', 'outside']).status, 0);
});

test('exec joins a running container: output, exit codes, env, user, workdir, stdin, tty', () => {
  assert.is(tspod(['run', '-d', '--name', 'host', '-e', 'FROM_RUN=1', '--network', 'none', image, 'sleep', '60']).status, 0);
  const basic = tspod(['exec', 'host', 'sh', '-c', 'echo $FROM_RUN $FROM_EXEC; id -u; pwd; exit 6'], { env: {} });
  assert.is(basic.status, 6, basic.stderr);
  assert.is(basic.stdout, '1\n0\n/\n');
  const opts = tspod(['exec', '-e', 'FROM_EXEC=2', '-u', 'nobody', '-w', '/tmp', 'host', 'sh', '-c', 'echo $FROM_EXEC; id -un; pwd']);
  assert.is(opts.stdout, '2\nnobody\n/tmp\n', opts.stderr);
  assert.is(tspod(['exec', '-i', 'host', 'cat'], { input: 'piped\n' }).stdout, 'piped\n');
  const nf = tspod(['exec', 'host', 'no-such-tool']);
  assert.is(nf.status, 127);
  assert.match(nf.stderr, /not found/);
  const sees = tspod(['exec', 'host', 'ps', '-o', 'comm']);
  assert.match(sees.stdout, /sleep/, 'it shares the container\'s pid namespace');
  // exec -d leaves the caller's output alone: whoever reads it to its end (a shell's $(...)) is not held by the process.
  const t0 = Date.now();
  const detached = tspod(['exec', '-d', 'host', 'sh', '-c', 'echo never-seen; sleep 30'], { timeout: 20_000 });
  assert.is(detached.status, 0, detached.stderr);
  assert.ok(Date.now() - t0 < 10_000, `exec -d returned after ${Date.now() - t0} ms`);
  assert.not.match(detached.stdout, /never-seen/);
  assert.is(tspod(['rm', '-f', '-t', '0', 'host']).status, 0);
  const stopped = tspod(['exec', 'host', 'true']);
  assert.is(stopped.status, 125);
});

test('kill -s, rename, container inspect, container prune', () => {
  const id = tspod(['run', '-d', '--name', 'trapper', '--network', 'none', image, 'sh', '-c', 'trap "exit 9" HUP; while true; do sleep 0.1; done']).stdout.trim();
  const running = JSON.parse(tspod(['container', 'inspect', 'trapper']).stdout)[0];
  assert.is(running.Id, id);
  assert.is(running.Name, 'trapper');
  assert.equal([running.State.Status, running.State.Running], ['running', true]);
  assert.ok(running.State.Pid > 0);
  assert.is(running.HostConfig.NetworkMode, 'none');
  assert.is(tspod(['rename', 'trapper', 'renamed']).status, 0);
  assert.match(tspod(['ps']).stdout, /renamed$/m);
  assert.is(tspod(['container', 'inspect', 'trapper']).status, 125, 'the old name is free');
  assert.is(tspod(['kill', '-s', 'HUP', 'renamed']).status, 0);
  assert.is(tspod(['wait', 'renamed']).stdout, '9\n');
  assert.is(tspod(['container', 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id.slice(0, 8)]).stdout, 'exited 9\n');
  const notRunning = tspod(['kill', 'renamed']);
  assert.is(notRunning.status, 125);
  assert.match(notRunning.stderr, /container renamed is not running/);
  const keep = tspod(['run', '-d', '--name', 'still-up', '--network', 'none', image, 'sleep', '30']);
  assert.is(keep.status, 0, keep.stderr);
  const asked = tspod(['container', 'prune'], { input: 'n\n' });
  assert.match(asked.stdout, /^WARNING! This will remove all non running containers\.\n$/);
  assert.match(asked.stderr, /Are you sure you want to continue\? \[y\/N\] $/);
  assert.match(tspod(['ps', '-a', '--format', '{{.ID}}', '--no-trunc']).stdout, new RegExp(id), 'a no keeps them');
  const pruned = tspod(['container', 'prune'], { input: 'y\n' });
  assert.is(pruned.status, 0, pruned.stderr);
  assert.match(pruned.stdout, new RegExp(id));
  assert.equal(tspod(['ps', '-a', '--format', '{{.Names}}']).stdout.trim().split('\n'), ['still-up']);
  assert.is(tspod(['rm', '-f', '-t', '0', 'still-up']).status, 0);
});

test('labels, ps filters and -n', () => {
  assert.is(tspod(['run', '--name', 'lab-a', '--label', 'app=web', '--label', 'tier', '--network', 'none', image, 'true']).status, 0);
  assert.is(tspod(['run', '--name', 'lab-b', '-l', 'app=db', '--network', 'none', image, 'sh', '-c', 'exit 2']).status, 2, 'the container\'s own status');
  const names = (args: string[]) => tspod(['ps', '-a', '--format', '{{.Names}}', ...args]).stdout.trim().split('\n').filter(Boolean);
  assert.equal(names(['--filter', 'label=app=web']), ['lab-a']);
  assert.equal(names(['--filter', 'label=app']).sort(), ['lab-a', 'lab-b']);
  assert.equal(names(['--filter', 'label=tier']), ['lab-a']);
  assert.equal(names(['--filter', 'name=^lab-b$']), ['lab-b']);
  assert.equal(names(['--filter', 'status=exited', '--filter', 'label=app=db']), ['lab-b']);
  assert.equal(names(['--filter', 'ancestor=alpine:3.20']).sort(), ['lab-a', 'lab-b']);
  assert.equal(names(['-n', '1']), ['lab-b']);
  assert.is(tspod(['container', 'inspect', '--format', '{{json .Config.Labels}}', 'lab-a']).stdout, '{"app":"web","tier":""}\n');
  const bad = tspod(['ps', '--filter', 'color=red']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /^Error: invalid filter "color": ps filters on status, name, id/);
  assert.is(tspod(['rm', 'lab-a', 'lab-b']).status, 0);
});

test('top lists the container\'s processes; pause says why it cannot on rootless cgroup v1', () => {
  const id = tspod(['run', '-d', '--name', 'topper', '--network', 'none', image, 'sh', '-c', 'sleep 60 & sleep 61']).stdout.trim();
  const top = tspod(['top', 'topper']);
  assert.is(top.status, 0, top.stderr);
  // Podman's default descriptors: user pid ppid pcpu etime tty time args
  assert.match(top.stdout, /^USER\s+PID\s+PPID\s+%CPU\s+ELAPSED\s+TTY\s+TIME\s+COMMAND$/m);
  // pids as the container numbers them (sh execs its last command: pid 1 is sleep 61)
  assert.match(top.stdout, /^root\s+1\s+0\s+\d+\.\d{3}\s+\d+m\d+s\s+\?\s+0m0s\s+sleep 61$/m);
  assert.match(top.stdout, /^root\s+\d+\s+1\s+.*sleep 60$/m);
  const cgroupV2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  const pause = tspod(['pause', 'topper']);
  if (!cgroupV2) {
    assert.is(pause.status, 125);
    assert.match(pause.stderr, /no freezer cgroup on cgroup v1; pausing needs cgroup v2/);
  }
  assert.is(tspod(['rm', '-f', '-t', '0', id]).status, 0);
});

test('--log-opt max-size keeps a detached container\'s log bounded; unknown log options are refused', () => {
  const id = tspod(['run', '-d', '--log-opt', 'max-size=4k', '--network', 'none', image, 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo line-$i-padding-padding-padding; i=$((i+1)); done']).stdout.trim();
  assert.is(tspod(['wait', id]).stdout, '0\n');
  const size = fs.statSync(`/home/${TEST_USER}/.local/share/tspod/containers/${id}/userdata/ctr.log`).size;
  assert.ok(size <= 8192, `log is ${size} bytes`);
  assert.match(tspod(['logs', id]).stdout, /line-1999-padding/);
  assert.is(tspod(['rm', id]).status, 0);
  const bad = tspod(['run', '--log-opt', 'colour=blue', image, 'true']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /unsupported --log-opt "colour=blue"/);
});

test('rm -f stops a running container as Podman does: its stop signal first, SIGKILL after -t seconds (-t 0: at once)', async () => {
  const out = `/home/${TEST_USER}/rm-f-out`;
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out);
  spawnSync('chown', [`${TEST_USER}:`, out]);
  assert.is(tspod(['run', '-d', '--name', 'polite', '--network', 'none', '-v', `${out}:/out`, image, 'sh', '-c', 'trap "echo got-term > /out/signal; exit 0" TERM; echo up > /out/ready; while :; do sleep 0.1; done']).status, 0);
  for (let i = 0; i < 50 && !fs.existsSync(`${out}/ready`); i++) await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  assert.is(tspod(['rm', '-f', 'polite']).status, 0);
  assert.ok(Date.now() - t0 < 5000, 'the container ended on the signal, no need to wait for the grace time');
  assert.is(fs.readFileSync(`${out}/signal`, 'utf8'), 'got-term\n');
  assert.is(tspod(['run', '-d', '--name', 'stubborn-too', '--network', 'none', image, 'sleep', '60']).status, 0);
  const t1 = Date.now();
  assert.is(tspod(['rm', '-f', '-t', '1', 'stubborn-too']).status, 0);
  const took = Date.now() - t1;
  assert.ok(took >= 1000 && took < 5000, `sleep ignores SIGTERM as pid 1: SIGKILL after 1 s (took ${took} ms)`);
});

test('logs of several containers (or --names) prefix each line with whose it is; inspect -l is the newest container', () => {
  const a = tspod(['run', '--name', 'log-a', '--network', 'none', image, 'echo', 'from-a']).status;
  const b = tspod(['run', '--name', 'log-b', '--network', 'none', image, 'echo', 'from-b']).status;
  assert.equal([a, b], [0, 0]);
  const id = (n: string) => tspod(['inspect', '--format', '{{.Id}}', n]).stdout.trim().slice(0, 12);
  assert.equal(tspod(['logs', 'log-a', 'log-b']).stdout.split('\n').sort(), ['', `${id('log-a')} from-a`, `${id('log-b')} from-b`].sort());
  assert.is(tspod(['logs', '--names', 'log-a']).stdout, 'log-a from-a\n');
  assert.is(tspod(['inspect', '-l', '--format', '{{.Name}}']).stdout, 'log-b\n');
  assert.match(tspod(['inspect', '-l', 'log-a']).stderr, /^Error: --latest and containers cannot be used together/);
  assert.is(tspod(['rm', 'log-a', 'log-b']).status, 0);
});

test('twenty run -d at once, then twenty rm -f at once: unique names, nothing lost, nothing leaked', async () => {
  const { spawn } = await import('node:child_process');
  const { ROOT } = await import('../fixtures/world.js');
  const many = (args: (i: number) => string[]) => Promise.all(Array.from({ length: 20 }, (_, i) => new Promise<number>((resolve) => {
    spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=/home/${TEST_USER}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', `${ROOT}/bin/tspod`, ...args(i)], { stdio: 'ignore' })
      .on('exit', (code) => resolve(code ?? -1));
  })));
  const started = await many((i) => ['run', '-d', ...(i % 2 ? ['--name', `par-${i}`] : []), image, 'sleep', '60']);
  assert.equal(started, Array(20).fill(0));
  const list = JSON.parse(tspod(['ps', '--format', 'json']).stdout) as Array<{ Id: string; Names: string[]; State: string }>;
  assert.is(list.length, 20);
  assert.is(new Set(list.map((c) => c.Names[0])).size, 20, 'no duplicate names');
  assert.ok(list.every((c) => c.State === 'running'));
  const removed = await many((i) => ['rm', '-f', '-t', '0', list[i].Id]);
  assert.equal(removed, Array(20).fill(0));
  assert.is(tspod(['ps', '-a', '-q']).stdout, '');
  await new Promise((r) => setTimeout(r, 500));
  assert.is(leftovers(), '');
  assert.equal(fs.readdirSync(`/home/${TEST_USER}/.local/share/tspod/containers`), []);
});

test.run();
