// Kubernetes YAML (issue 17): kube play makes a serving pod of two containers from a Pod with a
// ConfigMap (env and files), a hostPath, a shared emptyDir and a hostPort; kube generate writes it
// back out and that YAML plays again into the same pod; kube down removes it; Deployments, a
// service container, and bad input (125, one line, nothing left behind).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getWorld, tspod, TEST_USER } from '../fixtures/world.js';
import { BODY, freePort, curl } from '../fixtures/net.js';

let web = '';
let alpine = '';
let dir = '';
const ok = (args: string[], input?: string) => { const r = tspod(args, { timeout: 300_000, input }); assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`); return r.stdout; };
const write = (name: string, text: string) => { const f = path.join(dir, name); fs.writeFileSync(f, text); spawnSync('chown', [TEST_USER, f]); return f; };

test.before(async () => {
  const { registry } = await getWorld();
  web = `${registry}/web:latest`;
  alpine = `${registry}/alpine:3.20`;
  ok(['pull', '-q', web]);
  ok(['pull', '-q', alpine]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-kube-'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'host.txt'), 'from the host\n');
  spawnSync('chown', ['-R', TEST_USER, dir]);
});
test.after(() => { tspod(['pod', 'rm', '-a', '-f', '-t', '0']); tspod(['rm', '-a', '-f', '-t', '0']); fs.rmSync(dir, { recursive: true, force: true }); });

const podYaml = (port: number) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: webconf
data:
  GREETING: hello-from-configmap
  motd.txt: configmap file
---
apiVersion: v1
kind: Pod
metadata:
  name: kweb
  labels:
    app: kweb
spec:
  restartPolicy: Always
  containers:
  - name: srv
    image: ${web}
    ports:
    - containerPort: 80
      hostPort: ${port}
    volumeMounts:
    - name: shared
      mountPath: /shared
  - name: side
    image: ${alpine}
    command: ["sh", "-c"]
    args: ["echo \\"$GREETING\\" > /shared/greeting; sleep 1000"]
    workingDir: /tmp
    env:
    - name: PLAIN
      value: plain-value
    - name: GREETING
      valueFrom:
        configMapKeyRef:
          name: webconf
          key: GREETING
    envFrom:
    - configMapRef:
        name: webconf
      prefix: CM_
    volumeMounts:
    - name: conf
      mountPath: /etc/conf
    - name: host
      mountPath: /host
      readOnly: true
    - name: shared
      mountPath: /shared
  volumes:
  - name: conf
    configMap:
      name: webconf
  - name: host
    hostPath:
      path: ${dir}/data
      type: Directory
  - name: shared
    emptyDir: {}
`;

test('kube play: a pod of two serving on its hostPort; members share localhost and an emptyDir; ConfigMap env and files; hostPath', async () => {
  const port = await freePort();
  const file = write('pod.yaml', podYaml(port));
  const out = ok(['kube', 'play', file]);
  assert.match(out, /^Pod:\n[0-9a-f]{64}\nContainers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\n$/);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  assert.match(ok(['ps', '--format', '{{.Names}}']), /kweb-srv\n(.|\n)*kweb-side|kweb-side\n(.|\n)*kweb-srv/);
  assert.is(ok(['exec', 'kweb-side', 'sh', '-c', 'echo $PLAIN $GREETING $CM_GREETING; pwd; cat /etc/conf/motd.txt; echo; cat /host/host.txt; wget -qO- http://127.0.0.1:80/']),
    `plain-value hello-from-configmap hello-from-configmap\n/tmp\nconfigmap file\nfrom the host\n${BODY}`);
  assert.is(ok(['exec', 'kweb-srv', 'cat', '/shared/greeting']), 'hello-from-configmap\n', 'the emptyDir is shared');
  assert.is(ok(['exec', 'kweb-side', 'hostname']).trim(), 'kweb');
  const ro = tspod(['exec', 'kweb-side', 'touch', '/host/x']);
  assert.is.not(ro.status, 0, 'readOnly: true holds');
  assert.is(ok(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', 'kweb-srv']).trim(), 'always');
  assert.is(ok(['pod', 'inspect', '--format', '{{.ExitPolicy}} {{.Labels}}', 'kweb']).trim(), 'stop map[app:kweb]');
  const taken = tspod(['kube', 'play', file]);
  assert.is(taken.status, 125, 'the pod exists');
  assert.match(taken.stderr, /kweb already exists/);
});

test('kube generate writes YAML that plays back into the same pod (after kube down)', async () => {
  const yaml = ok(['kube', 'generate', 'kweb']);
  assert.match(yaml, /^# Save the output of this file/);
  const py = spawnSync('python3', ['-c', 'import yaml,json,sys; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: yaml, encoding: 'utf8' });
  assert.is(py.status, 0, py.stderr);
  const doc = JSON.parse(py.stdout);
  assert.is(doc.kind, 'Pod');
  assert.is(doc.metadata.name, 'kweb');
  assert.equal(doc.spec.containers.map((c: { name: string }) => c.name), ['srv', 'side']);
  assert.is(doc.spec.containers[0].ports[0].containerPort, 80);
  assert.is(doc.spec.restartPolicy, 'Always');
  assert.ok(Object.values(doc.metadata.annotations).every((v) => String(v).length <= 63), 'annotations within Kubernetes\' limit');
  const port = doc.spec.containers[0].ports[0].hostPort;
  const down = ok(['kube', 'down', path.join(dir, 'pod.yaml')]);
  assert.match(down, /^Pods stopped:\n[0-9a-f]{64}\nPods removed:\n[0-9a-f]{64}\n$/);
  assert.is(tspod(['pod', 'exists', 'kweb']).status, 1);
  assert.is(ok(['ps', '-a', '-q']), '');
  assert.not.match(ok(['volume', 'ls', '-q']), /kweb-shared/, 'the emptyDir went with the pod');
  // the generated YAML, from stdin
  ok(['kube', 'play', '-'], yaml);
  assert.is(await curl(`http://127.0.0.1:${port}/`), BODY);
  assert.is(ok(['exec', 'kweb-side', 'sh', '-c', 'echo $GREETING; cat /host/host.txt']), 'hello-from-configmap\nfrom the host\n');
  ok(['kube', 'down', '-'], yaml);
  assert.is(tspod(['pod', 'exists', 'kweb']).status, 1);
});

test('a Deployment plays as NAME-pod-0; --start=false creates only; --replace; play kube --down', () => {
  const file = write('deploy.yaml', `apiVersion: apps/v1
kind: Deployment
metadata:
  name: dep
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app: dep
    spec:
      containers:
      - name: c
        image: ${alpine}
        command: ["sleep", "1000"]
        securityContext:
          runAsUser: 1000
          runAsGroup: 1000
          capabilities:
            drop: ["ALL"]
`);
  ok(['kube', 'play', '--start=false', file]);
  assert.is(ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}}']).trim(), 'dep-pod-0 Created');
  ok(['kube', 'play', '--replace', file]);
  assert.is(ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}}']).trim(), 'dep-pod-0 Running');
  assert.is(ok(['exec', 'dep-pod-0-c', 'id', '-u']).trim(), '1000');
  assert.match(ok(['exec', 'dep-pod-0-c', 'grep', 'CapEff', '/proc/self/status']), /0000000000000000/);
  ok(['play', 'kube', '--down', file]);
  assert.is(ok(['pod', 'ps', '-q']), '');
});

test('--service-container: a container standing for the pod, which goes only with it', () => {
  const file = write('svc.yaml', `apiVersion: v1
kind: Pod
metadata:
  name: svcpod
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: ${alpine}
    command: ["sleep", "1000"]
`);
  ok(['kube', 'play', '--service-container', file]);
  const sha = spawnSync('sha256sum', [file], { encoding: 'utf8' }).stdout.slice(0, 12);
  const svc = `${sha}-service`;
  assert.is(ok(['inspect', '--format', '{{.State.Running}} {{.IsService}}', svc]).trim(), 'true true');
  const rm = tspod(['rm', '-f', svc]);
  assert.is(rm.status, 125);
  assert.match(rm.stderr, /is the service container of pod/);
  ok(['stop', '-t', '0', 'svcpod-c']);
  assert.is(ok(['pod', 'ps', '--format', '{{.Status}}']).trim(), 'Exited', 'exit policy stop');
  assert.is(ok(['inspect', '--format', '{{.State.Running}}', svc]).trim(), 'false', 'the service stops with its pod');
  ok(['pod', 'rm', 'svcpod']);
  assert.is(tspod(['container', 'exists', svc]).status, 1);
});

test('bad YAML, a missing ConfigMap or host path: 125 in one line, nothing left behind', () => {
  const cases: Array<[string, RegExp]> = [
    ['kind: Pod\nmetadata: {name: x\n', /unable to read kube YAML/],
    [`kind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n  - name: c\n    image: ${alpine}\n    env:\n    - name: X\n      valueFrom: {configMapKeyRef: {name: nope, key: k}}\n`, /no ConfigMap named "nope"/],
    [`kind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n  - name: c\n    image: ${alpine}\n  volumes:\n  - name: h\n    hostPath: {path: /nonexistent/dir, type: Directory}\n`, /hostPath \/nonexistent\/dir is not a directory/],
    ['kind: Service\nmetadata: {name: s}\n', /does not contain any supported kube kind/],
  ];
  for (const [yaml, message] of cases) {
    const r = tspod(['kube', 'play', '-'], { input: yaml });
    assert.is(r.status, 125, yaml);
    assert.match(r.stderr, message);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.is(ok(['pod', 'ps', '-q']), '');
  assert.is(ok(['ps', '-a', '-q']), '');
});

test.run();
