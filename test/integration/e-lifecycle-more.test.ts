// create/start/restart, restart policies, attach, logs --since/--until, volumes, per-container locks
// under concurrent stop + rm -f.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { getWorld, tspod, tspodCommand, TEST_USER, ROOT } from '../fixtures/world.js';

let image = '';
let registry = '';
test.before(async () => {
  registry = (await getWorld()).registry;
  image = `${registry}/alpine:3.20`;
  assert.is(tspod(['pull', '-q', image]).status, 0);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uid = () => spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout.trim();
function leftoverMounts(): string {
  const pid = fs.readFileSync(`/tmp/tspod-run-${uid()}/pause.pid`, 'utf8').split(' ')[0];
  return fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter((l) => /containers\/[a-f0-9]+\/merged|tspod-run-\d+\/netns\//.test(l)).join('\n');
}
const field = (ref: string, template: string) => tspod(['inspect', '--format', template, ref]).stdout.trim();

test('create, then start -a (exit code and output), start in the background, restart', async () => {
  // The upper layer persists from one start to the next: the second run knows it is the second.
  const id = tspod(['create', '--name', 'made', '--network', 'none', image, 'sh', '-c', 'if [ -e /ran ]; then echo second run; else touch /ran; echo first run; fi; exit 7']).stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  assert.match(tspod(['ps', '-a']).stdout, /Created\s+made$/m);
  assert.is(field('made', '{{.State.Status}}'), 'created');
  const attached = tspod(['start', '-a', 'made']);
  assert.is(attached.status, 7, attached.stderr);
  assert.is(attached.stdout, 'first run\n');
  assert.is(tspod(['start', 'made']).stdout, 'made\n');
  assert.is(tspod(['wait', 'made']).stdout, '7\n');
  // Both runs are in the log: the attached one (through tspod) and the detached one (through conmon).
  assert.is(tspod(['logs', 'made']).stdout, 'first run\nsecond run\n');
  // A long-running one: restart gives it a new process.
  assert.is(tspod(['create', '--name', 'server', '--network', 'none', image, 'sleep', '60']).status, 0);
  assert.is(tspod(['start', 'server']).status, 0);
  const pid1 = field('server', '{{.State.Pid}}');
  const again = tspod(['start', 'server']);
  assert.is(again.status, 125);
  assert.match(again.stderr, /already running/);
  assert.is(tspod(['restart', '-t', '1', 'server']).status, 0);
  const pid2 = field('server', '{{.State.Pid}}');
  assert.is(field('server', '{{.State.Status}}'), 'running');
  assert.ok(pid1 !== pid2 && Number(pid2) > 0, `${pid1} -> ${pid2}`);
  assert.is(tspod(['rm', '-f', '-t', '0', 'made', 'server']).status, 0);
  await sleep(300);
  assert.is(leftoverMounts(), '');
});

test('a foreground run keeps its output in the log too, by stream; a closed reader ends the container', () => {
  const r = tspod(['run', '--name', 'fg-log', '--network', 'none', image, 'sh', '-c', 'echo out; echo err >&2; printf partial']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'out\npartial');
  assert.is(r.stderr, 'err\n');
  const logs = tspod(['logs', 'fg-log']);
  assert.is(logs.stdout, 'out\npartial');
  assert.is(logs.stderr, 'err\n');
  assert.is(tspod(['rm', 'fg-log']).status, 0);
  // `yes | head -1`: once head exits, the container must end rather than write forever.
  const home = `/home/${TEST_USER}`;
  const piped = spawnSync('runuser', ['-u', TEST_USER, '--', 'sh', '-c', `env -i HOME=${home} PATH=/usr/bin:/bin ${ROOT}/bin/tspod run --rm --network none ${image} yes | head -1`], { encoding: 'utf8', timeout: 20_000 });
  assert.is(piped.stdout, 'y\n');
  assert.is(piped.error, undefined, 'it ended on its own');
});

test('rename of a running foreground container survives its exit (the record is updated under its lock)', async () => {
  const run = spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=/home/${TEST_USER}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', `${ROOT}/bin/tspod`,
    'run', '--name', 'fg-old', '--network', 'none', image, 'sleep', '2'], { stdio: 'ignore' });
  const exited = new Promise((r) => run.on('exit', r));
  for (let i = 0; i < 50 && !/fg-old/.test(tspod(['ps']).stdout); i++) await sleep(100);
  assert.is(tspod(['rename', 'fg-old', 'fg-new']).status, 0);
  await exited;
  assert.match(tspod(['ps', '-a']).stdout, /Exited \(0\).*fg-new$/m);
  assert.not.match(tspod(['ps', '-a']).stdout, /fg-old/);
  assert.is(tspod(['rm', 'fg-new']).status, 0);
});

test('--restart on-failure:2 runs three times; always is stopped for good by stop; --rm conflicts', async () => {
  assert.is(tspod(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', '--network', 'none', image, 'sh', '-c', 'echo attempt; exit 3']).status, 0);
  for (let i = 0; i < 60 && field('flaky', '{{.State.Status}} {{.RestartCount}}') !== 'exited 2'; i++) await sleep(100);
  assert.is(field('flaky', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}'), 'exited 2 3 on-failure');
  assert.is(tspod(['logs', 'flaky']).stdout, 'attempt\nattempt\nattempt\n');

  assert.is(tspod(['run', '-d', '--name', 'phoenix', '--restart', 'always', '--network', 'none', image, 'sh', '-c', 'sleep 0.3; echo up']).status, 0);
  for (let i = 0; i < 60 && Number(field('phoenix', '{{.RestartCount}}')) < 2; i++) await sleep(100);
  assert.ok(Number(field('phoenix', '{{.RestartCount}}')) >= 2, 'always restarts a container that exits 0');
  assert.is(tspod(['stop', '-t', '1', 'phoenix']).status, 0);
  await sleep(1500);
  const status = field('phoenix', '{{.State.Status}}');
  assert.is(status, 'exited', 'a stopped container stays stopped');
  const count = field('phoenix', '{{.RestartCount}}');
  await sleep(800);
  assert.is(field('phoenix', '{{.RestartCount}}'), count);

  // In the foreground the watching tspod applies the policy itself, then exits with the last code.
  const fg = tspod(['run', '--name', 'fg-flaky', '--restart', 'on-failure:1', '--network', 'none', image, 'sh', '-c', 'echo try; exit 4']);
  assert.is(fg.status, 4, fg.stderr);
  assert.is(fg.stdout, 'try\ntry\n');
  assert.is(tspod(['rm', 'fg-flaky']).status, 0);

  const bad = tspod(['run', '--rm', '--restart', 'always', image, 'true']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /--rm conflicts with --restart/);
  const typo = tspod(['run', '--restart', 'sometimes', image, 'true']);
  assert.is(typo.status, 125);
  assert.match(typo.stderr, /invalid --restart policy "sometimes"/);
  assert.is(tspod(['rm', '-f', '-t', '0', 'flaky', 'phoenix']).status, 0);
});

test('attach: input to a run -di container, its output by stream, its exit code; a terminal with run -dit', () => {
  assert.is(tspod(['run', '-di', '--name', 'reader', '--network', 'none', image, 'sh', '-c', 'read line; echo got $line; echo oops >&2; exit 5']).status, 0);
  const r = tspod(['attach', 'reader'], { input: 'hello\n', timeout: 15_000 });
  assert.is(r.status, 5, r.stderr);
  assert.is(r.stdout, 'got hello\n');
  assert.is(r.stderr, 'oops\n');
  assert.is(tspod(['run', '-dit', '--name', 'shell', '--network', 'none', image, 'sh']).status, 0);
  const t = tspod(['attach', 'shell'], { input: 'echo sum=$((40+2))\nexit 4\n', timeout: 15_000 });
  assert.is(t.status, 4, t.stderr);
  assert.match(t.stdout, /sum=42\r\n/, 'the terminal turns \\n into \\r\\n');
  assert.is(field('shell', '{{.Config.Tty}}'), 'true');
  const gone = tspod(['attach', 'shell']);
  assert.is(gone.status, 125);
  assert.match(gone.stderr, /not running/);
  assert.is(tspod(['rm', 'reader', 'shell']).status, 0);
});

/** Run tspod with a terminal of ROWS x COLS on its stdin only (stdout stays a pipe), as `podman run -it ... <$PTY` in Podman's tests. */
function withTerminalStdin(rows: number, cols: number, args: string[]) {
  const py = 'import os,sys,fcntl,termios,struct,subprocess\n'
    + 'm,s=os.openpty()\n'
    + 'fcntl.ioctl(s,termios.TIOCSWINSZ,struct.pack("HHHH",int(sys.argv[1]),int(sys.argv[2]),0,0))\n'
    + 'sys.exit(subprocess.run(sys.argv[3:],stdin=s).returncode)\n';
  const r = spawnSync('python3', ['-c', py, String(rows), String(cols), ...tspodCommand(args)], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

test('run -t in the foreground: conmon\'s pty, sized from a terminal on stdin alone, \\r\\n as in Podman, logged; --rm still removes', () => {
  const sized = withTerminalStdin(21, 60, ['run', '-it', '--rm', '--name', 'sized', '--network', 'none', image, 'stty', 'size']);
  assert.is(sized.status, 0, sized.stderr);
  assert.is(sized.stdout, '21 60\r\n');
  assert.is(tspod(['container', 'exists', 'sized']).status, 1, '--rm removed it once its exit code was read');
  const plain = tspod(['run', '-t', '--name', 'ttylog', '--network', 'none', image, 'sh', '-c', 'echo hello; exit 3']);
  assert.is(plain.status, 3, plain.stderr);
  assert.is(plain.stdout, 'hello\r\n');
  assert.is(tspod(['logs', 'ttylog']).stdout, 'hello\r\n', 'a terminal container\'s output is in its log too');
  assert.is(field('ttylog', '{{.State.ExitCode}} {{.Config.Tty}}'), '3 true');
  assert.is(tspod(['rm', 'ttylog']).status, 0);
});

test('--timeout kills the container after N seconds: exit 255, ExitCode -1, attached and detached', async () => {
  const t0 = Date.now();
  const fg = tspod(['run', '--timeout', '2', '--name', 'limited', '--network', 'none', image, 'sh', '-c', 'trap "echo caught" TERM; sleep 60 & wait']);
  const took = Date.now() - t0;
  assert.is(fg.status, 255, fg.stderr);
  assert.ok(took >= 1900 && took < 10_000, `took ${took} ms`);
  assert.not.match(fg.stdout, /caught/, 'SIGKILL, which no trap sees');
  assert.is(field('limited', '{{.State.Status}} {{.State.ExitCode}}'), 'exited -1');
  assert.is(tspod(['run', '-d', '--timeout', '1', '--name', 'limited-d', '--network', 'none', image, 'sleep', '60']).status, 0);
  await sleep(2500);
  assert.is(field('limited-d', '{{.State.Status}} {{.State.ExitCode}}'), 'exited -1');
  const bad = tspod(['run', '--timeout', 'soon', image, 'true']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /invalid argument "soon" for "--timeout"/);
  assert.is(tspod(['rm', 'limited', 'limited-d']).status, 0);
});

test('ps --ns shows the pid and namespaces of running containers; inspect --size and ps --size their bytes', async () => {
  assert.is(tspod(['run', '-d', '--name', 'nsbox', '--network', 'none', image, 'sh', '-c', 'head -c 5000 /dev/zero > /blob; sleep 60']).status, 0);
  const pid = field('nsbox', '{{.State.Pid}}');
  const ns = tspod(['ps', '--ns']).stdout.split('\n');
  assert.match(ns[0], /^CONTAINER ID +NAMES +PID +CGROUPNS +IPC +MNT +NET +PIDNS +USERNS +UTS$/);
  const row = ns.find((l) => / nsbox /.test(l))!.split(/ +/);
  assert.is(row[2], pid);
  const inode = (name: string) => /\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/${name}`))![1];
  assert.equal(row.slice(3), ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'].map(inode));
  const sizesNow = () => tspod(['inspect', '--size', '--format', '{{.SizeRw}} {{.SizeRootFs}}', 'nsbox']).stdout.trim().split(' ').map(Number);
  let sizes = sizesNow();
  for (let i = 0; i < 50 && sizes[0] < 5000; i++) { await sleep(100); sizes = sizesNow(); }
  assert.ok(sizes[0] >= 5000 && sizes[0] < 20_000, `SizeRw ${sizes[0]}`);
  assert.ok(sizes[1] > sizes[0] + 1_000_000, `SizeRootFs ${sizes[1]}`);
  assert.match(tspod(['ps', '--size', '--format', '{{.Size}}']).stdout, /^\d+(\.\d+)?kB \(virtual \d+(\.\d+)?MB\)\n$/);
  assert.is(tspod(['rm', '-f', '-t', '0', 'nsbox']).status, 0);
});

test('attach passes the signals it receives on to the container (--sig-proxy)', async () => {
  assert.is(tspod(['run', '-d', '--name', 'trapper2', '--network', 'none', image, 'sh', '-c', 'trap "echo got-term; exit 9" TERM; while true; do sleep 0.1; done']).status, 0);
  const attach = spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=/home/${TEST_USER}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', `${ROOT}/bin/tspod`, 'attach', 'trapper2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  attach.stdout!.on('data', (d: Buffer) => { out += d; });
  const code = new Promise<number>((resolve) => attach.on('exit', (c) => resolve(c ?? -1)));
  await sleep(1500);
  spawnSync('pkill', ['-TERM', '-u', TEST_USER, '-f', 'tspod.cjs attach trapper2']);
  assert.is(await code, 9, 'attach exits with the container\'s code');
  assert.is(out, 'got-term\n');
  assert.is(tspod(['rm', 'trapper2']).status, 0);
});

test('logs --since and --until select lines by their time', async () => {
  assert.is(tspod(['run', '-d', '--name', 'clock', '--network', 'none', image, 'sh', '-c', 'echo early; sleep 1.5; echo late']).status, 0);
  assert.is(tspod(['wait', 'clock']).stdout, '0\n');
  const stamps = tspod(['logs', '-t', 'clock']).stdout.trim().split('\n').map((l) => l.split(' ')[0]);
  assert.is(stamps.length, 2);
  const middle = new Date((Date.parse(stamps[0]) + Date.parse(stamps[1])) / 2).toISOString();
  assert.is(tspod(['logs', '--since', middle, 'clock']).stdout, 'late\n');
  assert.is(tspod(['logs', '--until', middle, 'clock']).stdout, 'early\n');
  assert.is(tspod(['logs', '--since', '10m', 'clock']).stdout, 'early\nlate\n');
  assert.is(tspod(['logs', '--since', String(Math.floor(Date.now() / 1000) + 60), 'clock']).stdout, '');
  const bad = tspod(['logs', '--since', 'yesterday-ish', 'clock']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /cannot read the time "yesterday-ish"/);
  assert.is(tspod(['rm', 'clock']).status, 0);
});

test('volumes: named ones persist, binds (ro too), anonymous ones from -v and the image go with rm -v', () => {
  const home = `/home/${TEST_USER}`;
  const bind = `${home}/bind-src`;
  spawnSync('runuser', ['-u', TEST_USER, '--', 'sh', '-c', `rm -rf ${bind}; mkdir -p ${bind} && echo from-host > ${bind}/f`]);
  const w = tspod(['run', '--rm', '--network', 'none', '-v', 'keep:/data', '-v', `${bind}:/h`, '-v', `${bind}:/hro:ro`, image, 'sh', '-c', 'echo saved > /data/x; cat /h/f; echo back > /h/g; touch /hro/nope']);
  assert.is(w.status, 1, 'writing to the read-only bind fails');
  assert.is(w.stdout, 'from-host\n');
  assert.match(w.stderr, /Read-only file system/);
  assert.is(fs.readFileSync(`${bind}/g`, 'utf8'), 'back\n');
  assert.is(tspod(['run', '--rm', '--network', 'none', '-v', 'keep:/data', image, 'cat', '/data/x']).stdout, 'saved\n');
  assert.match(tspod(['volume', 'ls', '-q']).stdout, /^keep$/m);

  // The image declares VOLUME /var/lib/app with a file in it: the anonymous volume starts with a copy.
  const withVol = tspod(['run', '--name', 'dbish', '--network', 'none', '-v', '/scratch', `${registry}/volume:latest`, 'sh', '-c', 'cat /var/lib/app/seed.txt; echo new > /var/lib/app/more']);
  assert.is(withVol.status, 0, withVol.stderr);
  assert.is(withVol.stdout, 'seeded\n');
  const mounts = JSON.parse(tspod(['inspect', '--format', '{{json .Mounts}}', 'dbish']).stdout) as Array<{ Name: string; Destination: string; Source: string }>;
  assert.equal(mounts.map((m) => m.Destination).sort(), ['/scratch', '/var/lib/app']);
  const appVol = mounts.find((m) => m.Destination === '/var/lib/app')!;
  assert.is(fs.readFileSync(`${appVol.Source}/more`, 'utf8'), 'new\n');
  assert.is(tspod(['rm', '-v', 'dbish']).status, 0);
  assert.not.ok(fs.existsSync(appVol.Source), 'rm -v removed the anonymous volumes');
  assert.equal(tspod(['volume', 'ls', '-q']).stdout.trim().split('\n'), ['keep']);

  // Plain rm keeps anonymous volumes; --rm removes them.
  assert.is(tspod(['run', '--name', 'keeper', '--network', 'none', '-v', '/anon', image, 'true']).status, 0);
  assert.is(tspod(['rm', 'keeper']).status, 0);
  assert.is(tspod(['volume', 'ls', '-q']).stdout.trim().split('\n').length, 2);
  // prune removes every volume no container uses, named ones too (as Podman 4 does).
  const asked = tspod(['volume', 'prune']);
  assert.match(asked.stdout, /^WARNING! This will remove all volumes not used by at least one container\. The following volumes will be removed:\n/);
  assert.is(tspod(['volume', 'prune', '-f']).stdout.trim().split('\n').length, 2, 'nothing went without a yes; -f removes them');
  assert.is(tspod(['volume', 'ls', '-q']).stdout, '');
  assert.is(tspod(['volume', 'create', 'keep']).stdout, 'keep\n');
  assert.is(tspod(['run', '--rm', '--network', 'none', '-v', '/anon', image, 'true']).status, 0);
  assert.equal(tspod(['volume', 'ls', '-q']).stdout.trim().split('\n'), ['keep']);

  const inUse = tspod(['run', '-d', '--name', 'holder', '--network', 'none', '-v', 'keep:/data', image, 'sleep', '30']);
  assert.is(inUse.status, 0, inUse.stderr);
  const refused = tspod(['volume', 'rm', 'keep']);
  assert.is(refused.status, 2, 'Podman\'s status for a volume a running container uses');
  assert.match(refused.stderr, /^Error: volume keep is being used by the following container\(s\): [a-f0-9]{64}: volume is being used\n$/);
  assert.is(tspod(['volume', 'exists', 'keep']).status, 0);
  assert.is(tspod(['container', 'exists', 'holder']).status, 0);
  assert.is(tspod(['container', 'exists', 'no-such-holder']).status, 1);
  const noVolume = tspod(['volume', 'rm', 'no-such-volume']);
  assert.equal([noVolume.status, noVolume.stderr], [1, 'Error: no volume with name "no-such-volume" found: no such volume\n']);
  assert.equal(tspod(['volume', 'rm', '--force', 'no-such-volume']).stdout, '');
  assert.is(tspod(['volume', 'exists', 'no-such-volume']).status, 1);
  assert.is(tspod(['rm', '-f', '-t', '0', 'holder']).status, 0);
  assert.is(tspod(['volume', 'rm', 'keep']).status, 0);
  const missing = tspod(['run', '--rm', '-v', '/no/such/dir:/x', image, 'true']);
  assert.is(missing.status, 125);
  assert.match(missing.stderr, /bind mount source \/no\/such\/dir does not exist/);
  const relative = tspod(['run', '--rm', '-v', 'data:rel', image, 'true']);
  assert.is(relative.status, 125);
  assert.match(relative.stderr, /is not absolute/);
});

test('volume create -o type=tmpfs|bind,device=DIR, and Podman\'s copy-up and chown flags', () => {
  assert.is(tspod(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'tmpvol']).stdout, 'tmpvol\n');
  assert.is(tspod(['run', '--rm', '--network', 'none', '-v', 'tmpvol:/vol', image, 'stat', '-f', '-c', '%T', '/vol']).stdout, 'tmpfs\n');
  const bogus = tspod(['volume', 'create', '-o', 'type=bind', '-o', 'device=/bogus', 'bindvol']);
  assert.equal([bogus.status, bogus.stderr], [125, "Error: invalid volume option device for driver 'local': stat /bogus: no such file or directory\n"]);
  const dir = `/home/${TEST_USER}/bindvol-dir`;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${dir}/here`, 'x');
  spawnSync('chown', ['-R', `${TEST_USER}:`, dir]);
  assert.is(tspod(['volume', 'create', '-o', 'type=bind', '-o', `device=${dir}`, 'bindvol']).status, 0);
  assert.is(tspod(['run', '--rm', '--network', 'none', '-v', 'bindvol:/vol', image, 'cat', '/vol/here']).stdout, 'x');
  assert.match(tspod(['volume', 'create', 'bindvol']).stderr, /^Error: volume with name bindvol already exists/);
  assert.is(tspod(['volume', 'create', 'copyvol']).status, 0);
  const flags = () => tspod(['volume', 'inspect', '--format', '{{.NeedsCopyUp}} {{.NeedsChown}}', 'copyvol']).stdout;
  assert.is(flags(), 'true true\n');
  tspod(['run', '--rm', '--network', 'none', '-v', 'copyvol:/mnt', image, 'true']);
  assert.is(flags(), 'true false\n', 'an empty directory copies nothing: copy-up is still to come; the chown happened');
  assert.is(tspod(['run', '--rm', '--network', 'none', '-v', 'copyvol:/etc', image, 'ls', '/etc/passwd']).stdout, '/etc/passwd\n');
  assert.is(flags(), 'false false\n');
  // export, then import into another volume (owners inside kept)
  const tar = `/home/${TEST_USER}/copyvol-${process.pid}.tar`;
  assert.is(tspod(['run', '--rm', '--network', 'none', '-v', 'copyvol:/data', image, 'sh', '-c', 'echo hello > /data/test; chown 123:456 /data/test']).status, 0);
  assert.is(tspod(['volume', 'export', 'copyvol', `--output=${tar}`]).status, 0);
  assert.is(tspod(['volume', 'create', 'copyvol2']).status, 0);
  assert.is(tspod(['volume', 'import', 'copyvol2', '-'], { input: fs.readFileSync(tar, 'latin1') }).status, 0);
  assert.is(tspod(['run', '--rm', '--network', 'none', '-v', 'copyvol2:/data', image, 'stat', '-c', '%u:%g %s', '/data/test']).stdout, '123:456 6\n');
  const bad = tspod(['volume', 'import', 'copyvol2', '-'], { input: 'not a tar archive at all' });
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /^Error: volume import of copyvol2 failed: /);
  fs.rmSync(tar, { force: true });
  for (const v of ['tmpvol', 'bindvol', 'copyvol', 'copyvol2']) assert.is(tspod(['volume', 'rm', v]).status, 0);
  assert.ok(fs.existsSync(`${dir}/here`), 'removing a bind volume leaves its directory');
});

test('-v SRC:DEST:U gives the source to the container\'s user (recursively, when its top is not theirs yet); unshare runs a command in tspod\'s user namespace', () => {
  const dir = `/home/${TEST_USER}/u-volume-${process.pid}`;
  spawnSync('runuser', ['-u', TEST_USER, '--', 'sh', '-c', `mkdir -p ${dir} && touch ${dir}/f`]);
  const first = tspod(['run', '--name', 'uvol', '--network', 'none', '--user', '1000:2000', '-v', `${dir}:/data:U`, image, 'stat', '-c', '%u:%g', '/data']);
  assert.equal([first.status, first.stdout], [0, '1000:2000\n'], first.stderr);
  assert.is(tspod(['unshare', 'stat', '-c', '%u:%g', `${dir}/f`]).stdout, '1000:2000\n', 'recursively');
  assert.is(tspod(['unshare', 'chown', '100:200', `${dir}/f`]).status, 0);
  assert.is(tspod(['start', '--attach', 'uvol']).stdout, '1000:2000\n');
  assert.is(tspod(['unshare', 'stat', '-c', '%u:%g', `${dir}/f`]).stdout, '100:200\n', 'the top was theirs already: nothing below changed');
  assert.is(tspod(['unshare', 'sh', '-c', 'exit 7']).status, 7);
  assert.is(tspod(['rm', 'uvol']).status, 0);
  tspod(['unshare', 'rm', '-rf', dir]);
});

test('twenty run -d, then twenty stop racing twenty rm -f on the same containers: consistent, nothing leaked', async () => {
  const shell = (args: string[]) => new Promise<number>((resolve) => {
    spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=/home/${TEST_USER}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', `${ROOT}/bin/tspod`, ...args], { stdio: 'ignore' })
      .on('exit', (code) => resolve(code ?? -1));
  });
  const started = await Promise.all(Array.from({ length: 20 }, (_, i) => shell(['run', '-d', '--name', `race-${i}`, '--network', 'none', image, 'sleep', '60'])));
  assert.equal(started, Array(20).fill(0));
  const names = Array.from({ length: 20 }, (_, i) => `race-${i}`);
  const [stops, removes] = await Promise.all([
    Promise.all(names.map((n) => shell(['stop', '-t', '1', n]))),
    Promise.all(names.map((n) => shell(['rm', '-f', '-t', '0', n]))),
  ]);
  assert.equal(removes, Array(20).fill(0), 'every rm -f succeeds');
  assert.ok(stops.every((c) => c === 0 || c === 125), `stop either stopped it or found it gone: ${stops}`);
  assert.is(tspod(['ps', '-a', '-q']).stdout, '');
  await sleep(500);
  assert.is(leftoverMounts(), '');
  assert.equal(fs.readdirSync(`/home/${TEST_USER}/.local/share/tspod/containers`), []);
  assert.equal(fs.readdirSync(`/home/${TEST_USER}/.local/share/tspod/names`), []);
});

test.run();
