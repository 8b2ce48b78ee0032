// A detached container's record against the processes that exist: one whose process has ended is
// exited as soon as conmon's exit file says how, although the record still says running.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { reconcile } from '../../src/engine/containers.js';
import type { Store, ContainerRecord } from '../../src/storage/store.js';

function fixture(pid: number): { store: Store; rec: ContainerRecord; exitFile: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-reconcile-'));
  fs.mkdirSync(path.join(dir, 'userdata/exits'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'userdata/pidfile'), String(pid));
  const store = { containerDir: () => dir } as unknown as Store;
  const rec = { id: 'c1', name: 'c1', imageId: '', imageName: '', created: '', command: [], state: 'running', detached: true, monitorPid: process.pid } as ContainerRecord;
  return { store, rec, exitFile: path.join(dir, 'userdata/exits/c1') };
}

test('a running process keeps the record running', () => {
  const { store, rec } = fixture(process.pid);
  assert.is(reconcile(store, rec).state, 'running');
});

test('an ended process: the record is exited with the code of the exit file that follows', () => {
  const gone = spawnSync('true').pid!;
  const { store, rec, exitFile } = fixture(gone);
  // conmon writes the exit file a moment after the process ended (it drains the output first).
  spawn('sh', ['-c', `sleep 0.1; echo 3 > ${exitFile}`], { stdio: 'ignore' });
  const t = Date.now();
  const r = reconcile(store, rec);
  assert.is(r.state, 'exited');
  assert.is(r.exitCode, 3);
  assert.ok(Date.now() - t < 1500);
});

test.run();
