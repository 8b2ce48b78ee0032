// Storage drivers (issue 16): the same store of layers under native overlay, fuse-overlayfs and
// vfs (a copy per container). Under each: pull, run with changes, diff, commit, run the commit,
// and a user namespace of the container's own; info names the driver.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getWorld, tspod } from '../fixtures/world.js';

let alpine = '';
const ok = (args: string[]) => { const r = tspod(args, { timeout: 300_000 }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };

test.before(async () => {
  ({ registry: alpine } = await getWorld());
  alpine = `${alpine}/alpine:3.20`;
});
test.after(() => { tspod(['rm', '-a', '-f', '-t', '0']); tspod(['rmi', '-f', 'drv-overlay', 'drv-fuse-overlayfs', 'drv-vfs']); });

for (const [driver, graph] of [['overlay', 'overlay'], ['fuse-overlayfs', 'overlay'], ['vfs', 'vfs']]) {
  test(`${driver}: pull, run with changes, diff, commit and run the commit, keep-id; info says ${graph}`, () => {
    const d = ['--storage-driver', driver];
    ok([...d, 'pull', '-q', alpine]);
    assert.is(ok([...d, 'info', '--format', '{{.Store.GraphDriverName}}']).trim(), graph);
    const name = `drv-${driver}`;
    ok([...d, 'run', '--name', name, alpine, 'sh', '-c', 'rm -f /etc/motd && echo new > /new && chmod 700 /home && mkdir -p /made']);
    assert.equal(ok([...d, 'diff', name]).trim().split('\n').sort(), ['A /made', 'A /new', 'C /etc', 'C /home', 'D /etc/motd']);
    ok([...d, 'commit', '-q', name, name]);
    assert.is(ok([...d, 'run', '--rm', name, 'sh', '-c', 'cat /new; test -e /etc/motd || echo gone; stat -c %a /home']), 'new\ngone\n700\n');
    // the container keeps its driver: started again without the flag, it still has its changes
    assert.is(ok(['start', '-a', name]), '');
    assert.is(ok([...d, 'run', '--rm', '--userns', 'keep-id', alpine, 'stat', '-c', '%u:%g', '/etc', '/bin/busybox']), '0:0\n0:0\n');
    ok(['rm', name]);
  });
}

test('an unknown driver is 125 naming it', () => {
  const r = tspod(['--storage-driver', 'zfs', 'run', '--rm', alpine, 'true']);
  assert.is(r.status, 125);
  assert.match(r.stderr, /storage driver "zfs" is not one tspod has/);
});

test.run();
