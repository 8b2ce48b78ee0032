// The flag grammars users type: --restart, -v, logs --since/--until, --label.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRestartPolicy } from '../../src/engine/create.js';
import { parseVolumeFlags } from '../../src/engine/volumes.js';
import { parseLogTime, signalNumber } from '../../src/engine/lifecycle.js';
import { parseLabels } from '../../src/engine/labels.js';

test('--restart: Docker\'s policies, a retry count only for on-failure', () => {
  assert.is(parseRestartPolicy(undefined), undefined);
  assert.is(parseRestartPolicy('no'), undefined);
  assert.equal(parseRestartPolicy('always'), { name: 'always', maxRetries: undefined });
  assert.equal(parseRestartPolicy('unless-stopped'), { name: 'unless-stopped', maxRetries: undefined });
  assert.equal(parseRestartPolicy('on-failure'), { name: 'on-failure', maxRetries: undefined });
  assert.equal(parseRestartPolicy('on-failure:5'), { name: 'on-failure', maxRetries: 5 });
  for (const bad of ['always:3', 'sometimes', 'on-failure:x', 'on-failure:']) assert.throws(() => parseRestartPolicy(bad), /invalid --restart policy/);
});

test('-v: binds, named and anonymous volumes, options, and what is refused', () => {
  const [named, anon, bind] = parseVolumeFlags(['data:/var/lib/data:ro', '/scratch', '/tmp:/host-tmp']);
  assert.equal(named, { type: 'volume', source: 'data', destination: '/var/lib/data', readOnly: true });
  assert.is(anon.type, 'volume');
  assert.ok(anon.anonymous);
  assert.match(anon.source, /^[a-f0-9]{64}$/);
  assert.is(anon.destination, '/scratch');
  assert.equal(bind, { type: 'bind', source: '/tmp', destination: '/host-tmp', readOnly: false });
  assert.throws(() => parseVolumeFlags(['data:relative']), /is not absolute/);
  assert.throws(() => parseVolumeFlags(['data:/x:rw,bogus']), /invalid volume option "bogus"/);
  assert.equal(parseVolumeFlags(['data:/x:noexec,nodev,z'])[0], { type: 'volume', source: 'data', destination: '/x', readOnly: false, mountOptions: ['noexec', 'nodev'] });
  assert.throws(() => parseVolumeFlags(['/tmp:/x', 'data:/x/']), /^\/x: duplicate mount destination$/);
  assert.throws(() => parseVolumeFlags(['a:b:c:d']), /invalid volume/);
  assert.throws(() => parseVolumeFlags(['bad name:/x']), /invalid volume name/);
  assert.throws(() => parseVolumeFlags(['/no/such/dir/here:/x']), /does not exist/);
});

test('logs --since/--until: RFC 3339, Unix seconds, durations before now', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  assert.is(parseLogTime('2026-11-23T11:00:00Z', now), Date.parse('2026-11-23T11:00:00Z'));
  assert.is(parseLogTime('1795392000', now), 1795392000 * 1000);
  assert.is(parseLogTime('1795392000.5', now), 1795392000500);
  assert.is(parseLogTime('10m', now), now - 600_000);
  assert.is(parseLogTime('1h30m', now), now - 5_400_000);
  assert.is(parseLogTime('250ms', now), now - 250);
  assert.throws(() => parseLogTime('yesterday', now), /cannot read the time "yesterday"/);
});

test('signals by name, with or without SIG, or by number', () => {
  assert.is(signalNumber('TERM'), 15);
  assert.is(signalNumber('sigkill'), 9);
  assert.is(signalNumber('HUP'), 1);
  assert.is(signalNumber('10'), 10);
  assert.is(signalNumber('NOPE'), undefined);
  assert.is(signalNumber('0'), undefined);
});

test('labels: KEY=VALUE, a bare KEY, and = inside a value', () => {
  assert.equal(parseLabels(['app=web', 'tier', 'expr=a=b']), { app: 'web', tier: '', expr: 'a=b' });
});

test.run();
