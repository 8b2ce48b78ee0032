// generate systemd (issue 17): units as Podman 4.3 writes them pass `systemd-analyze verify`, and a
// --new unit runs for real under a `systemd --user` of the test user (../shared/systemd-user/):
// the container runs once the unit is active (Type=notify: tspod says READY with conmon as MAINPID), Restart=on-failure brings a killed one back (a new
// container), and `systemctl --user stop` removes it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { getWorld, tspod, TEST_USER, ROOT } from '../fixtures/world.js';
import { BODY, freePort, curl } from '../fixtures/net.js';

let alpine = '';
let web = '';
let registryHost = '';
const RUN = `/tmp/tspod-sd-run-${process.pid}`;
const CGROUP = `/sys/fs/cgroup/unified/tspod-sd-${process.pid}`;
const UNITS = `/home/${TEST_USER}/.config/systemd/user`;
const QUADLETS = `/home/${TEST_USER}/.config/containers/systemd`;
const GENERATOR = `/tmp/tspod-user-generator-${process.pid}`;
const ok = (args: string[], env?: Record<string, string>) => { const r = tspod(args, { timeout: 300_000, env }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };
const asUser = (cmd: string[]) => spawnSync('runuser', ['-u', TEST_USER, '--', 'env', `XDG_RUNTIME_DIR=${RUN}`, ...cmd], { encoding: 'utf8', timeout: 60_000 });
const inSession = (args: string[]) => ok(args, { XDG_RUNTIME_DIR: RUN });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let systemd = false;

test.before(async () => {
  const { registry } = await getWorld();
  alpine = `${registry}/alpine:3.20`;
  web = `${registry}/web:latest`;
  registryHost = registry;
  ok(['pull', '-q', alpine]);
  ok(['pull', '-q', web]);
  fs.mkdirSync(RUN, { mode: 0o700 });
  // The harness copies the generator to /run/systemd/user-generators/: a copy of bin/tspod-user-generator finds tspod on PATH, which the test user's manager has not.
  fs.writeFileSync(GENERATOR, `#!/bin/sh\nexec ${ROOT}/bin/tspod quadlet --user "$@"\n`, { mode: 0o755 });
  spawnSync('chown', [`${TEST_USER}:${TEST_USER}`, RUN]);
  if (fs.existsSync('/sys/fs/cgroup/unified') || fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const cg = fs.existsSync('/sys/fs/cgroup/unified') ? CGROUP : `/sys/fs/cgroup/tspod-sd-${process.pid}`;
    spawn('setsid', ['unshare', '-m', '--propagation', 'private', 'bash', path.join(ROOT, '../shared/systemd-user/user-systemd.sh'), TEST_USER, RUN, cg, GENERATOR], { stdio: 'ignore', detached: true }).unref();
    for (let i = 0; i < 100 && !systemd; i++) { await sleep(100); systemd = asUser(['systemctl', '--user', 'show-environment']).status === 0; }
  }
  fs.mkdirSync(UNITS, { recursive: true });
  spawnSync('chown', ['-R', `${TEST_USER}:${TEST_USER}`, `/home/${TEST_USER}/.config`]);
});

test.after(() => {
  asUser(['systemctl', '--user', 'disable', '--now', 'tspod.socket']);
  for (const u of ['tspod.socket', 'tspod.service']) fs.rmSync(path.join(UNITS, u), { force: true });
  asUser(['systemctl', '--user', 'stop', 'container-sdweb.service', 'pod-sdpod.service', 'qweb.service', 'qplay.service', 'sdready.service', 'container-aulocal.service', 'container-aureg.service']);
  spawnSync('sh', ['-c', `rm -f ${UNITS}/container-au*.service`]);
  fs.rmSync(path.join(UNITS, 'sdready.service'), { force: true });
  fs.rmSync(QUADLETS, { recursive: true, force: true });
  fs.rmSync(GENERATOR, { force: true });
  asUser(['systemctl', '--user', 'exit']);
  spawnSync('sh', ['-c', `sleep 1; find ${CGROUP} -depth -type d -exec rmdir {} \\; 2>/dev/null; rm -f ${UNITS}/container-sd*.service ${UNITS}/pod-sdpod.service`]);
  tspod(['pod', 'rm', '-a', '-f', '-t', '0']);
  tspod(['pod', 'rm', '-a', '-f', '-t', '0'], { env: { XDG_RUNTIME_DIR: RUN } });
  tspod(['rm', '-a', '-f', '-t', '0']);
  tspod(['rm', '-a', '-f', '-t', '0'], { env: { XDG_RUNTIME_DIR: RUN } });
  spawnSync('sh', ['-c', `pkill -u ${TEST_USER} -f ${RUN} ; rm -rf ${RUN}`]);
});

test('generate systemd: the existing container, and --new from its create command; both verify; bad flags are 125', () => {
  ok(['create', '--name', 'sdweb', '-e', 'GREETING=hello there', alpine, 'sh', '-c', 'echo "$GREETING"; sleep 300']);
  const plain = ok(['generate', 'systemd', '--name', 'sdweb']);
  assert.match(plain, /^# container-sdweb\.service$/m);
  assert.match(plain, /^ExecStart=\S+ start sdweb$/m);
  assert.match(plain, /^PIDFile=.*\/userdata\/conmon\.pid$/m);
  const fresh = ok(['generate', 'systemd', '--new', '--name', '--restart-policy', 'on-failure', '-t', '2', 'sdweb']);
  assert.match(fresh, /--cidfile=%t\/%n\.ctr-id/);
  assert.match(fresh, /--name sdweb -e "GREETING=hello there" \S+alpine:3\.20 sh -c "echo \\"\$\$GREETING\\"; sleep 300"$/m, 'the user\'s words quoted, $ escaped for systemd');
  assert.match(fresh, /^TimeoutStopSec=62$/m);
  assert.match(fresh, /--sdnotify=conmon/);
  assert.match(fresh, /^Type=notify\nNotifyAccess=all$/m);
  const dir = fs.mkdtempSync('/tmp/tspod-units-');
  fs.chmodSync(dir, 0o777);
  const w = tspod(['generate', 'systemd', '--new', '--name', '--files', 'sdweb'], { cwd: dir });
  assert.is(w.status, 0, w.stderr);
  const written = w.stdout;
  assert.match(written, /container-sdweb\.service\n$/);
  const file = written.trim();
  const verify = spawnSync('runuser', ['-u', TEST_USER, '--', 'env', `XDG_RUNTIME_DIR=${RUN}`, 'systemd-analyze', 'verify', '--user', file], { encoding: 'utf8' });
  assert.is(verify.status, 0, verify.stderr);
  fs.copyFileSync(file, path.join(UNITS, 'container-sdweb.service'));
  spawnSync('chown', [TEST_USER, path.join(UNITS, 'container-sdweb.service')]);
  fs.rmSync(dir, { recursive: true, force: true });
  // the container's own restart policy, as systemd's
  for (const [policy, want] of [['always', /^Restart=always$/m], ['unless-stopped', /^Restart=always$/m], ['on-failure:42', /^StartLimitBurst=42$[^]*^Restart=on-failure$/m]] as const) {
    ok(['create', '--name', 'sdpolicy', '--restart', policy, alpine, 'true']);
    const unit = ok(['generate', 'systemd', '--new', 'sdpolicy']);
    assert.match(unit, want, policy);
    assert.not.match(unit, /--restart/, 'systemd restarts the unit, not the container itself');
    ok(['rm', 'sdpolicy']);
  }
  const bad = tspod(['generate', 'systemd', '--restart-policy', 'sometimes', 'sdweb']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /sometimes is not a valid restart policy/);
  ok(['rm', 'sdweb']);
});

test('a --new unit under systemd --user: active means running, a killed container comes back, stop removes it', async () => {
  assert.ok(systemd, 'systemd --user started (../shared/systemd-user/)');
  assert.is(asUser(['systemctl', '--user', 'daemon-reload']).status, 0);
  const start = asUser(['systemctl', '--user', 'start', 'container-sdweb.service']);
  assert.is(start.status, 0, start.stderr);
  assert.is(asUser(['systemctl', '--user', 'is-active', 'container-sdweb.service']).stdout, 'active\n');
  assert.match(inSession(['ps', '--format', '{{.Names}} {{.Status}}']), /^sdweb Up /m);
  const conmon = inSession(['inspect', '--format', '{{.State.ConmonPid}}', 'sdweb']).trim();
  assert.is(asUser(['systemctl', '--user', 'show', '-p', 'MainPID', '--value', 'container-sdweb.service']).stdout.trim(), conmon, 'conmon is the unit\'s main process');
  const first = inSession(['inspect', '--format', '{{.Id}} {{.State.Pid}}', 'sdweb']).trim().split(' ');
  process.kill(Number(first[1]), 'SIGKILL');
  let again = '';
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const r = tspod(['inspect', '--format', '{{.Id}} {{.State.Status}}', 'sdweb'], { env: { XDG_RUNTIME_DIR: RUN } });
    if (r.status === 0 && !r.stdout.startsWith(first[0]) && r.stdout.includes('running')) { again = r.stdout; break; }
  }
  assert.ok(again, 'Restart=on-failure made a new container');
  assert.is(asUser(['systemctl', '--user', 'stop', 'container-sdweb.service']).status, 0);
  assert.is(inSession(['ps', '-a', '-q']), '', 'the unit\'s stop removed the container');
});

test('a pod\'s --new units: starting the pod unit brings its member up serving on the pod\'s port; stopping it removes the pod', async () => {
  assert.ok(systemd, 'systemd --user started (../shared/systemd-user/)');
  const port = await freePort();
  ok(['pod', 'create', '--name', 'sdpod', '-p', `${port}:80`]);
  ok(['create', '--pod', 'sdpod', '--name', 'sdpod-web', web]);
  const dir = fs.mkdtempSync('/tmp/tspod-units-');
  fs.chmodSync(dir, 0o777);
  const w = tspod(['generate', 'systemd', '--new', '--name', '--files', '-e', 'UNIT_GREETING=hi', 'sdpod'], { cwd: dir });
  assert.is(w.status, 0, w.stderr);
  assert.equal(w.stdout.trim().split('\n').map((f) => path.basename(f)), ['pod-sdpod.service', 'container-sdpod-web.service']);
  const podUnit = fs.readFileSync(path.join(dir, 'pod-sdpod.service'), 'utf8');
  assert.match(podUnit, /^Wants=container-sdpod-web\.service$/m);
  assert.match(podUnit, /^Environment=UNIT_GREETING=hi$/m);
  assert.match(podUnit, /pod create \\\n\t--infra-conmon-pidfile %t\/pod-sdpod\.pid/);
  assert.match(fs.readFileSync(path.join(dir, 'container-sdpod-web.service'), 'utf8'), /^BindsTo=pod-sdpod\.service$/m);
  for (const f of ['pod-sdpod.service', 'container-sdpod-web.service']) {
    const verify = asUser(['systemd-analyze', 'verify', '--user', path.join(dir, f)]);
    assert.is(verify.status, 0, verify.stderr);
    fs.copyFileSync(path.join(dir, f), path.join(UNITS, f));
    spawnSync('chown', [TEST_USER, path.join(UNITS, f)]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  ok(['pod', 'rm', '-f', '-t', '0', 'sdpod']);
  assert.is(asUser(['systemctl', '--user', 'daemon-reload']).status, 0);
  const start = asUser(['systemctl', '--user', 'start', 'pod-sdpod.service']);
  assert.is(start.status, 0, start.stderr);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  assert.is(asUser(['systemctl', '--user', 'is-active', 'container-sdpod-web.service']).stdout, 'active\n');
  assert.match(inSession(['pod', 'ps', '--format', '{{.Name}} {{.Status}} {{.NumberOfContainers}}']), /^sdpod Running 2$/m);
  assert.is(asUser(['systemctl', '--user', 'stop', 'pod-sdpod.service']).status, 0);
  // Stopped with the pod (BindsTo=). busybox httpd as pid 1 ignores SIGTERM, so stop kills it after -t and
  // conmon, the main process, ends with its 137, which systemd calls failed, as it does Podman's units.
  assert.match(asUser(['systemctl', '--user', 'is-active', 'container-sdpod-web.service']).stdout, /^(inactive|failed)\n$/, 'the member unit is bound to the pod\'s');
  assert.is(inSession(['pod', 'ps', '-q']), '', 'the pod is gone');
  assert.is(inSession(['ps', '-a', '-q']), '');
});

test('under a systemd user manager the health checks run from a transient timer, which goes with the container', async () => {
  assert.ok(systemd, 'systemd --user started (../shared/systemd-user/)');
  const id = inSession(['run', '-d', '--name', 'sdhealth', '--health-cmd', 'true', '--health-interval', '1s', alpine, 'sleep', '300']).trim();
  const timers = () => asUser(['systemctl', '--user', 'list-timers', '--all', '--no-legend']).stdout;
  assert.match(timers(), new RegExp(`tspod-healthcheck-${id}\\.timer`));
  let status = '';
  for (let i = 0; i < 40 && status !== 'healthy'; i++) { await sleep(250); status = inSession(['inspect', '--format', '{{.State.Health.Status}}', 'sdhealth']).trim(); }
  assert.is(status, 'healthy', 'the timer ran the check');
  assert.is(spawnSync('pgrep', ['-u', TEST_USER, '-f', `healthcheck monitor ${id}`]).status, 1, 'no monitor of our own under systemd');
  inSession(['rm', '-f', '-t', '0', 'sdhealth']);
  assert.not.match(timers(), new RegExp(`tspod-healthcheck-${id}`), 'the timer went with the container');
});

test('Quadlet: the generator turns .container, .volume and .kube files into units systemd starts; [Install] enables', async () => {
  assert.ok(systemd, 'systemd --user started (../shared/systemd-user/)');
  const port = await freePort();
  fs.mkdirSync(QUADLETS, { recursive: true });
  fs.writeFileSync(path.join(QUADLETS, 'qweb.container'), `[Unit]\nDescription=web from Quadlet\n\n[Container]\nImage=${web}\nPublishPort=${port}:80\nVolume=qdata.volume:/data\nEnvironment=GREETING=hi "OTHER=two words"\n\n[Install]\nWantedBy=default.target\n`);
  fs.writeFileSync(path.join(QUADLETS, 'qdata.volume'), '[Volume]\nLabel=from=quadlet\n');
  fs.writeFileSync(path.join(QUADLETS, 'qplay.kube'), '[Kube]\nYaml=qplay.yaml\n');
  fs.writeFileSync(path.join(QUADLETS, 'qplay.yaml'), `apiVersion: v1\nkind: Pod\nmetadata:\n  name: qplay\nspec:\n  containers:\n  - name: c\n    image: ${alpine}\n    command: ["sleep", "1000"]\n`);
  spawnSync('chown', ['-R', `${TEST_USER}:${TEST_USER}`, `/home/${TEST_USER}/.config`]);
  assert.is(asUser(['systemctl', '--user', 'daemon-reload']).status, 0);
  assert.match(asUser(['systemctl', '--user', 'cat', 'qweb.service']).stdout, /Automatically generated by tspod quadlet/);
  assert.match(asUser(['systemctl', '--user', 'list-dependencies', '--plain', 'default.target']).stdout, /qweb\.service/, 'WantedBy= took effect');
  const start = asUser(['systemctl', '--user', 'start', 'qweb.service']);
  assert.is(start.status, 0, start.stderr);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  assert.is(asUser(['systemctl', '--user', 'is-active', 'qdata-volume.service']).stdout, 'active\n');
  assert.is(inSession(['volume', 'inspect', '--format', '{{.Labels}}', 'systemd-qdata']).trim(), 'map[from:quadlet]');
  assert.is(inSession(['exec', 'systemd-qweb', 'sh', '-c', 'echo $GREETING $OTHER']), 'hi two words\n');
  const conmon = inSession(['inspect', '--format', '{{.State.ConmonPid}}', 'systemd-qweb']).trim();
  assert.is(asUser(['systemctl', '--user', 'show', '-p', 'MainPID', '--value', 'qweb.service']).stdout.trim(), conmon);
  assert.is(asUser(['systemctl', '--user', 'stop', 'qweb.service']).status, 0);
  assert.is(tspod(['container', 'exists', 'systemd-qweb'], { env: { XDG_RUNTIME_DIR: RUN } }).status, 1, 'stop removed the container');
  const kube = asUser(['systemctl', '--user', 'start', 'qplay.service']);
  assert.is(kube.status, 0, kube.stderr);
  assert.match(inSession(['pod', 'ps', '--format', '{{.Name}} {{.Status}}']), /^qplay Running$/m);
  const svc = inSession(['ps', '-a', '--format', '{{.Names}}']).split('\n').find((n) => n.endsWith('-service'))!;
  assert.is(asUser(['systemctl', '--user', 'show', '-p', 'MainPID', '--value', 'qplay.service']).stdout.trim(), inSession(['inspect', '--format', '{{.State.ConmonPid}}', svc]).trim(), 'the service container\'s conmon is the unit\'s main process');
  assert.is(asUser(['systemctl', '--user', 'stop', 'qplay.service']).status, 0);
  assert.is(inSession(['pod', 'ps', '-q']), '', 'kube down ran');
});

test('run --sdnotify=container: the container\'s own READY=1 makes the unit active, conmon its main process', async () => {
  assert.ok(systemd, 'systemd --user started (../shared/systemd-user/)');
  // A sender of notify datagrams the image lacks: a few lines of C, static. It lingers after sending, as
  // systemd tells a sender's unit by its pid, and drops the message of one already gone.
  const ctx = fs.mkdtempSync('/tmp/tspod-notify-');
  fs.writeFileSync(path.join(ctx, 'notify.c'), '#include <sys/socket.h>\n#include <sys/un.h>\n#include <string.h>\n#include <stdlib.h>\n#include <unistd.h>\nint main(int c, char **v) { const char *p = getenv("NOTIFY_SOCKET"); if (!p) return 2; int s = socket(AF_UNIX, SOCK_DGRAM, 0); struct sockaddr_un a = { .sun_family = AF_UNIX }; strncpy(a.sun_path, p, sizeof a.sun_path - 1); int r = sendto(s, v[1], strlen(v[1]), 0, (struct sockaddr *)&a, sizeof a); sleep(1); return r < 0; }\n');
  const cc = spawnSync('gcc', ['-static', '-O2', '-o', path.join(ctx, 'notify'), path.join(ctx, 'notify.c')], { encoding: 'utf8' });
  assert.is(cc.status, 0, cc.stderr);
  fs.writeFileSync(path.join(ctx, 'Containerfile'), `FROM ${alpine}\nCOPY notify /notify\n`);
  spawnSync('chmod', ['-R', 'a+rX', ctx]);
  ok(['build', '-q', '-t', 'notifier', ctx]);
  fs.rmSync(ctx, { recursive: true, force: true });
  const exe = path.join(ROOT, 'bin/tspod');
  fs.writeFileSync(path.join(UNITS, 'sdready.service'), `[Service]\nType=notify\nNotifyAccess=all\nExecStart=${exe} run -d --rm --name sdready --sdnotify=container localhost/notifier sh -c 'echo $$NOTIFY_SOCKET; sleep 2; /notify READY=1; sleep 300'\nExecStop=${exe} rm -f -t 0 sdready\n`);
  spawnSync('chown', [TEST_USER, path.join(UNITS, 'sdready.service')]);
  assert.is(asUser(['systemctl', '--user', 'daemon-reload']).status, 0);
  const t0 = Date.now();
  const start = asUser(['systemctl', '--user', 'start', 'sdready.service']);
  assert.is(start.status, 0, start.stderr);
  assert.ok(Date.now() - t0 >= 1900, 'systemctl start waited for the container\'s READY');
  assert.is(asUser(['systemctl', '--user', 'is-active', 'sdready.service']).stdout, 'active\n');
  assert.is(asUser(['systemctl', '--user', 'show', '-p', 'MainPID', '--value', 'sdready.service']).stdout.trim(), inSession(['inspect', '--format', '{{.State.ConmonPid}}', 'sdready']).trim());
  assert.is(inSession(['logs', 'sdready']), '/run/notify/notify.sock\n');
  assert.is(inSession(['inspect', '--format', '{{.Config.SdNotifyMode}}', 'sdready']).trim(), 'container');
  assert.is(asUser(['systemctl', '--user', 'stop', 'sdready.service']).status, 0);
});

test('auto-update: a unit\'s container gets the newer local or registry image, the unit restarted', async () => {
  assert.ok(systemd, 'systemd --user started (../shared/systemd-user/)');
  const reg = `${registryHost}/autoreg:latest`;
  ok(['tag', alpine, 'localhost/aulocal:latest']);
  ok(['tag', alpine, reg]);
  ok(['push', '-q', reg]);
  ok(['create', '--name', 'aulocal', '--label', 'io.containers.autoupdate=local', 'localhost/aulocal:latest', 'sleep', '300']);
  ok(['create', '--name', 'aureg', '--label', 'io.containers.autoupdate=registry', reg, 'sleep', '300']);
  for (const name of ['aulocal', 'aureg']) {
    const dir = fs.mkdtempSync('/tmp/tspod-units-');
    fs.chmodSync(dir, 0o777);
    const w = tspod(['generate', 'systemd', '--new', '--name', '--files', name], { cwd: dir });
    assert.is(w.status, 0, w.stderr);
    fs.copyFileSync(path.join(dir, `container-${name}.service`), path.join(UNITS, `container-${name}.service`));
    spawnSync('chown', [TEST_USER, path.join(UNITS, `container-${name}.service`)]);
    fs.rmSync(dir, { recursive: true, force: true });
    ok(['rm', name]);
  }
  assert.is(asUser(['systemctl', '--user', 'daemon-reload']).status, 0);
  for (const name of ['aulocal', 'aureg']) assert.is(asUser(['systemctl', '--user', 'start', `container-${name}.service`]).status, 0);
  const imageOf = (n: string) => inSession(['inspect', '--format', '{{.Image}}', n]).trim();
  const before = { local: imageOf('aulocal'), reg: imageOf('aureg') };
  assert.is(inSession(['inspect', '--format', '{{index .Config.Labels "PODMAN_SYSTEMD_UNIT"}}', 'aulocal']).trim(), 'container-aulocal.service');
  const table = '{{.Unit}},{{.Image}},{{.Updated}},{{.Policy}}';
  assert.equal(inSession(['auto-update', '--format', table]).trim().split('\n').sort(), [`container-aulocal.service,localhost/aulocal:latest,false,local`, `container-aureg.service,${reg},false,registry`]);
  // newer images: the web image under both names
  ok(['tag', web, 'localhost/aulocal:latest']);
  ok(['tag', web, reg]);
  ok(['push', '-q', reg]);
  ok(['tag', alpine, reg]); // the local name back on the old image: only the registry has the new one
  assert.equal(inSession(['auto-update', '--dry-run', '--format', table]).trim().split('\n').sort(), [`container-aulocal.service,localhost/aulocal:latest,pending,local`, `container-aureg.service,${reg},pending,registry`]);
  const upd = tspod(['auto-update', '--format', table], { env: { XDG_RUNTIME_DIR: RUN }, timeout: 120_000 });
  assert.is(upd.status, 0, upd.stderr);
  assert.match(upd.stdout, /^container-aulocal.service,localhost\/aulocal:latest,true,local$/m);
  assert.match(upd.stdout, new RegExp(`^container-aureg.service,${reg.replace(/[.]/g, '\\.')},true,registry$`, 'm'));
  assert.is.not(imageOf('aulocal'), before.local, 'the local container runs the new image');
  assert.is.not(imageOf('aureg'), before.reg, 'the registry container runs the pulled image');
  assert.is(asUser(['systemctl', '--user', 'is-active', 'container-aureg.service']).stdout, 'active\n');
  for (const name of ['aulocal', 'aureg']) asUser(['systemctl', '--user', 'stop', `container-${name}.service`]);
  const bad = tspod(['create', '--label', 'io.containers.autoupdate=registry', 'aulocal']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /auto updates require fully-qualified image reference/);
});

test('the README\'s tspod.socket: the first request starts the service, which leaves when idle and comes back', async () => {
  if (!systemd) { console.log('  (skipped: no systemd --user here)'); return; }
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /# tspod\.socket\n([^]*?)\n# tspod\.service\n([^]*?)\n```/.exec(readme);
  assert.ok(block, 'the README has both units');
  fs.writeFileSync(path.join(UNITS, 'tspod.socket'), `${block![1]}\n`);
  fs.writeFileSync(path.join(UNITS, 'tspod.service'), `${block![2].replace('/path/to/tspod', ROOT).replace('--time 5', '--time 2')}\n`);
  spawnSync('chown', ['-R', `${TEST_USER}:${TEST_USER}`, UNITS]);
  asUser(['systemctl', '--user', 'daemon-reload']);
  const en = asUser(['systemctl', '--user', 'enable', '--now', 'tspod.socket']);
  assert.is(en.status, 0, en.stderr);
  const sock = path.join(RUN, 'tspod/tspod.sock');
  assert.is(fs.statSync(sock).mode & 0o777, 0o600);
  const ping = () => asUser(['curl', '-s', '--unix-socket', sock, 'http://d/_ping']).stdout;
  assert.is(asUser(['systemctl', '--user', 'is-active', 'tspod.service']).stdout.trim(), 'inactive');
  assert.is(ping(), 'OK');
  assert.is(asUser(['systemctl', '--user', 'is-active', 'tspod.service']).stdout.trim(), 'active');
  const ps = spawnSync('runuser', ['-u', TEST_USER, '--', 'env', `DOCKER_HOST=unix://${sock}`, 'docker', 'ps'], { encoding: 'utf8' });
  assert.is(ps.status, 0, ps.stderr);
  let state = 'active';
  for (let i = 0; i < 60 && state === 'active'; i++) { await sleep(100); state = asUser(['systemctl', '--user', 'is-active', 'tspod.service']).stdout.trim(); }
  assert.is(state, 'inactive', 'idle for --time, it exited');
  assert.is(ping(), 'OK', 'the socket starts it again');
});

test.run();
