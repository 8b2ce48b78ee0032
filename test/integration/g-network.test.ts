// Published ports on the default network, as the unprivileged user: bodies fetched with curl, udp,
// loopback-only and ranges, -P, a taken port, ports freed by stop and rm -f and back after restart,
// and the host's loopback kept out of reach.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { getWorld, tspod } from '../fixtures/world.js';
import { sleep, BODY, hostAddress, freePort, curl, hostServer, userHelpers, listening } from '../fixtures/net.js';

let web = '';
let alpine = '';
test.before(async () => {
  const { registry } = await getWorld();
  web = `${registry}/web:latest`;
  alpine = `${registry}/alpine:3.20`;
  assert.is(tspod(['pull', '-q', web]).status, 0);
  assert.is(tspod(['pull', '-q', alpine]).status, 0);
});
test.after(() => { tspod(['rm', '-a', '-f', '-t', '0']); });


test('-p HOST:80 serves on every host address, 127.0.0.1:HOST:80 on loopback only; ranges; udp; port, ps and inspect show them', async () => {
  const [h1, h2, r1, u1] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const rangeStart = r1;
  const up = tspod(['run', '-d', '--name', 'web1', '-p', `${h1}:80`, '-p', `127.0.0.1:${h2}:80`, web]);
  assert.is(up.status, 0, up.stderr);
  assert.is(await curl(`http://127.0.0.1:${h1}/`), BODY);
  assert.is(await curl(`http://${hostAddress}:${h1}/`), BODY, 'on the host\'s public address too');
  assert.is(await curl(`http://127.0.0.1:${h2}/`), BODY);
  assert.is(await curl(`http://${hostAddress}:${h2}/`, 1), '', '127.0.0.1:HOST binds the loopback only');
  assert.is(tspod(['port', 'web1']).stdout, `80/tcp -> 0.0.0.0:${h1}\n80/tcp -> 127.0.0.1:${h2}\n`);
  assert.is(tspod(['port', 'web1', '80/tcp']).stdout, `0.0.0.0:${h1}\n127.0.0.1:${h2}\n`);
  const missing = tspod(['port', 'web1', '99']);
  assert.is(missing.status, 125);
  assert.match(missing.stderr, /failed to find published port "99"/);
  assert.is(tspod(['ps', '--filter', 'name=web1', '--format', '{{.Ports}}']).stdout, `0.0.0.0:${h1}->80/tcp, 127.0.0.1:${h2}->80/tcp\n`);
  assert.equal(JSON.parse(tspod(['inspect', '--format', '{{json .NetworkSettings.Ports}}', 'web1']).stdout), { '80/tcp': [{ HostIp: '', HostPort: String(h1) }, { HostIp: '127.0.0.1', HostPort: String(h2) }] });
  assert.equal(JSON.parse(tspod(['inspect', '--format', '{{json .HostConfig.PortBindings}}', 'web1']).stdout), { '80/tcp': [{ HostIp: '', HostPort: String(h1) }, { HostIp: '127.0.0.1', HostPort: String(h2) }] });

  // Two consecutive free ports for the range.
  let base = rangeStart;
  while (listening(base) || listening(base + 1)) base++;
  const two = tspod(['run', '-d', '--name', 'web2', '-p', `${base}-${base + 1}:80-81`, web, '/opt/bb/busybox', 'sh', '-c', '/opt/bb/busybox httpd -p 80 -h /srv; exec /opt/bb/busybox httpd -f -p 81 -h /srv']);
  assert.is(two.status, 0, two.stderr);
  assert.is(await curl(`http://127.0.0.1:${base}/`), BODY);
  assert.is(await curl(`http://127.0.0.1:${base + 1}/`), BODY);
  assert.is(tspod(['ps', '--filter', 'name=web2', '--format', '{{.Ports}}']).stdout, `0.0.0.0:${base}-${base + 1}->80-81/tcp\n`);

  const udp = tspod(['run', '-d', '--name', 'udp1', '-p', `${u1}:5353/udp`, alpine, 'sh', '-c', 'nc -l -u -p 5353 > /tmp/got']);
  assert.is(udp.status, 0, udp.stderr);
  let got = '';
  for (let i = 0; i < 40 && !got; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.send('datagram\n', u1, '127.0.0.1', () => r()));
    s.close();
    await sleep(150);
    got = tspod(['exec', 'udp1', 'cat', '/tmp/got']).stdout;
  }
  assert.match(got, /^(datagram\n)+$/);
  assert.is(tspod(['port', 'udp1']).stdout, `5353/udp -> 0.0.0.0:${u1}\n`);
  assert.is(tspod(['rm', '-f', '-t', '0', 'web1', 'web2', 'udp1']).status, 0);
});

test('-p PORT and -P take free host ports >= 1024, for EXPOSE and --expose; --network host discards ports with Podman\'s warning', async () => {
  assert.is(tspod(['run', '-d', '--name', 'all', '-P', '--expose', '8125/udp', web]).status, 0);
  const lines = tspod(['port', 'all']).stdout.trim().split('\n');
  assert.is(lines.length, 2, lines.join('|'));
  const [tcp, udp] = lines.map((l) => /^(\d+\/\w+) -> 0\.0\.0\.0:(\d+)$/.exec(l)!);
  assert.is(tcp[1], '80/tcp');
  assert.is(udp[1], '8125/udp');
  for (const m of [tcp, udp]) assert.ok(Number(m[2]) >= 1024, m[2]);
  assert.is(await curl(`http://127.0.0.1:${tcp[2]}/`), BODY);
  assert.is(tspod(['run', '-d', '--name', 'one', '-p', '80', web]).status, 0);
  const one = /^0\.0\.0\.0:(\d+)$/.exec(tspod(['port', 'one', '80']).stdout.trim())!;
  assert.ok(one, 'a free host port was chosen');
  assert.is(await curl(`http://127.0.0.1:${one[1]}/`), BODY);
  // Exposed but not published: listed, as null.
  assert.is(tspod(['create', '--name', 'exposed', '--expose', '9000', web]).status, 0);
  assert.equal(JSON.parse(tspod(['inspect', '--format', '{{json .NetworkSettings.Ports}}', 'exposed']).stdout), { '80/tcp': null, '9000/tcp': null });
  const host = tspod(['run', '--rm', '-p', '8080', '--net=host', alpine, 'echo', 'ran']);
  assert.is(host.status, 0, host.stderr);
  assert.is(host.stderr, 'Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use\n');
  assert.is(host.stdout, 'ran\n');
  assert.is(tspod(['rm', '-f', '-t', '0', 'all', 'one', 'exposed']).status, 0);
});

test('a taken host port: exit 125, one line naming it, nothing left running; stop and rm -f free ports at once, TCP and UDP', async () => {
  const port = await freePort();
  const holder = spawn('python3', ['-c', `import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("0.0.0.0",${port}))\ns.listen()\nprint("up",flush=True)\ntime.sleep(60)`], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => holder.stdout!.once('data', r));
  try {
    const clash = tspod(['run', '-d', '--name', 'clash', '-p', `${port}:80`, web]);
    assert.is(clash.status, 125);
    assert.is(clash.stderr.trim().split('\n').length, 1, clash.stderr);
    assert.match(clash.stderr, new RegExp(`^Error: cannot publish 0\\.0\\.0\\.0:${port}/tcp: address already in use`));
    assert.is(tspod(['ps', '-a', '--filter', 'name=clash', '--format', '{{.Status}}']).stdout, 'Created\n', 'created, not started');
    assert.is(userHelpers(), '', 'no helper left behind');
    const rm = tspod(['run', '--rm', '--name', 'clash-rm', '-p', `${port}:80`, web]);
    assert.is(rm.status, 125);
    assert.is(tspod(['container', 'exists', 'clash-rm']).status, 1, '--rm removes what could not start');
  } finally {
    holder.kill();
  }
  await sleep(200);
  assert.is(tspod(['start', 'clash']).status, 0, 'it starts once the port is free');
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  const udpPort = await freePort();
  assert.is(tspod(['run', '-d', '--name', 'both', '-p', `${udpPort}:80`, '-p', `${udpPort}:80/udp`, web]).status, 0);
  assert.ok(listening(udpPort).split('\n').length >= 2, listening(udpPort));
  assert.is(tspod(['rm', '-f', '-t', '0', 'both']).status, 0);
  assert.is(listening(udpPort), '', 'rm -f freed TCP and UDP at once');
  const again = tspod(['run', '-d', '--name', 'both2', '-p', `${udpPort}:80`, '-p', `${udpPort}:80/udp`, web]);
  assert.is(again.status, 0, again.stderr);
  assert.is(tspod(['stop', '-t', '0', 'clash']).status, 0);
  assert.is(listening(port), '', 'stop freed it');
  assert.is(tspod(['rm', '-f', '-t', '0', 'clash', 'both2']).status, 0);
});

test('published ports come back after stop + start and restart', async () => {
  const port = await freePort();
  assert.is(tspod(['run', '-d', '--name', 'again', '-p', `${port}:80`, web]).status, 0);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  assert.is(tspod(['stop', '-t', '0', 'again']).status, 0);
  assert.is(await curl(`http://127.0.0.1:${port}/`, 1), '');
  assert.is(tspod(['start', 'again']).status, 0);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  assert.is(tspod(['restart', '-t', '0', 'again']).status, 0);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  assert.is(tspod(['port', 'again']).stdout, `80/tcp -> 0.0.0.0:${port}\n`);
  assert.is(tspod(['rm', '-f', '-t', '0', 'again']).status, 0);
});

test('the host\'s loopback stays out of reach (gateway, host.containers.internal, the host\'s address) unless asked for', async () => {
  const [lo, pub] = [await freePort(), await freePort()];
  const servers = [hostServer('127.0.0.1', lo), hostServer('0.0.0.0', pub)];
  try {
    assert.is(await curl(`http://127.0.0.1:${lo}/`), 'host 127.0.0.1\n');
    assert.is(await curl(`http://127.0.0.1:${pub}/`), 'host 0.0.0.0\n');
    const probe = (flags: string[]) => {
      const script = ['10.0.2.2', 'host.containers.internal', 'host.docker.internal', hostAddress].map((h) => `wget -q -T 2 -O /dev/null http://${h}:${lo}/ && echo "${h} reached" || echo "${h} closed"`).join('; ')
        + `; wget -q -T 2 -O - http://host.containers.internal:${pub}/`;
      const r = tspod(['run', '--rm', ...flags, alpine, 'sh', '-c', script]);
      assert.is(r.status, 0, r.stderr);
      return r.stdout;
    };
    const closed = `10.0.2.2 closed\nhost.containers.internal closed\nhost.docker.internal closed\n${hostAddress} closed\nhost 0.0.0.0\n`;
    assert.is(probe([]), closed, 'default network');
    assert.is(probe(['-p', `${await freePort()}:80`]), closed, 'default network with published ports (pasta)');
    assert.is(probe(['--network', 'pasta']), closed, '--network pasta');
    const open = `10.0.2.2 reached\nhost.containers.internal reached\nhost.docker.internal reached\n${hostAddress} closed\nhost 0.0.0.0\n`;
    assert.is(probe(['--network', 'pasta:--map-gw']), open);
    assert.is(probe(['--network', 'slirp4netns:allow_host_loopback=true']), open);
    const bad = tspod(['run', '--rm', '--network', 'slirp4netns:speed=fast', alpine, 'true']);
    assert.is(bad.status, 125);
    assert.match(bad.stderr, /unknown slirp4netns option "speed=fast"/);
  } finally {
    for (const s of servers) s.kill();
  }
});

test('--dns, --dns-search, --dns-option, --add-host, --no-hosts; containers.conf dns_servers, dns_searches, base_hosts_file, host_containers_internal_ip', () => {
  const r = tspod(['run', '--rm', '--dns', '1.1.1.1', '--dns', '8.8.8.8', '--dns-search', 'example.com', '--dns-option', 'ndots:3', '--add-host', 'db:10.1.2.3', '--add-host', 'gw:host-gateway',
    '--hostname', 'hh', '--name', 'nn', alpine, 'sh', '-c', 'cat /etc/resolv.conf; echo ---; cat /etc/hosts']);
  assert.is(r.status, 0, r.stderr);
  const [resolv, hosts] = r.stdout.split('---\n');
  assert.is(resolv, 'search example.com\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:3\n');
  const lines = hosts.trim().split('\n');
  assert.equal(lines.slice(0, 2), ['10.1.2.3\tdb', `${hostAddress}\tgw`], '--add-host entries first');
  assert.ok(lines.includes(`${hostAddress}\thost.containers.internal host.docker.internal`), hosts);
  assert.is(lines[lines.length - 1], '10.0.2.100\thh nn');
  const none = tspod(['run', '--rm', '--dns', 'none', '--no-hosts', alpine, 'sh', '-c', 'test -e /etc/resolv.conf && echo resolv; cat /etc/hosts']);
  assert.match(none.stdout, /^127\.0\.0\.1\tlocalhost localhost\.localdomain\n/, 'the image\'s own /etc/hosts');
  assert.not.match(none.stdout, /resolv|10\.0\.2\.100/);
  for (const [args, msg] of [[['--add-host', 'db'], 'bad format for add-host: "db"'], [['--no-hosts', '--add-host', 'a:1.2.3.4'], '--no-hosts and --add-host cannot be set together'], [['--dns', 'bad'], 'bad is not an ip address']] as const) {
    const bad = tspod(['run', '--rm', ...args, alpine, 'true']);
    assert.is(bad.status, 125);
    assert.is(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, msg);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-conf-'));
  fs.writeFileSync(path.join(dir, 'containers.conf'), `[containers]\ndns_searches = ["corp.example"]\ndns_servers = ["1.1.1.1", "100.100.100.100"]\nbase_hosts_file = "${dir}/hosts"\nhost_containers_internal_ip = "10.9.9.9"\n`);
  fs.writeFileSync(path.join(dir, 'hosts'), '10.1.1.1 h1\n10.2.2.2 h2 # a comment\n');
  fs.chmodSync(dir, 0o755);
  const conf = tspod(['run', '--rm', '--name', 'h1', '--hostname', 'h1', alpine, 'sh', '-c', 'cat /etc/resolv.conf /etc/hosts'], { env: { CONTAINERS_CONF: path.join(dir, 'containers.conf') } });
  assert.is(conf.status, 0, conf.stderr);
  assert.is(conf.stdout, 'search corp.example\nnameserver 1.1.1.1\nnameserver 100.100.100.100\n10.1.1.1 h1\n10.2.2.2 h2\n'
    + '127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n10.9.9.9\thost.containers.internal host.docker.internal\n',
    'the base file\'s entry for the hostname stands for the container');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--network slirp4netns with -p forwards through slirp4netns\'s own API, as Podman\'s port_handler=slirp4netns', async () => {
  const port = await freePort();
  const r = tspod(['run', '-d', '--name', 'slirpweb', '--network', 'slirp4netns:port_handler=slirp4netns', '-p', `${port}:80`, web]);
  assert.is(r.status, 0, r.stderr);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  assert.is(tspod(['rm', '-f', '-t', '0', 'slirpweb']).status, 0);
  assert.is(listening(port), '');
});

test('--network container:NAME joins another container\'s network (its loopback, its hosts); rm refuses to leave a dependent behind unless --depend', async () => {
  const port = await freePort();
  assert.is(tspod(['run', '-d', '--name', 'netowner', '-p', `${port}:80`, web]).status, 0);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  const joined = tspod(['run', '--rm', '--network', 'container:netowner', alpine, 'sh', '-c', 'wget -q -O - http://127.0.0.1/; tail -n 1 /etc/hosts']);
  assert.is(joined.status, 0, joined.stderr);
  assert.match(joined.stdout, new RegExp(`^${BODY}10\\.0\\.2\\.100\\t\\w+ netowner\\n$`), 'the owner\'s server on its loopback, and its /etc/hosts');
  const dep = tspod(['create', '--name', 'dependent', '--net=container:netowner', alpine, 'true']).stdout.trim();
  const refused = tspod(['rm', '-f', 'netowner']);
  assert.is(refused.status, 125);
  assert.match(refused.stderr, new RegExp(`^Error: container [0-9a-f]{64} has dependent containers which must be removed before it: ${dep}`));
  const both = tspod(['rm', '-f', '--depend', 'netowner']);
  assert.is(both.status, 0, both.stderr);
  assert.is(both.stdout, `${dep}\nnetowner\n`);
  assert.is(listening(port), '');
  // ns:PATH joins a namespace file someone else keeps: here the owner's, through /proc.
  assert.is(tspod(['run', '-d', '--name', 'netowner2', alpine, 'sleep', '60']).status, 0);
  const pid = tspod(['inspect', '--format', '{{.State.Pid}}', 'netowner2']).stdout.trim();
  const ns = tspod(['run', '--rm', '--network', `ns:/proc/${pid}/ns/net`, alpine, 'sh', '-c', 'ip -4 -o addr show tap0']);
  assert.match(ns.stdout, /inet 10\.0\.2\.100\/24/, ns.stderr);
  const noFile = tspod(['run', '--rm', '--network', 'ns:/nonexistent/ns', alpine, 'true']);
  assert.is(noFile.status, 125);
  assert.match(noFile.stderr, /no such network namespace file/);
  const notUp = tspod(['create', '--name', 'owner2', alpine, 'true']);
  assert.is(tspod(['run', '--rm', '--network', `container:${notUp.stdout.trim()}`, alpine, 'true']).status, 125, 'the owner must be running');
  assert.is(tspod(['rm', '-a', '-f']).status, 0);
});

test('network create, ls, inspect, exists, rm, prune: netavark\'s definitions, Podman\'s output and exit codes', () => {
  assert.is(tspod(['network', 'create', 'front']).stdout, 'front\n');
  const dup = tspod(['network', 'create', 'front']);
  assert.is(dup.status, 125);
  assert.match(dup.stderr, /network name front already used: network already exists/);
  assert.is(tspod(['network', 'create', '--subnet', '10.99.5.0/24', '--gateway', '10.99.5.9', '--ip-range', '10.99.5.128/25', '--internal', '--disable-dns', '--label', 'tier=db', 'back']).status, 0);
  assert.is(tspod(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']).stdout, 'back bridge\nfront bridge\npodman bridge\n', 'the default network is listed too');
  assert.is(tspod(['network', 'ls', '-q', '--filter', 'label=tier=db']).stdout, 'back\n');
  const [front, back] = JSON.parse(tspod(['network', 'inspect', 'front', 'back']).stdout);
  assert.equal([front.driver, front.subnets, front.dns_enabled, front.internal], ['bridge', [{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }], true, false]);
  assert.match(front.id, /^[0-9a-f]{64}$/);
  assert.match(front.network_interface, /^podman\d+$/);
  assert.equal(back.subnets, [{ subnet: '10.99.5.0/24', gateway: '10.99.5.9', lease_range: { start_ip: '10.99.5.129', end_ip: '10.99.5.255' } }]);
  assert.equal([back.internal, back.dns_enabled, back.labels], [true, false, { tier: 'db' }]);
  assert.is(tspod(['network', 'inspect', '--format', '{{.Name}} {{(index .Subnets 0).Gateway}}', 'podman']).stdout, 'podman 10.88.0.1\n');
  assert.is(tspod(['network', 'exists', 'front']).status, 0);
  assert.is(tspod(['network', 'exists', 'nowhere']).status, 1);
  const missing = tspod(['network', 'rm', 'nowhere']);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /unable to find network with name or ID nowhere: network not found/);
  assert.equal([tspod(['network', 'rm', '-f', 'nowhere']).status, tspod(['network', 'rm', '-f', 'nowhere']).stdout], [0, ''], '-f passes over a missing one');
  const clash = tspod(['network', 'create', '--subnet', '10.89.0.0/24', 'again']);
  assert.is(clash.status, 125);
  assert.match(clash.stderr, /subnet 10\.89\.0\.0\/24 is already used/);
  assert.match(tspod(['network', 'create', '--subnet', 'bad', 'x']).stderr, /invalid CIDR address: bad/);
  const unknown = tspod(['run', '--rm', '--network', 'nowhere', alpine, 'true']);
  assert.is(unknown.status, 125);
  assert.match(unknown.stderr, /unable to find network with name or ID nowhere: network not found/);
  assert.is(tspod(['network', 'rm', 'front']).stdout, 'front\n');
  assert.is(tspod(['network', 'prune', '-f']).stdout, 'back\n');
  assert.is(tspod(['network', 'ls', '-q']).stdout, 'podman\n');
  assert.is(tspod(['network', 'rm', 'podman']).status, 125, 'the default network stays');
  const bare = tspod(['network']);
  assert.is(bare.status, 125);
  assert.match(bare.stdout, /^Manage networks\n[^]*\n  create +Create a network\n/);
  assert.match(bare.stderr, /missing command 'tspod network COMMAND'/);
});

test('after everything is removed no helper of the user is left, nor a socket of its ports', async () => {
  const port = await freePort();
  assert.is(tspod(['run', '-d', '--name', 'last', '-p', `${port}:80`, '-p', `${port}:80/udp`, web]).status, 0);
  assert.ok(userHelpers() !== '', 'pasta runs while the container does');
  assert.is(tspod(['rm', '-a', '-f', '-t', '0']).status, 0);
  assert.is(userHelpers(), '');
  assert.is(listening(port), '');
});

test.run();
