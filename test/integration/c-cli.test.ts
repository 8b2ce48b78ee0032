// The CLI itself: help, version, info, and the user namespace as a user without subordinate ids sees it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getWorld, tspod } from '../fixtures/world.js';

let reg = '';
test.before(async () => { reg = (await getWorld()).registry; });

test('help in Podman\'s layout: Available Commands (groups too), Usage, Examples, Options; a group without a command says so', () => {
  const h = tspod(['--help']);
  assert.match(h.stdout, /^Manage pods, containers and images\n\nUsage:\n  tspod \[options\] \[command\]\n\nAvailable Commands:\n/);
  for (const c of ['container', 'image', 'images', 'info', 'ps', 'pull', 'rmi', 'run', 'version', 'volume']) assert.match(h.stdout, new RegExp(`^  ${c} +\\S`, 'm'));
  assert.match(h.stdout, /^Options:\n(.*\n)*      --root string/m);
  assert.is(tspod(['help']).stdout, h.stdout);
  const r = tspod(['run', '--help']);
  assert.match(r.stdout, /^Usage:\n  tspod run \[options\] IMAGE \[COMMAND \[ARG\.\.\.\]\]$/m);
  assert.match(r.stdout, /^Examples:\n(  .*\n)*  tspod run --rm alpine echo hello$/m);
  assert.match(r.stdout, /^Options:\n/m);
  const image = tspod(['image', '--help']);
  assert.match(image.stdout, /^Usage:\n  tspod image \[options\] \[command\]$/m);
  assert.match(image.stdout, /^  ls +List images in local storage$/m);
  const bare = tspod(['image']);
  assert.is(bare.status, 125);
  assert.match(bare.stdout, /^Available Commands:$/m);
  assert.is(bare.stderr, "Error: missing command 'tspod image COMMAND'\n");
  const none = tspod(['ps', 'x']);
  assert.equal([none.status, none.stderr], [125, "Error: `tspod ps` takes no arguments\nSee 'tspod ps --help'\n"]);
});

test('version and info in Podman\'s shapes: its JSON keys, its Go field names in templates, its YAML', () => {
  const v = tspod(['version']).stdout;
  assert.match(v, /^Version:\s+\d+\.\d+\.\d+\nAPI Version:\s+\S+\n/);
  assert.ok(Date.parse(/^Built:\s+(.*)$/m.exec(v)![1]) > Date.parse('2026-01-01'), 'a real build time');
  assert.is(tspod(['version', '--format', '{{.Client.Version}}={{.Server.Version}}']).stdout, `${/^Version:\s+(\S+)/.exec(v)![1]}=${/^Version:\s+(\S+)/.exec(v)![1]}\n`);
  const info = JSON.parse(tspod(['info', '--format', 'json']).stdout);
  assert.is(info.host.security.rootless, true);
  assert.is(info.host.ociRuntime.name, 'runc');
  assert.match(info.host.ociRuntime.path, /^\/usr\/.*bin\/runc$/);
  assert.match(info.host.conmon.path, /conmon$/);
  assert.equal(info.host.idMappings.uidmap[0], { container_id: 0, host_id: Number(spawnSync('id', ['-u', 'tspodtest'], { encoding: 'utf8' }).stdout), size: 1 });
  assert.match(info.store.graphRoot, /\.local\/share\/tspod$/);
  assert.is(info.store.graphDriverName, 'overlay');
  assert.match(info.host.networkBackend, /pasta|slirp4netns/);
  const t = tspod(['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.CgroupsVersion}} {{.Store.GraphDriverName}} {{.Host.Security.Rootless}} {{.Store.ImageStore.Number}}']);
  assert.match(t.stdout, /^runc v[12] overlay true \d+\n$/);
  const bad = tspod(['info', '--format', '{{.Host.Nope}}']);
  assert.equal([bad.status, bad.stderr], [125, 'Error: template: info:1:7: executing "info" at <.Host.Nope>: can\'t evaluate field Nope in type *define.HostInfo\n']);
  const yaml = tspod(['info']).stdout;
  assert.match(yaml, /^host:\n  arch: amd64\n/);
  assert.match(yaml, /^  ociRuntime:\n    name: runc\n/m);
  assert.match(yaml, /^  imageStore:\n    number: \d+$/m);
  // --root and --storage-driver, as Podman's globals
  const other = tspod(['--root', '/tmp/tspod-other-root', '--storage-driver', 'vfs', 'info', '--format', '{{.Store.GraphRoot}} {{.Store.GraphDriverName}} {{.Store.GraphOptions}}']);
  assert.is(other.stdout, '/tmp/tspod-other-root vfs map[]\n');
  const refused = tspod(['--storage-driver', 'zfs', 'info']);
  assert.equal([refused.status, refused.stderr], [125, 'Error: storage driver "zfs" is not one tspod has; use overlay (native, or through fuse-overlayfs with mount_program) or vfs\n']);
});

test('doctor: one line per prerequisite, and exit 0 where containers can run', () => {
  const r = tspod(['doctor']);
  assert.is(r.status, 0, r.stdout + r.stderr);
  for (const name of ['newuidmap/newgidmap', '/etc/subuid', '/etc/subgid', 'OCI runtime', 'conmon', 'network helpers', '/dev/net/tun', 'user.max_user_namespaces', 'cgroups', 'seccomp profile', 'user namespace', 'storage']) {
    assert.match(r.stdout, new RegExp(`^(ok  |warn)  ${name.replace(/[/.]/g, '\\$&')}: `, 'm'), name);
  }
  assert.match(r.stdout, /^tspod can run containers here$/m);
});

test('a user without subordinate ids is told what to add, and an image that needs them fails clearly', () => {
  spawnSync('pkill', ['-KILL', '-u', 'tspodnosub']);
  spawnSync('sh', ['-c', 'rm -rf /tmp/tspod-run-$(id -u tspodnosub) /home/tspodnosub/.local/share/tspod']);
  const r = tspodAs('tspodnosub', ['pull', '--tls-verify=false', `${reg}/alpine:3.20`]);
  assert.match(r.stderr, /no entry for "tspodnosub" in \/etc\/subuid/);
  assert.match(r.stderr, /usermod --add-subuids/);
  // Alpine's /etc/shadow belongs to group 42: with one mapped id it can't be unpacked (Podman fails too).
  assert.is(r.status, 125);
  assert.match(r.stderr, /^Error: layer entry "\.\/etc\/shadow" is owned by 0:42, outside the ids mapped in your user namespace \(0-0\); give your user 65536 subordinate ids in \/etc\/subuid and \/etc\/subgid \(sudo usermod --add-subuids \d+-\d+ --add-subgids \d+-\d+ tspodnosub\)/m);
  // doctor says the same, and that tspod can't run containers here
  const doc = tspodAs('tspodnosub', ['doctor']);
  assert.is(doc.status, 1, doc.stdout);
  assert.match(doc.stdout, /^FAIL  \/etc\/subuid: no entry for tspodnosub: .*; fix: sudo usermod --add-subuids \d+-\d+ --add-subgids \d+-\d+ tspodnosub$/m);
  assert.match(doc.stdout, /^tspod cannot run containers here: 2 problems above$/m);
  assert.equal(spawnSync('sh', ['-c', 'ls /home/tspodnosub/.local/share/tspod/layers /home/tspodnosub/.local/share/tspod/tmp'], { encoding: 'utf8' }).stdout.trim().split('\n').filter((l) => l && !l.endsWith(':')), [], 'nothing was stored');
});

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../fixtures/world.js';
function tspodAs(user: string, args: string[]) {
  const r = spawnSync('runuser', ['-u', user, '--', 'env', '-i', `HOME=/home/${user}`, 'PATH=/usr/bin:/bin:/usr/sbin:/sbin', path.join(ROOT, 'bin/tspod'), '--log-level', 'info', ...args], { encoding: 'utf8', input: '', cwd: '/' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.run();
