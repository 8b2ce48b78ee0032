// Quadlet files into units: each kind's service, the keys as tspod's flags, references to other
// Quadlet files as names and dependencies, [Unit]/[Service]/[Install] passed through, and a file
// with an unknown key reported and skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseUnitFile, splitWords, readQuadletSources, generateQuadlet, writeQuadletUnits, serviceName } from '../../src/engine/quadlet.js';

function generate(files: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quadlet-'));
  for (const [n, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), t);
  const read = readQuadletSources([dir]);
  const out = generateQuadlet(read.sources, { executable: '/usr/bin/tspod' });
  return { ...out, dir, unit: (n: string) => out.units.find((u) => u.name === n)?.text ?? '' };
}
const execStart = (text: string) => /^ExecStart=(.*)$/m.exec(text)?.[1];

test('unit files: sections, continuations, comments; systemd words', () => {
  assert.equal(parseUnitFile('# c\n[A]\nK=v\nL=one\\\n  two\n; c\n[B]\nK=w\n'), [{ name: 'A', entries: [['K', 'v'], ['L', 'one two']] }, { name: 'B', entries: [['K', 'w']] }]);
  assert.equal(splitWords(`A=1 "B=two words" 'c d' e\\ f ""`), ['A=1', 'B=two words', 'c d', 'e f', '']);
  assert.throws(() => splitWords('"open'), /unbalanced/);
  assert.throws(() => parseUnitFile('K=v\n'), /not KEY=VALUE in a \[Section\]/);
  assert.is(serviceName('web.container'), 'web.service');
  assert.is(serviceName('data.volume'), 'data-volume.service');
  assert.is(serviceName('app.kube'), 'app.service');
});

test('a .container: run -d with --sdnotify, its keys as flags, references to .volume/.network/.image, user sections kept, no --cgroups=split', () => {
  const g = generate({
    'web.container': '[Unit]\nDescription=web\n[Container]\nImage=base.image\nExec=sh -c "echo hi"\nPublishPort=8080:80\nVolume=data.volume:/data:ro\nNetwork=net.network\nEnvironment=A=1 "B=two words"\nLabel=app=web\nUser=1000\nGroup=1000\nNotify=true\nHealthCmd=/bin/check\nPodmanArgs=--memory 64m\nContainerName=web\n[Service]\nRestart=always\n[Install]\nWantedBy=default.target\n',
    'data.volume': '[Volume]\nVolumeName=mydata\nLabel=k=v\n',
    'net.network': '[Network]\nSubnet=10.99.0.0/24\nInternal=yes\n',
    'base.image': '[Image]\nImage=quay.io/x/y:1\nTLSVerify=false\n',
  });
  assert.equal(g.errors, []);
  const web = g.unit('web.service');
  assert.is(execStart(web), '/usr/bin/tspod run --name=web --cidfile=%t/%N.cid --replace --rm --sdnotify=container -d -p 8080:80 -v mydata:/data:ro --network systemd-net -e A=1 -e "B=two words" -l app=web --health-cmd /bin/check --memory 64m --user 1000:1000 quay.io/x/y:1 sh -c "echo hi"');
  for (const line of ['Requires=data-volume.service', 'After=net-network.service', 'Requires=base-image.service', 'Description=web', 'Type=notify', 'NotifyAccess=all', 'Restart=always', 'WantedBy=default.target', 'ExecStop=/usr/bin/tspod rm -v -f -i --cidfile=%t/%N.cid']) assert.ok(web.split('\n').includes(line), line);
  assert.not.match(web, /--cgroups/);
  assert.ok(web.indexOf('Restart=always') > web.indexOf('Type=notify'), 'the user\'s [Service] after ours');
  assert.is(execStart(g.unit('data-volume.service')), '/usr/bin/tspod volume create --ignore --label k=v mydata');
  assert.is(execStart(g.unit('net-network.service')), '/usr/bin/tspod network create --ignore --subnet 10.99.0.0/24 --internal systemd-net');
  assert.is(execStart(g.unit('base-image.service')), '/usr/bin/tspod image pull --tls-verify=false quay.io/x/y:1');
  const out = path.join(g.dir, 'out');
  writeQuadletUnits(out, g.units);
  assert.is(fs.readlinkSync(path.join(out, 'default.target.wants', 'web.service')), '../web.service');
});

test('a .pod and its members, a .kube; unknown keys and missing references are errors that skip only that file', () => {
  const g = generate({
    'app.pod': '[Pod]\nPublishPort=8080:80\n',
    'srv.container': '[Container]\nImage=alpine\nPod=app.pod\n',
    'play.kube': '[Kube]\nYaml=pod.yaml\n',
    'bad.container': '[Container]\nImage=alpine\nBogus=1\n',
    'lost.container': '[Container]\nImage=alpine\nVolume=gone.volume:/x\n',
    'noimage.container': '[Container]\nExec=true\n',
  });
  const pod = g.unit('app-pod.service');
  assert.match(pod, /^ExecStartPre=\/usr\/bin\/tspod pod create --infra-conmon-pidfile=%t\/%N.pid --pod-id-file=%t\/%N.pod-id --exit-policy=stop --replace --publish 8080:80 --name systemd-app$/m);
  assert.match(pod, /^Wants=srv.service$/m);
  assert.match(pod, /^Type=forking$/m);
  const srv = g.unit('srv.service');
  assert.match(srv, /^BindsTo=app-pod.service$/m);
  assert.match(execStart(srv)!, /--pod-id-file %t\/app-pod.pod-id/);
  assert.is(execStart(g.unit('play.service')), `/usr/bin/tspod kube play --replace --service-container=true ${path.join(g.dir, 'pod.yaml')}`);
  assert.match(g.unit('play.service'), new RegExp(`^ExecStopPost=/usr/bin/tspod kube down ${path.join(g.dir, 'pod.yaml')}$`, 'm'));
  assert.equal(g.errors.map((e) => e.replace(`${g.dir}/`, '')).sort(), [
    "bad.container: unsupported key 'Bogus' in group 'Container'", 'lost.container: requires gone.volume, which is not in any Quadlet directory', 'noimage.container: no Image key specified',
  ]);
  assert.is(g.units.length, 3);
});

test.run();
