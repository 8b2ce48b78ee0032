// Resource limits as the OCI spec carries them (the runtime applies them on cgroup v1 as root, and
// on a delegated cgroup v2 tree; this machine has no v2, so the spec is what is tested here), and
// the id mappings a user namespace of the container's own gets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseResources, specResources } from '../../src/engine/confine.js';
import { buildSpec } from '../../src/runtime/spec.js';
import { toHost } from '../../src/storage/mapped.js';

test('resource flags read as Docker reads them; bad values refused naming the flag', () => {
  assert.equal(parseResources({ memory: '1g', 'memory-swap': '3G', 'memory-reservation': '400M', cpus: '1.5', 'cpu-shares': '512', 'cpuset-cpus': '0-1,3', 'pids-limit': '100', 'blkio-weight': '321' }),
    { memory: 1073741824, memorySwap: 3221225472, memoryReservation: 419430400, cpus: 1.5, cpuShares: 512, cpusetCpus: '0-1,3', pidsLimit: 100, blkioWeight: 321 });
  assert.equal(parseResources({ 'memory-swap': '-1' }), { memorySwap: -1 });
  assert.is(parseResources({ memory: undefined }), undefined);
  assert.throws(() => parseResources({ memory: 'lots' }), /invalid argument "lots" for "--memory" flag/);
  assert.throws(() => parseResources({ 'blkio-weight': '5' }), /--blkio-weight/);
  assert.throws(() => parseResources({ memory: '1g', 'memory-swap': '512m' }), /memoryswap limit should be larger than memory/);
});

test('linux.resources: memory, cpu quota over a 100 ms period, pids, blkio; and the cgroup path in the spec', () => {
  assert.equal(specResources({ memory: 2 ** 30, cpus: 1.5, cpuShares: 512, cpusetCpus: '0', pidsLimit: 100, blkioWeight: 321 }), {
    memory: { limit: 2 ** 30, swap: 2 ** 31 }, cpu: { quota: 150000, period: 100000, shares: 512, cpus: '0' }, pids: { limit: 100 }, blockIO: { weight: 321 },
  });
  assert.equal(specResources({ memory: 1 << 20, memorySwap: -1 }), { memory: { limit: 1 << 20, swap: -1 } });
  const spec = buildSpec({
    rootfs: '/r', readOnly: false, args: ['true'], env: [], cwd: '/', uid: 0, gid: 0, additionalGids: [], terminal: false, hostname: 'h', network: 'new', etcFiles: {}, rootless: false,
    resources: specResources({ pidsLimit: 5 }), cgroupsPath: '/tspod/tspod-abc',
  }) as { linux: { resources?: unknown; cgroupsPath?: string } };
  assert.equal(spec.linux.resources, { pids: { limit: 5 } });
  assert.is(spec.linux.cgroupsPath, '/tspod/tspod-abc');
});

test('a user namespace of its own: the spec maps ids and creates (or joins) it; ids shift through the maps', () => {
  const maps = [{ container: 0, host: 1, size: 1000 }, { container: 1000, host: 0, size: 1 }];
  const spec = buildSpec({
    rootfs: '/r', readOnly: false, args: ['true'], env: [], cwd: '/', uid: 1000, gid: 1000, additionalGids: [], terminal: false, hostname: 'h', network: { path: '/run/ns' }, etcFiles: {}, rootless: true,
    userns: { uidMappings: maps, gidMappings: maps, path: '/run/ns.user' },
  }) as { linux: { namespaces: Array<{ type: string; path?: string }>; uidMappings: unknown[] }; mounts: Array<{ destination: string; type: string }> };
  assert.equal(spec.linux.namespaces.find((n) => n.type === 'user'), { type: 'user', path: '/run/ns.user' });
  assert.equal(spec.linux.uidMappings, [{ containerID: 0, hostID: 1, size: 1000 }, { containerID: 1000, hostID: 0, size: 1 }]);
  assert.is(spec.mounts.find((m) => m.destination === '/sys')?.type, 'bind', 'sysfs of a network namespace it does not own is bound');
  assert.is(toHost(maps, 1000), 0);
  assert.is(toHost(maps, 0), 1);
  assert.is(toHost(maps, 70000), 70000);
});

test.run();
