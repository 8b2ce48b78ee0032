// Run real containers with runc as the unprivileged user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { getWorld, tspod, TEST_USER, ROOT } from '../fixtures/world.js';

const STORE = `/home/${TEST_USER}/.local/share/tspod`;
let reg = '';
test.before(async () => {
  reg = (await getWorld()).registry;
  for (const i of ['alpine:3.20', 'layered', 'entrypoint']) assert.is(tspod(['pull', '-q', `${reg}/${i}`]).status, 0);
});

const run = (args: string[], opts = {}) => tspod(['run', '--rm', ...args], opts);

test('output and exit status pass through', () => {
  const r = run(['--network', 'none', 'alpine:3.20', 'sh', '-c', 'echo out; echo err >&2; exit 42']);
  assert.is(r.stdout, 'out\n');
  assert.match(r.stderr, /^err$/m);
  assert.is(r.status, 42);
});

test('127 when the command is not found, 126 when it cannot be invoked', () => {
  const nf = run(['--network', 'none', 'alpine:3.20', 'no-such-command']);
  assert.is(nf.status, 127);
  assert.match(nf.stderr, /^Error: executable file "no-such-command" not found in \$PATH/m);
  const ni = run(['--network', 'none', 'alpine:3.20', '/etc/hostname']);
  assert.is(ni.status, 126);
  assert.match(ni.stderr, /permission denied/);
});

test('125 for tspod\'s own failures: unknown image, --pull=never, bad flags', () => {
  const unknown = run(['--network', 'none', `${reg}/nope:1`, 'true']);
  assert.is(unknown.status, 125);
  assert.match(unknown.stderr, /manifest unknown/);
  const never = run(['--pull=never', 'never-pulled-image', 'true']);
  assert.is(never.status, 125);
  assert.match(never.stderr, /^Error: never-pulled-image: image not known\n$/);
});

test('env: image Env, -e, --env-file, PATH and HOSTNAME', () => {
  const envFile = '/tmp/tspod-test.env';
  fs.writeFileSync(envFile, '# comment\nFROM_FILE=yes\nOVERRIDE=file\n');
  fs.chmodSync(envFile, 0o644);
  const r = run(['--network', 'none', '--hostname', 'box', '--env-file', envFile, '-e', 'OVERRIDE=flag', '-e', 'EMPTY=', 'alpine:3.20', 'env']);
  assert.is(r.status, 0, r.stderr);
  for (const line of ['FROM_FILE=yes', 'OVERRIDE=flag', 'EMPTY=', 'HOSTNAME=box', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root']) {
    assert.ok(r.stdout.split('\n').includes(line), `${line} in\n${r.stdout}`);
  }
});

test('relative paths (--env-file, -v ./dir) are read from the directory tspod was started in', () => {
  const home = `/home/${TEST_USER}`;
  const dir = fs.mkdtempSync(path.join(home, 'tspod-cwd-'));
  fs.writeFileSync(path.join(dir, 'vars.env'), 'FROM_CWD=yes\n');
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'note'), 'hello\n');
  spawnSync('chown', ['-R', `${TEST_USER}:`, dir]);
  try {
    const r = run(['--network', 'none', '--env-file', './vars.env', '-v', './data:/data', 'alpine:3.20', 'sh', '-c', 'echo $FROM_CWD; cat /data/note'], { cwd: dir });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'yes\nhello\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('user by name and by id, resolved through the image\'s passwd and group', () => {
  assert.is(run(['--network', 'none', '-u', 'nobody', 'alpine:3.20', 'id']).stdout, 'uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n');
  assert.is(run(['--network', 'none', '-u', '1000:1000', 'alpine:3.20', 'id', '-u']).stdout, '1000\n');
  const root = run(['--network', 'none', 'alpine:3.20', 'id']).stdout;
  assert.match(root, /^uid=0\(root\) gid=0\(root\) groups=0\(root\),1\(bin\).*10\(wheel\)/);
  const bad = run(['--network', 'none', '-u', 'ghost', 'alpine:3.20', 'id']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /unable to find user ghost/);
});

test('working directory: -w (which must exist, as in Podman), the image\'s WorkingDir (created when missing)', () => {
  assert.is(run(['--network', 'none', '-w', '/usr/lib', 'alpine:3.20', 'pwd']).stdout, '/usr/lib\n');
  assert.is(run(['--network', 'none', '-w', '/new/dir', 'alpine:3.20', 'pwd']).status, 126);
  assert.is(run(['--network', 'none', '--entrypoint', 'pwd', 'entrypoint']).stdout, '/srv\n');
});

test('Entrypoint and Cmd as Docker combines them', () => {
  assert.is(run(['--network', 'none', 'entrypoint']).stdout, 'entry: default-cmd\n');
  assert.is(run(['--network', 'none', 'entrypoint', 'x', 'y']).stdout, 'entry: x y\n');
  assert.is(run(['--network', 'none', '--entrypoint', '', 'entrypoint', 'echo', 'plain']).stdout, 'plain\n');
  assert.is(run(['--network', 'none', '-u', '0', 'entrypoint', 'as', 'root']).stdout, 'entry: as root\n');
});

test('--network none leaves only lo; the default network has an interface, resolv.conf and hosts', () => {
  const none = run(['--network', 'none', 'alpine:3.20', 'ls', '/sys/class/net']);
  assert.is(none.stdout, 'lo\n', none.stderr);
  const def = run(['--hostname', 'web', 'alpine:3.20', 'sh', '-c', 'ls /sys/class/net; cat /etc/resolv.conf /etc/hosts /etc/hostname; ip route']);
  assert.is(def.status, 0, def.stderr);
  assert.match(def.stdout, /^(eth0|tap0)$/m);
  assert.match(def.stdout, /^nameserver \S+$/m);
  assert.match(def.stdout, /^127\.0\.0\.1\s+localhost/m);
  assert.match(def.stdout, /\sweb\s/);
  assert.match(def.stdout, /^web$/m);
  assert.match(def.stdout, /^default via /m);
  // As Podman's default: slirp4netns, and the host's loopback (the registry listens on 127.0.0.1) out of reach.
  const port = reg.split(':')[1];
  const loop = run(['alpine:3.20', 'sh', '-c', `ip -4 addr show tap0 | grep -o 'inet [0-9./]*'; wget -q -T 2 -O /dev/null http://10.0.2.2:${port}/v2/ && echo reached || echo refused`]);
  assert.is(loop.stdout, 'inet 10.0.2.100/24\nrefused\n', loop.stderr);
  const slirp = run(['--network', 'slirp4netns', 'alpine:3.20', 'sh', '-c', 'ip -4 addr show tap0; cat /etc/resolv.conf']);
  assert.match(slirp.stdout, /inet 10\.0\.2\.100\/24/, slirp.stderr);
  assert.match(slirp.stdout, /nameserver 10\.0\.2\.3/);
  const host = run(['--network', 'host', 'alpine:3.20', 'cat', '/proc/net/dev']);
  assert.ok(host.stdout.split('\n').length > 4, 'the host\'s interfaces are visible');
});

test('files of the layered image: owners, whiteouts, opaque dirs, links, setuid, long names, xattrs', () => {
  const r = run(['--network', 'none', 'layered', 'sh', '-c',
    'stat -c "%n %u:%g %a %h" /data/owned-by-1000 /data/owned-by-100-101 /data/setuid-tool /data/sticky /data/original /data/hardlink; ' +
    'ls /opaque; ls /data/doomed /etc/motd 2>&1; readlink /data/symlink; cat /data/long-name-*end']);
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^\/data\/owned-by-1000 1000:1000 644 1$/m);
  assert.match(out, /^\/data\/owned-by-100-101 100:101 644 1$/m);
  assert.match(out, /^\/data\/setuid-tool 0:0 4755 1$/m);
  assert.match(out, /^\/data\/sticky 0:0 1777 2$/m);
  assert.match(out, /^\/data\/original 0:0 644 2$/m);
  assert.match(out, /^\/data\/hardlink 0:0 644 2$/m);
  assert.match(out, /^new$/m, 'the opaque dir shows only the upper layer');
  assert.not.match(out, /old-a/);
  assert.match(out, /\/data\/doomed: No such file or directory/);
  assert.match(out, /\/etc\/motd: No such file or directory/);
  assert.match(out, /^original$/m);
  assert.match(out, /^pax$/m);
  // On the host the owners land in the subordinate range: container 1000 is subuid start + 999.
  const subStart = Number(fs.readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith(`${TEST_USER}:`))!.split(':')[1]);
  const images = JSON.parse(fs.readFileSync(path.join(STORE, 'images.json'), 'utf8')).images as Array<{ names: string[]; layers: string[] }>;
  const layer2 = images.find((i) => i.names.some((n) => n.endsWith('/layered:latest')))!.layers[1].slice(7);
  const hostFile = path.join(STORE, 'layers', layer2, 'diff/data/owned-by-1000');
  assert.is(fs.statSync(hostFile).uid, subStart + 999);
  const xattr = spawnSync('python3', ['-c', `import os; print(os.getxattr(${JSON.stringify(path.join(STORE, 'layers', layer2, 'diff/data/with-xattr'))}, "user.tspod").decode())`], { encoding: 'utf8' });
  assert.is(xattr.stdout, 'kept\n', xattr.stderr);
});

test('--read-only: the root is read-only, /tmp is writable', () => {
  const r = run(['--network', 'none', '--read-only', 'alpine:3.20', 'sh', '-c', 'touch /x 2>&1; touch /tmp/ok && echo tmp-ok']);
  assert.match(r.stdout, /Read-only file system/);
  assert.match(r.stdout, /tmp-ok/);
});

test('stdin: closed without -i, passed with -i', () => {
  assert.is(run(['--network', 'none', 'alpine:3.20', 'cat'], { input: 'ignored\n' }).stdout, '');
  assert.is(run(['-i', '--network', 'none', 'alpine:3.20', 'cat'], { input: 'hello\n' }).stdout, 'hello\n');
});

test('-t gives a terminal with the caller\'s size', () => {
  const cmd = `stty cols 111 rows 33; ${path.join(ROOT, 'bin/tspod')} run --rm -it --network none alpine:3.20 sh -c 'tty; stty size; echo $TERM'`;
  const r = spawnSync('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=/home/${TEST_USER}`, 'PATH=/usr/bin:/bin', 'TERM=xterm', 'script', '-qec', cmd, '/dev/null'], { encoding: 'utf8', input: '' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
  assert.match(r.stdout, /33 111/);
  assert.match(r.stdout, /xterm/);
});

test('SIGTERM to tspod reaches the container', async () => {
  const child = spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=/home/${TEST_USER}`, 'PATH=/usr/bin:/bin:/usr/sbin', path.join(ROOT, 'bin/tspod'),
    'run', '--rm', '--network', 'none', 'alpine:3.20', 'sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while true; do sleep 0.1; done'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise<void>((r) => child.stdout!.on('data', (d) => { out += d; if (out.includes('ready')) r(); }));
  spawnSync('pkill', ['-TERM', '-u', TEST_USER, '-f', 'dist/bundle/tspod.cjs run --rm --network none alpine:3.20 sh -c trap']);
  const code = await exited;
  assert.match(out, /got-term/);
  assert.is(code, 3);
});

test('--rm leaves nothing; without it the container stays recorded; names are unique', () => {
  const before = fs.readdirSync(path.join(STORE, 'containers')).length;
  run(['--network', 'none', 'alpine:3.20', 'true']);
  run(['--network', 'none', 'alpine:3.20', 'false']);
  assert.is(fs.readdirSync(path.join(STORE, 'containers')).length, before);
  const kept = tspod(['run', '--name', 'keeper', '--network', 'none', 'alpine:3.20', 'true']);
  assert.is(kept.status, 0, kept.stderr);
  assert.is(fs.readdirSync(path.join(STORE, 'containers')).length, before + 1);
  const dup = tspod(['run', '--name', 'keeper', '--network', 'none', 'alpine:3.20', 'true']);
  assert.is(dup.status, 125);
  assert.match(dup.stderr, /the container name "keeper" is already in use/);
  const mounts = spawnSync('sh', ['-c', `cat /proc/$(cut -d' ' -f1 /tmp/tspod-run-$(id -u ${TEST_USER})/pause.pid)/mountinfo`], { encoding: 'utf8' }).stdout;
  assert.not.match(mounts, /tspod\/containers\/.*merged/, 'no overlay left mounted');
  assert.not.match(mounts, /tspod-run-\d+\/netns\//, 'no network namespace left mounted');
});

test('an --rm container\'s root is a volatile overlay (never synced: it goes with its process), a kept one\'s is not', () => {
  const rootOptions = (name: string) => {
    const id = tspod(['inspect', '--format', '{{.Id}}', name]).stdout.trim();
    const mounts = spawnSync('sh', ['-c', `cat /proc/$(cut -d' ' -f1 /tmp/tspod-run-$(id -u ${TEST_USER})/pause.pid)/mountinfo`], { encoding: 'utf8' }).stdout;
    return mounts.split('\n').find((l) => l.includes(`${id}/merged`)) ?? '';
  };
  for (const [name, extra] of [['volatile-rm', ['--rm']], ['volatile-kept', []]] as const) {
    const r = tspod(['run', '-d', ...extra, '--name', name, '--network', 'none', 'alpine:3.20', 'sleep', '60']);
    assert.is(r.status, 0, r.stderr);
  }
  try {
    assert.match(rootOptions('volatile-rm'), /\bvolatile\b/);
    assert.ok(rootOptions('volatile-kept').includes('upperdir='), 'the kept container is mounted');
    assert.not.match(rootOptions('volatile-kept'), /\bvolatile\b/);
  } finally {
    tspod(['rm', '-f', '-t', '0', 'volatile-rm', 'volatile-kept']);
  }
});

test('ps -a shows the kept container with its exit status; ps shows only running ones', () => {
  tspod(['run', '--name', 'exits-3', '--network', 'none', 'alpine:3.20', 'sh', '-c', 'exit 3']);
  const all = tspod(['ps', '-a']);
  assert.is(all.status, 0, all.stderr);
  assert.match(all.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m, 'Podman\'s header');
  assert.match(all.stdout, /^[a-f0-9]{12}\s+\S+\/alpine:3\.20\s+sh -c exit 3\s+.*Exited \(3\).*exits-3$/m);
  assert.match(all.stdout, /Exited \(0\).*keeper$/m);
  const json = JSON.parse(tspod(['ps', '-a', '--format', 'json']).stdout) as Array<{ Names: string[]; ExitCode: number; State: string }>;
  assert.equal(json.find((c) => c.Names[0] === 'exits-3'), { ...json.find((c) => c.Names[0] === 'exits-3')!, ExitCode: 3, State: 'exited' });
  assert.is(tspod(['ps', '-a', '--filter', 'exited=3', '--format', '{{.Names}} {{.Status}}']).stdout.replace(/ago\n$/, ''), 'exits-3 Exited (3) Less than a second ', 'a template over Podman\'s fields');
  assert.is(tspod(['ps', '-q']).stdout, '');
  assert.is(tspod(['ps', '-aq']).stdout.trim().split('\n').length, 2);
});

test('rm: by name or id prefix; a running container needs -f, which kills it', async () => {
  const id = JSON.parse(tspod(['ps', '-a', '--format', 'json']).stdout).find((c: { Names: string[] }) => c.Names[0] === 'exits-3').Id as string;
  const byPrefix = tspod(['rm', id.slice(0, 6)]);
  assert.is(byPrefix.status, 0, byPrefix.stderr);
  assert.is(byPrefix.stdout, `${id.slice(0, 6)}\n`, 'the name as given, as Podman prints it');
  const unknown = tspod(['rm', 'no-such-container']);
  assert.is(unknown.status, 1, 'Podman\'s rm: 1 when a container is not there');
  assert.match(unknown.stderr, /^Error: no container with name or ID "no-such-container" found: no such container\n$/);
  const busy = spawn('runuser', ['-u', TEST_USER, '--', 'env', '-i', `HOME=/home/${TEST_USER}`, 'PATH=/usr/bin:/bin:/usr/sbin', path.join(ROOT, 'bin/tspod'),
    'run', '--name', 'busy', '--network', 'none', 'alpine:3.20', 'sh', '-c', 'echo up; sleep 60'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => busy.on('exit', (code) => r(code)));
  await new Promise<void>((r) => busy.stdout!.on('data', () => r()));
  assert.match(tspod(['ps']).stdout, /busy$/m);
  const refused = tspod(['rm', 'busy']);
  assert.is(refused.status, 2, 'Podman\'s rm: 2 when a container is running');
  assert.match(refused.stderr, /^Error: cannot remove container [a-f0-9]{64} as it is running - running or paused containers cannot be removed without force: container state improper\n$/);
  const forced = tspod(['rm', '-f', '-t', '0', 'busy']);
  assert.is(forced.status, 0, forced.stderr);
  assert.is(await exited, 137);
  assert.not.match(tspod(['ps', '-a']).stdout, /busy$/m);
});

test('rmi: an image in use needs -f, which removes its containers; unused layers go with it', () => {
  // "keeper" from the previous test uses alpine:3.20.
  const refused = tspod(['rmi', `${reg}/alpine:3.20`]);
  assert.is(refused.status, 2, 'Podman\'s status for an image in use');
  assert.match(refused.stderr, /^Error: image used by [a-f0-9]{64}: image is in use by a container/);
  const layersBefore = fs.readdirSync(path.join(STORE, 'layers')).length;
  const layered = tspod(['rmi', `${reg}/layered`]);
  assert.is(layered.status, 0, layered.stderr);
  assert.match(layered.stdout, /^Deleted: [a-f0-9]{64}$/m);
  assert.is(fs.readdirSync(path.join(STORE, 'layers')).length, layersBefore - 2, 'its two own layers went; the shared base stayed');
  // A name of an image with other names only goes itself, -f or not, and the containers stay (Podman's rule).
  assert.is(tspod(['tag', `${reg}/alpine:3.20`, 'extra']).status, 0);
  assert.is(tspod(['rmi', '-f', 'extra']).stdout, 'Untagged: localhost/extra:latest\n');
  assert.ok(fs.readdirSync(path.join(STORE, 'containers')).length > 0, 'its containers stay');
  const imageId = tspod(['inspect', '--format', '{{.Id}}', `${reg}/alpine:3.20`]).stdout.trim();
  const forced = tspod(['rmi', '-f', imageId]);
  assert.is(forced.status, 0, forced.stderr);
  assert.not.match(tspod(['images']).stdout, /alpine\s+3\.20/);
  assert.is(fs.readdirSync(path.join(STORE, 'containers')).length, 0);
  const gone = tspod(['rmi', 'never-existed']);
  assert.is(gone.status, 1, 'Podman\'s status for an image not there');
  assert.is(gone.stderr, 'Error: never-existed: image not known\n');
  for (const flag of ['--ignore', '--force']) {
    const ignored = tspod(['rmi', flag, 'never-existed']);
    assert.equal([ignored.status, ignored.stdout, ignored.stderr], [0, '', ''], `rmi ${flag} of an image not there`);
  }
});

test('a run of a stored image loads neither the HTTP client nor the tar code, nor the TOML parser once containers.conf is cached', () => {
  tspod(['pull', '-q', `${reg}/alpine:3.20`]);
  assert.is(run(['--network', 'none', 'alpine:3.20', 'true']).status, 0, 'a first run reads containers.conf and keeps what it found');
  const r = run(['--network', 'none', 'alpine:3.20', 'true'], { env: { TSPOD_DEBUG_MODULES: '1' } });
  assert.is(r.status, 0, r.stderr);
  const mods = /tspod-modules: (.*)/.exec(r.stderr)![1];
  // No package at all: tspod's own addon takes the flock(2) locks and mounts.
  for (const heavy of ['undici', 'tar-stream', 'zstd-napi', 'smol-toml']) assert.not.ok(mods.includes(heavy), `${heavy} loaded: ${mods}`);
});

test('run flags as Podman\'s: --attach, --log-driver none, --entrypoint JSON, --replace, --cidfile, -w, / keeps the image\'s mode, /run/.containerenv, duplicate -v', () => {
  const img = 'alpine:3.20';
  const attached = tspod(['run', '--name', 'att', '--network', 'none', '--attach', 'stderr', img, 'sh', '-c', 'echo out; echo err >&2']);
  assert.equal([attached.status, attached.stdout, attached.stderr], [0, '', 'err\n'], 'only stderr reaches us');
  assert.match(tspod(['logs', 'att']).stdout, /^out$/m, 'the rest is in the log');
  const quiet = tspod(['run', '--name', 'att-in', '--network', 'none', '--attach', 'stdin', img, 'echo', 'hi']);
  assert.is(quiet.stdout, `${tspod(['inspect', '--format', '{{.Id}}', 'att-in']).stdout.trim()}\n`, 'attached to no output: the id is printed');
  assert.is(tspod(['run', '--name', 'nolog', '--network', 'none', '--log-driver', 'none', img, 'echo', 'x']).stdout, 'x\n');
  assert.match(tspod(['logs', 'nolog']).stderr, /'none' log driver/);
  assert.match(tspod(['run', '--rm', '--log-driver', 'bogus', img, 'true']).stderr, /^Error: running container create option: invalid log driver: invalid argument\n$/);
  assert.is(run(['--network', 'none', '--entrypoint', '["/bin/echo","from","json"]', img]).stdout, 'from json\n');
  assert.is(tspod(['inspect', '--format', '{{.HostConfig.LogConfig.Type}} {{.ImageDigest}}', 'att']).stdout.trim().split(' ')[0], 'k8s-file');
  const cid = `/home/${TEST_USER}/cidfile-${process.pid}`;
  fs.rmSync(cid, { force: true });
  const first = tspod(['create', '--name', 'twice', '--cidfile', cid, img, 'true']);
  assert.is(fs.readFileSync(cid, 'utf8'), first.stdout.trim(), 'the id is in the cidfile');
  assert.match(tspod(['create', '--cidfile', cid, img, 'true']).stderr, /^Error: container id file exists/);
  const second = tspod(['create', '--replace', '--name', 'twice', img, 'true']);
  assert.is(second.status, 0, second.stderr);
  assert.is(tspod(['container', 'exists', first.stdout.trim()]).status, 1, '--replace removed the first');
  const wd = run(['--network', 'none', '-w', '/no/such/dir', img, 'pwd']);
  assert.equal([wd.status, /^Error: workdir "\/no\/such\/dir" does not exist on container/.test(wd.stderr)], [126, true]);
  assert.is(run(['--network', 'none', '-w', '/made/by/volume', '-v', `/home/${TEST_USER}:/made/by/volume`, img, 'pwd']).stdout, '/made/by/volume\n');
  assert.is(run(['--network', 'none', img, 'stat', '-c', '%s', '/run/.containerenv']).stdout, '0\n');
  const dup = run(['--network', 'none', '-v', '/tmp:/x', '-v', `/home/${TEST_USER}:/x`, img, 'true']);
  assert.equal([dup.status, dup.stderr], [125, 'Error: /x: duplicate mount destination\n']);
  assert.is(run(['--network', 'none', '-v', `/home/${TEST_USER}:/x:noexec`, img, 'sh', '-c', 'grep " /x " /proc/mounts | grep -c noexec']).stdout, '1\n');
  // --tz: the last one wins; local is the host's /etc/localtime; an unknown zone is refused
  assert.match(run(['--network', 'none', '--tz=Iceland', '--tz=MST7MDT', img, 'date', '-d', '@1600000000']).stdout, /^Sun Sep 13 06:26:40 MDT 2020$/m);
  assert.match(run(['--tz=Nope/Zone', img, 'true']).stderr, /^Error: running container create option: finding timezone: unknown time zone Nope\/Zone/);
  // --hostuser: the host's account appears in the container's /etc/passwd
  assert.match(run(['--network', 'none', `--hostuser=${TEST_USER}`, img, 'grep', TEST_USER, '/etc/passwd']).stdout, new RegExp(`^${TEST_USER}:x:\\d+:`));
  assert.is(run(['--network', 'none', img, 'grep', TEST_USER, '/etc/passwd']).status, 1, 'not without it');
  assert.is(run(['--hostuser=bogus-user', img, 'true']).status, 126);
  // Resource limits: rootless on cgroup v1 nothing enforces them, and that is said (Podman's words)
  const limited = run(['--network', 'none', '--memory=0', img, 'echo', 'hello']);
  if (!fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) assert.equal([limited.status, limited.stderr, limited.stdout], [0, 'Resource limits are not supported and ignored on cgroups V1 rootless systems\n', 'hello\n']);
  else assert.is(limited.status, 125);
  // --unsetenv NAME and --unsetenv-all drop defaults and the image's variables; -e still applies
  assert.not.match(run(['--network', 'none', '--unsetenv', 'TERM', img, 'printenv']).stdout, /^TERM=/m);
  const bare = run(['--network', 'none', '--unsetenv-all', '-e', 'TERM=abc', img, '/bin/printenv']).stdout;
  assert.match(bare, /^TERM=abc$/m);
  assert.not.match(bare, /^(PATH|container|HOSTNAME)=/m, 'runc itself still sets HOME when none is given');
  // --tmpfs, its options, and its place among the destinations
  assert.match(run(['--network', 'none', '--tmpfs', '/t:size=1m', '--tmpfs', '/t:size=1m', img, 'grep', ' /t ', '/proc/mounts']).stdout, /^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,.*size=1024k/);
  assert.is(run(['-v', '/tmp:/t', '--tmpfs', '/t', img, 'true']).stderr, 'Error: /t: duplicate mount destination\n');
  // --preserve-fds: fd 4 of tspod is fd 4 of the container
  const file = `/home/${TEST_USER}/preserved-${process.pid}`;
  fs.writeFileSync(file, 'through fd 4\n');
  const kept = spawnSync('runuser', ['-u', TEST_USER, '--', 'sh', '-c', `exec env -i HOME=/home/${TEST_USER} PATH=/usr/bin:/bin ${ROOT}/bin/tspod run --rm -i --network none --preserve-fds=2 ${img} sh -c 'cat <&4' 4<${file} 3</dev/null`], { encoding: 'utf8', input: '' });
  assert.equal([kept.status, kept.stdout], [0, 'through fd 4\n'], kept.stderr);
  fs.rmSync(file, { force: true });
  tspod(['rm', '-f', '-t', '0', 'att', 'att-in', 'nolog', 'twice']);
  fs.rmSync(cid, { force: true });
});

test.run();
