// Pods (issue 17, first part): an infra container holds the network, IPC and UTS namespaces its
// members share, so a member serves on the pod's published port, members talk over localhost, and
// the pod's hostname is theirs; pod ps/inspect/start/stop/rm as Podman's, a running pod refused by
// rm without -f, the infra removable only with its pod.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getWorld, tspod } from '../fixtures/world.js';
import { BODY, freePort, curl } from '../fixtures/net.js';

let web = '';
let alpine = '';
const ok = (args: string[]) => { const r = tspod(args, { timeout: 300_000 }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };

test.before(async () => {
  const { registry } = await getWorld();
  web = `${registry}/web:latest`;
  alpine = `${registry}/alpine:3.20`;
  ok(['pull', '-q', web]);
  ok(['pull', '-q', alpine]);
});
test.after(() => { tspod(['pod', 'rm', '-a', '-f', '-t', '0']); tspod(['rm', '-a', '-f', '-t', '0']); });

test('a member serves on the pod\'s published port; members share localhost and the pod\'s hostname; the infra keeps the network', async () => {
  const port = await freePort();
  const id = ok(['pod', 'create', '--name', 'pweb', '-p', `${port}:80`]).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(ok(['pod', 'ps']), new RegExp(`^${id.slice(0, 12)}\\s+pweb\\s+Created\\s+.*\\s+1$`, 'm'));
  ok(['run', '-d', '--pod', 'pweb', '--name', 'pweb-srv', web]);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  assert.is(ok(['run', '--rm', '--pod', 'pweb', alpine, 'sh', '-c', 'hostname; wget -qO- http://127.0.0.1:80/']), `pweb\n${BODY}`);
  // a member replaced: the same network namespace and port
  ok(['rm', '-f', '-t', '0', 'pweb-srv']);
  ok(['run', '-d', '--pod', 'pweb', '--name', 'pweb-srv2', web]);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  const inspect = JSON.parse(ok(['pod', 'inspect', 'pweb'])) as Array<{ Name: string; State: string; SharedNamespaces: string[]; NumContainers: number; InfraContainerID: string }>;
  assert.is(inspect[0].Name, 'pweb');
  assert.equal(inspect[0].SharedNamespaces, ['net', 'ipc', 'uts']);
  assert.is(inspect[0].NumContainers, 2);
  assert.is(inspect[0].State, 'Running');
  const bad = tspod(['run', '--rm', '--pod', 'pweb', '-p', '9999:80', alpine, 'true']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /publish ports on the pod/);
});

test('pod stop/start/rm: members and infra together; rm of a running pod needs -f; the infra goes only with its pod; a taken name is 125', () => {
  ok(['pod', 'stop', '-t', '0', 'pweb']);
  assert.match(ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}}']), /^pweb Exited$/m);
  ok(['pod', 'start', 'pweb']);
  assert.match(ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}}']), /^pweb Running$/m);
  const infra = ok(['pod', 'inspect', '--format', '{{.InfraContainerID}}', 'pweb']).trim();
  const rmInfra = tspod(['rm', '-f', infra]);
  assert.is(rmInfra.status, 125);
  assert.match(rmInfra.stderr, /is the infra container of pod .* and cannot be removed without removing the pod/);
  const running = tspod(['pod', 'rm', 'pweb']);
  assert.is(running.status, 125);
  assert.match(running.stderr, /has running containers/);
  assert.is(tspod(['pod', 'create', '--name', 'pweb']).status, 125, 'a taken name');
  ok(['pod', 'rm', '-f', '-t', '0', 'pweb']);
  assert.is(tspod(['pod', 'exists', 'pweb']).status, 1);
  assert.is(ok(['ps', '-a', '-q']), '');
  // --pod new:NAME makes the pod first; with only its infra left running, pod rm needs no -f
  assert.is(ok(['run', '--rm', '--pod', 'new:pnew', alpine, 'hostname']), 'pnew\n');
  assert.is(tspod(['pod', 'exists', 'pnew']).status, 0);
  ok(['pod', 'rm', 'pnew']);
  const gone = tspod(['pod', 'rm', 'pnew']);
  assert.is(gone.status, 1);
  assert.match(gone.stderr, /^Error: no pod with name or ID pnew found: no such pod/);
  assert.is(tspod(['pod', 'rm', '-f', 'pnew']).stdout, '');
});

test('--share: a list, +LIST over the default, a bad one named; a member with --hostname has its own UTS; ps shows the pod; rm --depend and rm -a take the infra and the pod', () => {
  const bad = tspod(['pod', 'create', '--share', 'bogus', '--name', 'pshare']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /invalid kernel namespace to share: bogus\. Options are: cgroup, ipc, net, pid, uts or none/);
  ok(['pod', 'create', '--share', 'ipc', '--name', 'pshare']);
  assert.is(ok(['pod', 'inspect', '--format', '{{.SharedNamespaces}}', 'pshare']), '[ipc]\n');
  assert.is(ok(['run', '--rm', '--pod', 'pshare', '--hostname', 'own', alpine, 'hostname']), 'own\n');
  ok(['pod', 'create', '--share', '+pid', '--replace', '--name', 'pshare']);
  assert.is(ok(['pod', 'inspect', '--format', '{{.SharedNamespaces}}', 'pshare']), '[net ipc uts pid]\n');
  const member = ok(['create', '--pod', 'pshare', alpine, 'true']).trim();
  assert.is(ok(['ps', '-a', '--filter', `id=${member}`, '--format', '{{.PodName}}']), 'pshare\n');
  const infra = ok(['pod', 'inspect', '--format', '{{.InfraContainerID}}', 'pshare']).trim();
  const removed = ok(['rm', '--depend', infra]);
  assert.match(removed, new RegExp(member));
  assert.match(removed, new RegExp(infra));
  assert.is(tspod(['pod', 'exists', 'pshare']).status, 1, 'the pod went with its infra');
  ok(['create', '--pod', 'new:pall', alpine, 'true']);
  ok(['rm', '-a', '-f']);
  assert.is(tspod(['pod', 'exists', 'pall']).status, 1);
});

test('--exit-policy stop ends the pod with its last member, continue keeps it; pod top lists every member; --infra-image that cannot be pulled is named', () => {
  const stop = ok(['pod', 'create', '--exit-policy', 'stop']).trim();
  assert.is(ok(['pod', 'inspect', '--format', '{{.ExitPolicy}}', stop]), 'stop\n');
  ok(['run', '--pod', stop, alpine, 'true']);
  assert.is(ok(['pod', 'inspect', '--format', '{{.State}}', stop]), 'Exited\n');
  const cont = ok(['pod', 'create']).trim();
  ok(['run', '--pod', cont, alpine, 'true']);
  assert.is(ok(['pod', 'inspect', '--format', '{{.State}} {{.ExitPolicy}}', cont]), 'Degraded continue\n');
  const bad = tspod(['pod', 'create', '--exit-policy', 'invalid']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /invalid pod exit policy: "invalid"/);
  ok(['run', '-d', '--pod', cont, alpine, 'sleep', '60']);
  ok(['run', '-d', '--pod', cont, alpine, 'sleep', '61']);
  const top = ok(['pod', 'top', cont, 'pid', 'args']);
  assert.match(top, /^PID\s+COMMAND$/m);
  assert.match(top, /catatonit -P/);
  assert.match(top, /sleep 60/);
  assert.match(top, /sleep 61/);
  const img = tspod(['pod', 'create', '--infra-image', '127.0.0.1:1/no/such:image']);
  assert.is(img.status, 125);
  assert.match(img.stderr, /^Error: initializing source docker:\/\/127\.0\.0\.1:1\/no\/such:image: /);
  assert.is(img.stderr.trim().split('\n').length, 1);
  // ps shows each container's pod, and filters by it
  const podId = ok(['pod', 'inspect', '--format', '{{.Id}}', cont]).trim();
  assert.match(ok(['ps', '--pod']), /POD ID\s+PODNAME$/m);
  assert.is(ok(['ps', '-q', '--filter', `pod=${podId.slice(0, 12)}`]).trim().split('\n').length, 3, 'the infra and the two sleepers');
  // pod kill ends them; pod prune removes pods with nothing running
  ok(['pod', 'kill', cont]);
  assert.is(ok(['pod', 'inspect', '--format', '{{.State}}', cont]), 'Exited\n');
  const pruned = ok(['pod', 'prune', '-f']);
  assert.match(pruned, new RegExp(podId));
  assert.is(tspod(['pod', 'exists', cont]).status, 1);
  ok(['pod', 'rm', '-a', '-f', '-t', '0']);
});

test('pod logs marks each line with its container; -c picks one; pod pause says why it cannot here, or pauses', () => {
  ok(['pod', 'create', '--name', 'plogs']);
  const a = ok(['run', '-d', '--pod', 'plogs', '--name', 'plogs-a', alpine, 'sh', '-c', 'echo from-a; sleep 300']).trim();
  ok(['run', '-d', '--pod', 'plogs', '--name', 'plogs-b', alpine, 'sh', '-c', 'echo from-b; sleep 300']);
  let out = '';
  for (let i = 0; i < 20 && !/from-b/.test(out); i++) { out = ok(['pod', 'logs', 'plogs']); spawnSync('sleep', ['0.2']); }
  assert.match(out, new RegExp(`^${a.slice(0, 12)} from-a$`, 'm'));
  assert.is(ok(['pod', 'logs', '--names', '-c', 'plogs-b', 'plogs']), 'plogs-b from-b\n');
  const p = tspod(['pod', 'pause', 'plogs']);
  if (p.status !== 0) assert.match(p.stderr, /no freezer cgroup on cgroup v1/);
  else { ok(['pod', 'unpause', 'plogs']); }
  ok(['pod', 'rm', '-f', '-t', '0', 'plogs']);
});

test('a member finds itself in the pod\'s /etc/hosts and has the pod\'s /etc/hostname; rmi -f of the pause image takes the pods', () => {
  ok(['pod', 'create', '--name', 'phosts', '--infra-name', 'phosts-infra']);
  const out = ok(['run', '--rm', '--pod', 'phosts', '--name', 'phosts-one', alpine, 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/hostname']);
  const [hosts, hostname] = out.split('---\n');
  assert.match(hosts, /^127\.0\.0\.1\tphosts-one$/m);
  assert.match(hosts, /\sphosts phosts-infra$/m);
  assert.is(hostname, 'phosts\n');
  const pause = ok(['pod', 'inspect', '--format', '{{.InfraContainerID}}', 'phosts']).trim();
  const image = ok(['inspect', '--format', '{{.ImageName}}', pause]).trim();
  const used = tspod(['rmi', image]);
  assert.is(used.status, 2);
  assert.match(used.stderr, /image is in use by a container/);
  ok(['rmi', '-f', image]);
  assert.is(tspod(['pod', 'exists', 'phosts']).status, 1, 'the pod went with its infra image');
});

test.run();
