// User networks' definitions: subnets taken in turn from 10.89.0.0/16, clashes refused, gateways and
// lease ranges checked, names and ids, and what prune keeps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../src/storage/store.js';
import { createNetwork, listNetworks, lookupNetwork, pruneNetworks, removeNetwork } from '../../src/engine/networks.js';

const fresh = () => new Store(fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-nets-'))).init();

test('new networks take the next free /24 of 10.89.0.0/16 and the next podmanN interface; a --subnet in use is refused', () => {
  const store = fresh();
  assert.is(createNetwork(store, 'a').subnets[0].subnet, '10.89.0.0/24');
  assert.is(createNetwork(store, 'b', { subnet: '10.89.1.0/24' }).subnets[0].gateway, '10.89.1.1');
  const c = createNetwork(store, 'c');
  assert.equal([c.subnets[0].subnet, c.network_interface], ['10.89.2.0/24', 'podman3'], 'around the one taken by hand');
  assert.throws(() => createNetwork(store, 'd', { subnet: '10.89.0.128/25' }), /subnet 10\.89\.0\.128\/25 is already used/);
  try { createNetwork(store, 'e', { subnet: '10.88.7.0/24' }); assert.unreachable(); } catch (e) {
    assert.match((e as { hint?: string }).hint ?? '', /network podman has it/, 'the default network\'s 10.88.0.0/16 counts');
  }
  assert.is(createNetwork(store, undefined).name, 'podman1', 'a name is made when none is given');
  assert.equal(listNetworks(store).map((n) => n.name), ['a', 'b', 'c', 'podman', 'podman1']);
});

test('gateway and ip range must lie in the subnet; names follow Podman\'s pattern; ids are found by prefix', () => {
  const store = fresh();
  assert.throws(() => createNetwork(store, 'g', { subnet: '10.90.0.0/24', gateway: '10.91.0.1' }), /gateway 10\.91\.0\.1 not in subnet 10\.90\.0\.0\/24/);
  assert.throws(() => createNetwork(store, 'g', { gateway: '10.90.0.1' }), /cannot set gateway or range without subnet/);
  assert.throws(() => createNetwork(store, 'r', { subnet: '10.90.0.0/24', ipRange: '10.91.0.0/25' }), /ip range 10\.91\.0\.0\/25 is not in subnet/);
  assert.throws(() => createNetwork(store, 'bad name'), /names must match/);
  assert.throws(() => createNetwork(store, 'x', { subnet: '10.90.0.0' }), /invalid CIDR address: 10\.90\.0\.0/);
  const n = createNetwork(store, 'ok', { subnet: '10.90.0.5/24', ipRange: '10.90.0.64/26' });
  assert.equal(n.subnets, [{ subnet: '10.90.0.0/24', gateway: '10.90.0.1', lease_range: { start_ip: '10.90.0.65', end_ip: '10.90.0.127' } }], 'the subnet is normalised to its network');
  assert.is(lookupNetwork(store, n.id.slice(0, 10))?.name, 'ok');
  assert.is(lookupNetwork(store, 'podman')?.id, '2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9');
});

test('rm and prune keep the default network', async () => {
  const store = fresh();
  createNetwork(store, 'one');
  createNetwork(store, 'two');
  assert.is(await removeNetwork(store, 'one'), 'one');
  try { await removeNetwork(store, 'podman'); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /default network podman cannot be removed/); }
  assert.equal(await pruneNetworks(store), ['two']);
  assert.equal(listNetworks(store).map((n) => n.name), ['podman']);
});

test.run();
