// kube play, kube down, kube generate (and Podman 4.3's spellings play kube, generate kube).
import fs from 'node:fs';
import { Option } from '../kit.js';
import { TspodCommand, tlsVerifyFlag } from '../base.js';

/** The YAML a FILE argument names: a file, - for stdin, or an http(s) URL. */
async function readYaml(source: string): Promise<string> {
  const { TspodError } = await import('../../errors.js');
  if (source === '-') return fs.readFileSync(0, 'utf8');
  if (/^https?:\/\//.test(source)) {
    const { getUrl } = await import('../../registry/client.js');
    let res: Awaited<ReturnType<typeof getUrl>>;
    try { res = await getUrl(source); } catch (e) { throw new TspodError('E_KUBE', `cannot fetch ${source}: ${(e as Error).message}`, { hint: 'check the URL, or download the file and give its path' }); }
    if (res.statusCode !== 200) { await res.body.dump(); throw new TspodError('E_KUBE', `cannot fetch ${source}: the server answered ${res.statusCode}`, { hint: 'check the URL' }); }
    return await res.body.text();
  }
  try { return fs.readFileSync(source, 'utf8'); } catch (e) {
    throw new TspodError('E_KUBE', `${source}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, { hint: 'give a YAML file, - for stdin, or a URL' });
  }
}

export class KubePlayCommand extends TspodCommand {
  static paths = [['kube', 'play'], ['play', 'kube']];
  static usage = TspodCommand.Usage({
    category: 'Kubernetes',
    description: 'create pods and containers from Kubernetes YAML (Pod, Deployment, PersistentVolumeClaim, ConfigMap)',
    details: 'Each Pod (a Deployment: its one replica, NAME-pod-0) becomes a tspod pod with an infra container; its containers are named POD-CONTAINER. Ports are published on the pod: hostPort, else the containerPort itself. `tspod kube down FILE` removes what the play made.',
    examples: [['Play a file', '$0 kube play web.yaml'], ['From stdin, created but not started', 'cat web.yaml | $0 kube play --start=false -'], ['Remove it again', '$0 kube down web.yaml']],
  });

  start = Option.Boolean('--start', true, { description: 'Start the pods (default true)' });
  replace = Option.Boolean('--replace', false, { description: 'Remove pods of the same names first' });
  network = Option.String('--network,--net', { description: 'The pods\' network, as run --network' });
  configmap = Option.Array('--configmap', [], { description: 'A YAML file of ConfigMaps the pods use (comma-separated or repeated)' });
  annotation = Option.Array('--annotation', [], { description: 'KEY=VALUE on every container' });
  build = Option.String('--build', { tolerateBoolean: true, description: 'Build images from CONTEXT/IMAGE-NAME/Containerfile (default: when the image is missing)' });
  contextDir = Option.String('--context-dir', { description: 'Where --build looks for image directories (default: the current directory)' });
  serviceContainer = Option.Boolean('--service-container', false, { description: 'Also run a service container standing for the pods (for systemd units)' });
  logDriver = Option.String('--log-driver', { description: 'Log driver of the containers: k8s-file (default) or none' });
  down = Option.Boolean('--down', false, { description: 'Stop and remove the pods the YAML describes (as kube down)' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'Require HTTPS and verified certificates when pulling' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Say nothing while pulling images' });
  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    if (this.down) return downCommand(this.file);
    const [{ Store }, { playKube }, { progressPrinter }] = await Promise.all([import('../../storage/store.js'), import('../../engine/kube.js'), import('../progress.js')]);
    const text = await readYaml(this.file);
    // Under a Type=notify unit (Quadlet's .kube) systemd's socket is ours to answer, not the containers'.
    const notifySocket = process.env.NOTIFY_SOCKET;
    delete process.env.NOTIFY_SOCKET;
    const store = new Store();
    const report = await playKube(store, text, {
      start: this.start, replace: this.replace, network: this.network, configMaps: this.configmap.flatMap((c) => c.split(',')).filter(Boolean), annotations: this.annotation,
      build: this.build === undefined ? undefined : this.build === true || this.build === 'true', contextDir: this.contextDir, serviceContainer: this.serviceContainer, logDriver: this.logDriver,
      pullOptions: { tlsVerify: tlsVerifyFlag(this.tlsVerify), onProgress: progressPrinter(process.stderr, this.quiet), onWarning: (m) => process.stderr.write(`Warning: ${m}\n`) },
      onWarning: (m) => process.stderr.write(`${m}\n`), say: (l) => process.stdout.write(`${l}\n`),
    });
    let out = report.volumes.length ? `Volumes:\n${report.volumes.map((v) => `${v}\n`).join('')}` : '';
    for (const p of report.pods) {
      out += `Pod:\n${p.id}\n`;
      if (p.containers.length) out += `${p.containers.length === 1 ? 'Container' : 'Containers'}:\n${p.containers.map((c) => `${c}\n`).join('')}\n`;
    }
    process.stdout.write(out);
    // Ready once the pods run, the service container's conmon the unit's main process (as Podman's kube play).
    if (notifySocket && report.service) await (await import('../../engine/start.js')).notifySystemd(store, report.service, notifySocket, true);
    return 0;
  }
}

async function downCommand(file: string): Promise<number> {
  const [{ Store }, { downKube }, { reportError }, { TspodError }] = await Promise.all([import('../../storage/store.js'), import('../../engine/kube.js'), import('../base.js'), import('../../errors.js')]);
  const r = await downKube(new Store(), await readYaml(file));
  process.stdout.write(`Pods stopped:\n${r.stopped.map((id) => `${id}\n`).join('')}Pods removed:\n${r.removed.map((id) => `${id}\n`).join('')}`);
  for (const name of r.missing) reportError(new TspodError('E_NO_POD', `no pod with name or ID ${name} found: no such pod`));
  return r.missing.length ? 125 : 0;
}

export class KubeDownCommand extends TspodCommand {
  static paths = [['kube', 'down']];
  static usage = TspodCommand.Usage({ category: 'Kubernetes', description: 'stop and remove the pods a Kubernetes YAML describes (what kube play made)', examples: [['Down', '$0 kube down web.yaml']] });

  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    return downCommand(this.file);
  }
}

export class KubeGenerateCommand extends TspodCommand {
  static paths = [['kube', 'generate'], ['generate', 'kube']];
  static usage = TspodCommand.Usage({
    category: 'Kubernetes',
    description: 'write Kubernetes YAML for pods, containers and volumes',
    details: 'A pod becomes a Pod; containers outside a pod become one Pod named after the first; volumes become PersistentVolumeClaims. `tspod kube play` takes the output back.',
    examples: [['A pod', '$0 kube generate web'], ['With a Service, into a file', '$0 kube generate -s -f web.yaml web']],
  });

  service = Option.Boolean('-s,--service', false, { description: 'Also a NodePort Service for the published ports' });
  filename = Option.String('-f,--filename', { description: 'Write the YAML to this file' });
  names = Option.Rest({ required: 1, name: 'NAME', synopsis: '{CONTAINER...|POD...|VOLUME...}' });

  async run(): Promise<number> {
    const [{ Store }, { generateKube }] = await Promise.all([import('../../storage/store.js'), import('../../engine/kube.js')]);
    const yaml = await generateKube(new Store(), this.names, { service: this.service, onWarning: (m) => process.stderr.write(`${m}\n`) });
    if (this.filename) {
      const { TspodError } = await import('../../errors.js');
      if (fs.existsSync(this.filename)) throw new TspodError('E_USAGE', `cannot write to ${this.filename}: the file exists`, { hint: 'remove it first, or name another file' });
      fs.writeFileSync(this.filename, yaml);
    } else process.stdout.write(yaml);
    return 0;
  }
}
