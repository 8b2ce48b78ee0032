// Locks taken by a process that serves many requests at once (the API service): holders in one
// process wait for each other in turn, without blocking the event loop, and still exclude others.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { acquireLock, acquireLockAsync } from '../../src/sys/lock.js';

const file = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-lock-')), 'lock');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('two holders in one process take turns, in order; the event loop runs meanwhile', async () => {
  const f = file();
  const order: string[] = [];
  const first = await acquireLockAsync(f);
  const second = acquireLockAsync(f).then((release) => { order.push('second'); release(); });
  let ticks = 0;
  const ticker = setInterval(() => { ticks++; }, 5);
  await sleep(50);
  order.push('first');
  first();
  await second;
  clearInterval(ticker);
  assert.equal(order, ['first', 'second']);
  assert.ok(ticks >= 3, 'timers ran while the second waited');
});

test('a synchronous lock of a file held here is refused, not a deadlock; tryOnly says it is taken', async () => {
  const f = file();
  const release = await acquireLockAsync(f);
  assert.throws(() => acquireLock(f), /locked by this process/);
  assert.is(acquireLock(f, { tryOnly: true }), undefined);
  release();
  const again = acquireLock(f);
  again();
});

test('another process holding the lock is waited for, then the lock is ours', async () => {
  const f = file();
  fs.writeFileSync(f, '');
  // flock(1) holds it for 300 ms.
  const other = spawn('flock', [f, 'sleep', '0.3'], { stdio: 'ignore' });
  const gone = new Promise((r) => other.on('exit', r));
  await sleep(100);
  const t0 = Date.now();
  const release = await acquireLockAsync(f);
  assert.ok(Date.now() - t0 >= 100, 'it waited for the other process');
  release();
  await gone;
});

test.run();
