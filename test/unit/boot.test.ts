// The boot loader's code cache: written by the first run of a command, used by the next, and
// replaced (the old one removed) once the bundle changes. Run on a copy of the built bundle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const BUNDLE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bundle');

function boot(dir: string, cache: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--', path.join(dir, 'tspod.cjs'), ...args], {
    encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent', XDG_CACHE_HOME: cache, TSPOD_DEBUG_MODULES: '1', _TSPOD_IN_USERNS: '1' },
  });
  return { status: r.status, how: /tspod-code-cache: (.*) (\S+)$/m.exec(r.stderr)?.[1], flags: /tspod-node-flags: (.*)$/m.exec(r.stderr)?.[1], stderr: r.stderr };
}

test('the code cache is written once per command, then used; a changed bundle gets a new one and the old goes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-boot-'));
  fs.cpSync(BUNDLE, dir, { recursive: true });
  fs.symlinkSync(path.resolve(BUNDLE, '../../node_modules'), path.join(dir, 'node_modules'));
  const cache = path.join(dir, 'cache');
  const first = boot(dir, cache, 'version');
  assert.is(first.status, 0, first.stderr);
  assert.is(first.how, 'written');
  assert.is(boot(dir, cache, 'version').how, 'used');
  assert.is(boot(dir, cache, 'info', '--help').how, 'written', 'each command has its own');
  const before = fs.readdirSync(path.join(cache, 'tspod'));
  assert.is(before.length, 2);
  // A new build: the bundle changes (size and time), and so does the cache's key.
  fs.appendFileSync(path.join(dir, 'cli.cjs'), '\n// rebuilt\n');
  const after = boot(dir, cache, 'version');
  assert.is(after.status, 0, after.stderr);
  assert.is(after.how, 'written');
  const now = fs.readdirSync(path.join(cache, 'tspod'));
  assert.is(now.length, 1, `the old build's caches are removed: ${now}`);
  assert.not.ok(before.includes(now[0]));
  assert.is(boot(dir, cache, 'version').how, 'used');
});

test('a cache V8 rejects (damaged, or another version of the code) costs nothing but a recompile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-boot-'));
  fs.cpSync(BUNDLE, dir, { recursive: true });
  fs.symlinkSync(path.resolve(BUNDLE, '../../node_modules'), path.join(dir, 'node_modules'));
  const cache = path.join(dir, 'cache');
  boot(dir, cache, 'version');
  const file = path.join(cache, 'tspod', fs.readdirSync(path.join(cache, 'tspod'))[0]);
  fs.writeFileSync(file, Buffer.alloc(4096, 7));
  const r = boot(dir, cache, 'version');
  assert.is(r.status, 0, r.stderr);
  assert.is(r.how, 'rejected, written');
  assert.is(boot(dir, cache, 'version').how, 'used');
});

test('no V8 flag reaches Node for a command other than pull: any would cost Node its startup snapshot', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-boot-'));
  const r = boot(BUNDLE, dir, 'version');
  assert.is(r.flags, '');
});

/** What the launcher (dist/tspod) execs, through a `node` on PATH that prints its arguments. */
function launched(...args: string[]): string[] {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-launch-'));
  fs.writeFileSync(path.join(bin, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
  const r = spawnSync(path.resolve(BUNDLE, '../tspod'), args, { encoding: 'utf8', env: { PATH: bin, _TSPOD_IN_USERNS: '1' } });
  fs.rmSync(bin, { recursive: true, force: true });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trimEnd().split('\n');
}

test('the launcher passes Node no option but pull\'s, and ends Node\'s options before tspod\'s', () => {
  const cli = path.join(BUNDLE, 'tspod.cjs');
  assert.equal(launched('run', '--env-file', 'x', 'alpine'), ['--', cli, 'run', '--env-file', 'x', 'alpine']);
  assert.equal(launched('version'), ['--', cli, 'version']);
  assert.equal(launched('pull', 'alpine'), ['--max-semi-space-size=1', '--', cli, 'pull', 'alpine']);
});

test.run();
