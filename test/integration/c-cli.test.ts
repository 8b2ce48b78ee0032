// The CLI itself: help, version, info, and the user namespace as a user without subordinate ids sees it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getWorld, tspod } from '../fixtures/world.js';

let reg = '';
test.before(async () => { reg = (await getWorld()).registry; });

test('--help lists the commands; COMMAND --help shows usage with examples', () => {
  const h = tspod(['--help']);
  for (const c of ['pull', 'run', 'images', 'rmi', 'image inspect', 'info', 'version']) assert.match(h.stdout, new RegExp(`tspod ${c}\\b`));
  const r = tspod(['run', '--help']);
  assert.match(r.stdout, /^Examples$/m);
  assert.match(r.stdout, /tspod run --rm alpine echo hello/);
  assert.match(tspod(['image', 'ls', '--help']).stdout, /list the images/i);
});

test('version and info', () => {
  assert.match(tspod(['version']).stdout, /^Version:\s+\d+\.\d+\.\d+/);
  const info = JSON.parse(tspod(['info', '--format', 'json']).stdout);
  assert.is(info.host.rootless, true);
  assert.is(info.host.ociRuntime.name, 'runc');
  assert.match(info.host.uidMap.join('\n'), /^0 \d+ 1\n1 \d+ 65536$/);
  assert.match(info.store.graphRoot, /\.local\/share\/tspod$/);
  assert.match(info.host.networkMode, /pasta|slirp4netns/);
  assert.is(tspod(['info', '--format', '{{.Host.OciRuntime.Name}}']).stdout, 'runc\n');
});

test('a user without subordinate ids is told what to add, and an image that needs them fails clearly', () => {
  spawnSync('pkill', ['-KILL', '-u', 'tspodnosub']);
  spawnSync('sh', ['-c', 'rm -rf /tmp/tspod-run-$(id -u tspodnosub) /home/tspodnosub/.local/share/tspod']);
  const r = tspodAs('tspodnosub', ['pull', '--tls-verify=false', `${reg}/alpine:3.20`]);
  assert.match(r.stderr, /no entry for "tspodnosub" in \/etc\/subuid/);
  assert.match(r.stderr, /usermod --add-subuids/);
  // Alpine's /etc/shadow belongs to group 42: with one mapped id it can't be unpacked (Podman fails too).
  assert.is(r.status, 125);
  assert.match(r.stderr, /^Error: layer entry "\.\/etc\/shadow" is owned by 0:42, outside the ids mapped in your user namespace \(0-0\)$/m);
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
