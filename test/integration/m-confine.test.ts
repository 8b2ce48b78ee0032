// Confinement, second part (issue 16): namespaces shared or joined, --privileged and masks,
// sysctls, devices, groups, --init, /dev/shm, resource limits said to be ignored where rootless
// cgroup v1 can't apply them, and the user namespace modes (keep-id, nomap, auto, --uidmap) with
// the owners a user sees inside and on the host. Each read inside the container.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { getWorld, tspod, TEST_USER, ROOT } from '../fixtures/world.js';

let alpine = '';
const WORK = `/tmp/tspod-confine-${process.pid}`;
const ok = (args: string[]) => { const r = tspod(args, { timeout: 300_000 }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };
const fails = (args: string[], why: RegExp) => {
  const r = tspod(args);
  assert.is(r.status, 125, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, why);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
};
const hostId = (flag: string) => spawnSync('id', [flag, TEST_USER], { encoding: 'utf8' }).stdout.trim();

test.before(async () => {
  ({ registry: alpine } = await getWorld());
  alpine = `${alpine}/alpine:3.20`;
  ok(['pull', '-q', alpine]);
  fs.mkdirSync(WORK, { recursive: true, mode: 0o777 });
  fs.chmodSync(WORK, 0o777);
});
test.after(() => { tspod(['rm', '-a', '-f', '-t', '0']); fs.rmSync(WORK, { recursive: true, force: true }); });

test('--ipc: shareable by default (a joiner sees the same /dev/shm), private refuses joiners, none has no /dev/shm, host is the host\'s', () => {
  ok(['run', '-d', '--name', 'ipc-donor', alpine, 'sleep', '60']);
  const donorNs = ok(['exec', 'ipc-donor', 'sh', '-c', 'echo shared > /dev/shm/x; readlink /proc/self/ns/ipc']);
  assert.is(ok(['run', '--rm', '--ipc', 'container:ipc-donor', alpine, 'sh', '-c', 'readlink /proc/self/ns/ipc; cat /dev/shm/x']), `${donorNs}shared\n`);
  ok(['run', '-d', '--name', 'ipc-private', '--ipc', 'private', alpine, 'sleep', '60']);
  fails(['run', '--rm', '--ipc', 'container:ipc-private', alpine, 'true'], /is not allowed: non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)/);
  const none = tspod(['run', '--rm', '--ipc', 'none', alpine, 'ls', '/dev/shm']);
  assert.is(none.status, 1);
  assert.match(none.stderr, /No such file or directory/);
  assert.is(ok(['run', '--rm', '--ipc', 'host', alpine, 'readlink', '/proc/self/ns/ipc']).trim(), fs.readlinkSync('/proc/self/ns/ipc'));
  assert.is(ok(['inspect', '--format', '{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}}', 'ipc-private']), 'private private\n');
  ok(['rm', '-f', '-t', '0', 'ipc-donor', 'ipc-private']);
});

test('--pid and --uts: container:NAME joins, host shares; --shm-size sizes /dev/shm', () => {
  ok(['run', '-d', '--name', 'pid-donor', '--hostname', 'donor', alpine, 'sleep', '60']);
  assert.match(ok(['run', '--rm', '--pid', 'container:pid-donor', '--uts', 'container:pid-donor', alpine, 'sh', '-c', 'hostname; ps -o comm']), /^donor\n[\s\S]*sleep/);
  assert.is(ok(['run', '--rm', '--uts', 'host', alpine, 'hostname']).trim(), spawnSync('hostname', { encoding: 'utf8' }).stdout.trim());
  assert.match(ok(['run', '--rm', '--pid', 'host', alpine, 'sh', '-c', 'test -d /proc/1 && readlink /proc/self/ns/pid']), new RegExp(fs.readlinkSync('/proc/self/ns/pid').replace(/[[\]]/g, '\\$&')));
  assert.match(ok(['run', '--rm', '--shm-size', '10m', alpine, 'df', '-k', '/dev/shm']), /\s10240\s/);
  fails(['run', '--rm', '--pid', 'container:no-such', alpine, 'true'], /no-such/);
  fails(['run', '--rm', '--ipc', 'bogus', alpine, 'true'], /invalid --ipc "bogus"/);
  ok(['rm', '-f', '-t', '0', 'pid-donor']);
});

test('--privileged: every capability, no seccomp, nothing masked; mask= and unmask= one by one', () => {
  assert.is(ok(['run', '--rm', '--privileged', alpine, 'sh', '-c', "grep -E '^(CapEff|Seccomp):' /proc/self/status | cut -f2; stat -c %t,%T /proc/keys"]), '000001ffffffffff\n0\n0,0\n');
  // masked by default: /proc/keys reads as an empty character device (bound /dev/null)
  assert.is(ok(['run', '--rm', alpine, 'sh', '-c', 'stat -c %t,%T /proc/keys']), '1,3\n');
  assert.is(ok(['run', '--rm', '--security-opt', 'unmask=/proc/keys', alpine, 'sh', '-c', 'stat -c %t,%T /proc/keys']), '0,0\n');
  assert.is(ok(['run', '--rm', '--security-opt', 'mask=/etc/hostname', alpine, 'sh', '-c', 'cat /etc/hostname | wc -c']).trim(), '0');
  fails(['run', '--rm', '--security-opt', 'mask=relative', alpine, 'true'], /mask takes absolute paths/);
});

test('--sysctl and containers.conf\'s ping_group_range; a host-wide sysctl is refused', () => {
  assert.is(ok(['run', '--rm', alpine, 'cat', '/proc/sys/net/ipv4/ping_group_range']).replace(/\s+/g, ' ').trim(), '0 0');
  assert.is(ok(['run', '--rm', '--sysctl', 'net.ipv4.ip_unprivileged_port_start=80', '--sysctl', 'kernel.msgmax=4096', alpine, 'sh', '-c', 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/msgmax']), '80\n4096\n');
  fails(['run', '--rm', '--sysctl', 'vm.swappiness=1', alpine, 'true'], /sysctl "vm.swappiness" is not allowed/);
  fails(['run', '--rm', '--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', alpine, 'true'], /Network Namespace set to host/);
});

test('--device binds a host device, a missing one is 125; --group-add; --init runs catatonit as pid 1; --read-only-tmpfs=false', () => {
  assert.is(ok(['run', '--rm', '--device', '/dev/null:/dev/mynull', alpine, 'sh', '-c', 'stat -c %t,%T /dev/mynull; echo x > /dev/mynull && echo written']), '1,3\nwritten\n');
  fails(['run', '--rm', '--device', '/dev/no-such-device', alpine, 'true'], /--device \/dev\/no-such-device: \/dev\/no-such-device: no such file or directory/);
  assert.match(ok(['run', '--rm', '--group-add', '457', '--group-add', 'wheel', alpine, 'id']), /groups=.*\b10\(wheel\).*\b457\b/);
  fails(['run', '--rm', '--group-add', 'keep-groups', '--group-add', '457', alpine, 'true'], /the '--group-add keep-groups' option is not allowed with any other --group-add options/);
  assert.is(ok(['run', '--rm', '--init', alpine, 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']), '/run/podman-init -- sh -c cat /proc/1/cmdline | tr "\\0" " " ');
  assert.is(tspod(['run', '--rm', '--read-only', '--read-only-tmpfs=false', alpine, 'touch', '/tmp/x']).status, 1);
  ok(['run', '--rm', '--read-only', alpine, 'touch', '/tmp/x', '/run/x', '/var/tmp/x']);
});

test('resource limits rootless on cgroup v1: Podman\'s line, then each ignored limit named; recorded in inspect; update too', () => {
  const r = tspod(['run', '--rm', '--memory', '512m', '--cpus', '1.5', '--pids-limit', '100', alpine, 'echo', 'ran']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'ran\n');
  const lines = r.stderr.trim().split('\n');
  assert.is(lines[0], 'Resource limits are not supported and ignored on cgroups V1 rootless systems');
  assert.match(lines[1], /^Warning: ignored --memory=512m, --cpus=1.5, --pids-limit=100: /);
  // --memory=0 asks for no limit: only Podman's line
  assert.is(tspod(['run', '--rm', '--memory=0', alpine, 'true']).stderr, 'Resource limits are not supported and ignored on cgroups V1 rootless systems\n');
  fails(['run', '--rm', '--memory', 'lots', alpine, 'true'], /invalid argument "lots" for "--memory" flag/);
  ok(['create', '--name', 'res', '--memory', '1g', alpine, 'true']);
  assert.is(ok(['inspect', '--format', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', 'res']), '1073741824 0\n');
  const u = tspod(['update', '--cpus', '2', 'res']);
  assert.is(u.status, 0, u.stderr);
  assert.match(u.stderr, /ignored --cpus=2/);
  assert.is(ok(['inspect', '--format', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', 'res']), '1073741824 2000000000\n');
  ok(['rm', 'res']);
});

test('--userns keep-id: your uid and name inside, the image\'s owners kept, files in a bind mount yours; exec and cp enter it', () => {
  const dir = `${WORK}/keep`;
  fs.mkdirSync(dir);
  spawnSync('chown', [TEST_USER, dir]);
  const out = ok(['run', '--rm', '--userns', 'keep-id', '-v', `${dir}:/data`, alpine, 'sh', '-c', 'id -u; id -un; stat -c %u:%g /etc /bin/busybox; touch /data/mine']);
  assert.is(out, `${hostId('-u')}\n${TEST_USER}\n0:0\n0:0\n`);
  const st = fs.statSync(`${dir}/mine`);
  assert.is(`${st.uid}:${st.gid}`, `${hostId('-u')}:${hostId('-g')}`);
  assert.is(ok(['run', '--rm', '--userns', 'keep-id:uid=200,gid=300', alpine, 'sh', '-c', 'id -u; id -g']), '200\n300\n');
  ok(['run', '-d', '--name', 'kid', '--userns', 'keep-id', alpine, 'sleep', '60']);
  assert.is(ok(['exec', 'kid', 'id', '-u']), `${hostId('-u')}\n`);
  fs.writeFileSync(`${WORK}/copied`, 'x');
  ok(['cp', `${WORK}/copied`, 'kid:/tmp/copied']);
  assert.is(ok(['exec', 'kid', 'stat', '-c', '%u', '/tmp/copied']), `${hostId('-u')}\n`);
  assert.is(ok(['inspect', '--format', '{{.HostConfig.UsernsMode}}', 'kid']), 'keep-id\n');
  ok(['rm', '-f', '-t', '0', 'kid']);
  // What it writes is committed with the owners it saw, not the shifted ones the store holds.
  ok(['run', '--name', 'kid-commit', '--userns', 'keep-id', '--user', '0', alpine, 'sh', '-c', 'touch /by-root && chown 123:456 /etc/motd']);
  ok(['commit', '-q', 'kid-commit', 'kid-committed']);
  assert.is(ok(['run', '--rm', 'kid-committed', 'stat', '-c', '%u:%g', '/by-root', '/etc/motd']), '0:0\n123:456\n');
  ok(['rm', 'kid-commit']);
  ok(['rmi', 'kid-committed']);
});

test('--userns nomap, auto and --uidmap: you are not in the namespace; a store the container root cannot reach is named', () => {
  const share = `/home/${TEST_USER}/.local/share`;
  const parents = [`/home/${TEST_USER}/.local`, share];
  const modes = parents.map((p) => fs.statSync(p).mode & 0o777);
  try {
    fs.chmodSync(share, 0o700);
    fails(['run', '--rm', '--userns', 'nomap', alpine, 'true'], new RegExp(`${share} is not searchable by group and others; chmod go\\+x ${share}`));
    for (const p of parents) fs.chmodSync(p, 0o711);
    const maps = ok(['run', '--rm', '--userns', 'nomap', alpine, 'sh', '-c', 'id -u; stat -c %u /etc; cat /proc/self/uid_map']);
    assert.match(maps, /^0\n0\n\s+0\s+1\s+\d+\n$/);
    const auto = ok(['run', '--rm', '--userns', 'auto:size=2000', alpine, 'sh', '-c', 'cat /proc/self/uid_map; stat -c %u /etc']);
    assert.match(auto, /^\s+0\s+[1-9]\d*\s+2000\n0\n$/);
    assert.match(ok(['run', '--rm', '--uidmap', '0:100:5000', '--gidmap', '0:100:5000', alpine, 'sh', '-c', 'cat /proc/self/uid_map; stat -c %u /etc']), /^\s+0\s+100\s+5000\n0\n$/);
    fails(['run', '--rm', '--userns', 'bogus', alpine, 'true'], /invalid --userns "bogus"/);
    fails(['run', '--rm', '--uidmap', '0:1:99999999', alpine, 'true'], /--uidmap 0:1:99999999: your user namespace has only/);
  } finally { parents.forEach((p, i) => fs.chmodSync(p, modes[i])); }
});

test('secrets: created from a file or stdin, at /run/secrets/NAME or in a variable, through a user namespace of its own too; top shows host and container ids', () => {
  fs.writeFileSync(`${WORK}/pw`, 'hunter2');
  fs.chmodSync(`${WORK}/pw`, 0o644);
  const id = ok(['secret', 'create', 'pw', `${WORK}/pw`]).trim();
  assert.match(id, /^[0-9a-f]{25}$/);
  assert.is(tspod(['secret', 'create', 'viastdin', '-'], { input: 'typed' }).status, 0);
  assert.is(ok(['run', '--rm', '--secret', 'pw', '--secret', 'viastdin,type=env,target=TYPED', alpine, 'sh', '-c', 'cat /run/secrets/pw; echo; echo $TYPED; stat -c %a /run/secrets/pw']), 'hunter2\ntyped\n444\n');
  assert.is(ok(['run', '--rm', '--userns', 'keep-id', '--secret', 'pw,target=/etc/pw,mode=0400,uid=0', '--user', '0', alpine, 'cat', '/etc/pw']), 'hunter2');
  assert.match(ok(['secret', 'ls', '--format', '{{.Name}}']), /^pw$/m);
  assert.is(ok(['secret', 'inspect', '--format', '{{.Spec.Name}} {{.Spec.Driver.Name}}', 'pw']), 'pw file\n');
  fails(['run', '--rm', '--secret', 'missing', alpine, 'true'], /missing: no such secret/);
  fails(['secret', 'create', 'pw', `${WORK}/pw`], /pw: secret name in use/);
  ok(['secret', 'rm', '-a']);
  assert.is(tspod(['secret', 'exists', 'pw']).status, 1);

  ok(['run', '-d', '--name', 'topped', '--userns', 'keep-id', alpine, 'sleep', '60']);
  const rows = ok(['top', 'topped', 'huser,user,pid,ppid,seccomp', 'args']).trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.equal(rows[0], ['HUSER', 'USER', 'PID', 'PPID', 'SECCOMP', 'COMMAND']);
  assert.equal(rows[1], [TEST_USER, TEST_USER, '1', '0', 'filter', 'sleep', '60']);
  fails(['top', 'topped', 'bogus'], /unknown descriptor: bogus/);
  ok(['rm', '-f', '-t', '0', 'topped']);
});

test('volume options: :O writes into an overlay the host directory never sees, :z and :Z are accepted', () => {
  const dir = `${WORK}/lower`;
  fs.mkdirSync(dir);
  fs.writeFileSync(`${dir}/f`, 'orig\n');
  spawnSync('chown', ['-R', `${TEST_USER}:${TEST_USER}`, dir]);
  assert.is(ok(['run', '--name', 'ovl', '-v', `${dir}:/data:O`, alpine, 'sh', '-c', 'cat /data/f; echo changed > /data/f; touch /data/new; cat /data/f']), 'orig\nchanged\n');
  assert.is(fs.readFileSync(`${dir}/f`, 'utf8'), 'orig\n');
  assert.not.ok(fs.existsSync(`${dir}/new`));
  assert.is(ok(['start', '-a', 'ovl']), 'orig\nchanged\n', 'each start begins from the host directory again');
  ok(['rm', 'ovl']);
  assert.is(ok(['run', '--rm', '-v', `${dir}:/data:z`, '-v', `${dir}:/data2:Z,ro`, alpine, 'cat', '/data/f', '/data2/f']), 'orig\norig\n');
});

test('as root on cgroup v1: limits apply through runc\'s cgroupfs driver, update changes them at once, stats reads them', () => {
  const asRoot = (args: string[]) => {
    const r = spawnSync(path.join(ROOT, 'bin/tspod'), args, { encoding: 'utf8', env: { PATH: process.env.PATH!, HOME: '/root' }, timeout: 300_000 });
    assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  asRoot(['pull', '-q', '--tls-verify=false', alpine]);
  const id = asRoot(['run', '-d', '--memory', '64m', '--pids-limit', '50', '--cpus', '0.5', alpine, 'sleep', '60']).trim();
  try {
    const v1 = fs.existsSync('/sys/fs/cgroup/memory');
    const cg = (controller: string, file: string) => fs.readFileSync(v1 ? `/sys/fs/cgroup/${controller}/tspod/tspod-${id}/${file}` : `/sys/fs/cgroup/tspod/tspod-${id}/${file}`, 'utf8').trim();
    assert.is(cg('memory', v1 ? 'memory.limit_in_bytes' : 'memory.max'), '67108864');
    assert.is(cg('pids', 'pids.max'), '50');
    if (v1) assert.is(cg('cpu', 'cpu.cfs_quota_us'), '50000');
    asRoot(['update', '--memory', '128m', '--pids-limit', '60', id]);
    assert.is(cg('memory', v1 ? 'memory.limit_in_bytes' : 'memory.max'), '134217728');
    assert.is(cg('pids', 'pids.max'), '60');
    assert.is(asRoot(['inspect', '--format', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}', id]), '134217728 60\n');
    const [pids, mem] = asRoot(['stats', '--no-stream', '--format', '{{.PIDs}}|{{.MemUsage}}', id]).trim().split('|');
    assert.is(pids, '1');
    assert.match(mem, / \/ 134\.2MB$/);
  } finally { asRoot(['rm', '-f', '-t', '0', id]); }
  const st = tspod(['stats', '--no-stream']);
  assert.is(st.status, 125);
  assert.match(st.stderr, /stats is not supported in rootless mode without cgroups v2/);
});

test.run();
