// -p/--publish, --expose and -P as Podman reads them, and how published ports are shown.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { parsePublish, parseExpose, resolvePorts, portsColumn, portLines, inspectPorts } from '../../src/engine/ports.js';
import { pastaPortArgs, checkPortsFree } from '../../src/net/ports.js';

test('-p forms: CONTAINER, HOST:CONTAINER, IP:HOST:CONTAINER, IP::CONTAINER, [IPv6]:..., ranges, /udp', () => {
  assert.equal(parsePublish('80'), [{ hostIp: '', hostPort: 0, containerPort: 80, range: 1, protocol: 'tcp' }]);
  assert.equal(parsePublish('8080:80'), [{ hostIp: '', hostPort: 8080, containerPort: 80, range: 1, protocol: 'tcp' }]);
  assert.equal(parsePublish('127.0.0.1:8081:80/udp'), [{ hostIp: '127.0.0.1', hostPort: 8081, containerPort: 80, range: 1, protocol: 'udp' }]);
  assert.equal(parsePublish('127.0.0.1::80'), [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, range: 1, protocol: 'tcp' }]);
  assert.equal(parsePublish('[::1]:8080:80/TCP'), [{ hostIp: '::1', hostPort: 8080, containerPort: 80, range: 1, protocol: 'tcp' }]);
  assert.equal(parsePublish('8090-8091:90-91'), [{ hostIp: '', hostPort: 8090, containerPort: 90, range: 2, protocol: 'tcp' }]);
  assert.is(parsePublish('90-92').length, 3, 'a container range alone: each on a free host port');
});

test('bad -p values are usage errors that say what is wrong', () => {
  assert.throws(() => parsePublish('8090-8092:90-91'), /must be the same length/);
  assert.throws(() => parsePublish('http'), /"http" is not a port/);
  assert.throws(() => parsePublish('70000:80'), /"70000" is not a port/);
  assert.throws(() => parsePublish('1.2.3:8080:80'), /"1.2.3" is not an IP address/);
  assert.throws(() => parsePublish('8080:80/sctp'), /protocol "sctp" cannot be published/);
  assert.throws(() => parsePublish('a:b:c:d'), /too many or empty fields/);
  assert.throws(() => parseExpose('x/tcp'), /invalid --expose "x\/tcp"/);
  assert.equal(parseExpose('8000-8001/udp'), [{ port: 8000, protocol: 'udp' }, { port: 8001, protocol: 'udp' }]);
});

test('-P publishes every exposed port not already published, on free ports >= 1024; a host port twice is refused', async () => {
  const ports = await resolvePorts(['8080:80'], { publishAll: true, expose: ['9000/udp'], imageExposed: ['80/tcp', '443/tcp'] });
  assert.equal(ports.map((p) => `${p.containerPort}/${p.protocol}`), ['80/tcp', '443/tcp', '9000/udp']);
  assert.is(ports[0].hostPort, 8080);
  for (const p of ports.slice(1)) assert.ok(p.hostPort >= 1024, `${p.hostPort}`);
  try { await resolvePorts(['8080:80', '8080:81'], {}); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /0\.0\.0\.0:8080\/tcp is published twice/); }
  assert.is((await resolvePorts(['8080:80', '8080:80/udp'], {})).length, 2, 'tcp and udp of one port are two');
});

test('shown as Podman shows them: ps PORTS, port, inspect', () => {
  const m = [...parsePublish('8080:80'), ...parsePublish('127.0.0.1:8081:81/udp'), ...parsePublish('8090-8091:90-91')];
  assert.is(portsColumn(m), '0.0.0.0:8080->80/tcp, 127.0.0.1:8081->81/udp, 0.0.0.0:8090-8091->90-91/tcp');
  assert.equal(portLines(m), ['80/tcp -> 0.0.0.0:8080', '81/udp -> 127.0.0.1:8081', '90/tcp -> 0.0.0.0:8090', '91/tcp -> 0.0.0.0:8091']);
  assert.equal(portLines(m, '91'), ['0.0.0.0:8091']);
  assert.equal(portLines(m, '81'), [], '81 alone means 81/tcp');
  assert.equal(portLines(m, '81/udp'), ['127.0.0.1:8081']);
  const { ports, bindings } = inspectPorts(parsePublish('8080:80'), ['80/tcp', '9000/tcp']);
  assert.equal(ports, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '9000/tcp': null });
  assert.equal(bindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
});

test('pasta gets one -t/-u per mapping, none when there are none', () => {
  assert.equal(pastaPortArgs([...parsePublish('127.0.0.1:8081:80'), ...parsePublish('8090-8091:90-91')]), ['-t', '127.0.0.1/8081:80', '-t', '8090-8091:90-91', '-u', 'none']);
  assert.equal(pastaPortArgs(parsePublish('53:53/udp')), ['-t', 'none', '-u', '53:53']);
});

test('a taken port is named with "address already in use"', async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    await checkPortsFree(parsePublish(`127.0.0.1:${port}:80`));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, new RegExp(`cannot publish 127\\.0\\.0\\.1:${port}/tcp: address already in use`));
  } finally {
    server.close();
  }
  await checkPortsFree(parsePublish(`127.0.0.1:${port}:80/udp`));
});

test.run();
