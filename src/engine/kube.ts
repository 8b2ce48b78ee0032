// Kubernetes YAML: `kube play` turns Pods and Deployments (with their ConfigMaps and
// PersistentVolumeClaims) into tspod pods, `kube down` removes what a play made, and
// `kube generate` writes pods and containers back out as YAML that Kubernetes and `kube play` take.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import YAML from 'yaml';
import { TspodError, UsageError } from '../errors.js';
import type { Store, ContainerRecord } from '../storage/store.js';
import type { CreateOptions } from './create.js';
import type { PodRecord } from './pods.js';
import { packageVersion } from '../paths.js';

/** Podman's limit on an annotation's value, as Kubernetes' on a label's. */
export const MAX_ANNOTATION = 63;

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface PlayOptions {
  /** false: create, do not start (--start=false) */
  start?: boolean;
  replace?: boolean;
  network?: string;
  /** ConfigMap YAML files beside the ones in the document (--configmap) */
  configMaps?: string[];
  /** KEY=VALUE for every container (--annotation) */
  annotations?: string[];
  /** --build: true builds images found as directories under contextDir, false never; undefined builds those missing */
  build?: boolean;
  contextDir?: string;
  /** --service-container: a container standing for the pods, for systemd units */
  serviceContainer?: boolean;
  logDriver?: string;
  pullOptions?: import('./images.js').PullOptions;
  onWarning?: (m: string) => void;
  /** build output */
  say?: (line: string) => void;
}

export interface PlayReport { volumes: string[]; pods: Array<{ id: string; containers: string[] }>; /** the service container's id (--service-container) */ service?: string }

/** The documents of a YAML stream, empty ones dropped; a syntax error is one clear line. */
export function parseKube(text: string): Obj[] {
  let docs: YAML.Document.Parsed[];
  try { docs = YAML.parseAllDocuments(text) as YAML.Document.Parsed[]; } catch (e) { throw kubeError(`unable to read kube YAML: ${(e as Error).message}`); }
  const out: Obj[] = [];
  for (const d of docs) {
    if (d.errors?.length) throw kubeError(`unable to read kube YAML: ${d.errors[0].message.split('\n')[0]}`);
    const v = d.toJS();
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw kubeError('unable to read kube YAML: a document is not a mapping');
    out.push(v);
  }
  return out;
}

const kubeError = (m: string, hint = 'check the YAML: kube play takes Pod, Deployment, PersistentVolumeClaim and ConfigMap documents') => new TspodError('E_KUBE', m, { hint });

/** KEY=VALUE annotations from --annotation, each value within Kubernetes' limit. */
export function parseAnnotationFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of flags) {
    const i = a.indexOf('=');
    if (i <= 0) throw new UsageError(`annotation "${a}" must be KEY=VALUE`);
    const v = a.slice(i + 1);
    if (v.length > MAX_ANNOTATION) throw new UsageError(`annotation exceeds maximum size, ${MAX_ANNOTATION}, of kubernetes annotation: ${v}`);
    out[a.slice(0, i)] = v;
  }
  return out;
}

/** The pods a document makes, by name: a Pod's own, a Deployment's NAME-pod-0 (one replica). */
function podsOf(doc: Obj, warn: (m: string) => void): Array<{ name: string; template: Obj; annotations: Record<string, string> }> {
  if (doc.kind === 'Pod') return [{ name: doc.metadata?.name, template: doc, annotations: doc.metadata?.annotations ?? {} }];
  if (doc.kind === 'Deployment') {
    const replicas = doc.spec?.replicas ?? 1;
    if (replicas > 1) warn(`Limiting replica count to 1, more than one replica is not supported by tspod (a pod's published ports would clash)`);
    const t = doc.spec?.template ?? {};
    return [{ name: `${doc.metadata?.name}-pod-0`, template: t, annotations: { ...(doc.metadata?.annotations ?? {}), ...(t.metadata?.annotations ?? {}) } }];
  }
  return [];
}

export async function playKube(store: Store, text: string, o: PlayOptions = {}): Promise<PlayReport> {
  store.init();
  const warn = o.onWarning ?? ((m) => process.stderr.write(`${m}\n`));
  const docs = parseKube(text);
  const flagAnnotations = parseAnnotationFlags(o.annotations ?? []);
  const configMaps = [...docs.filter((d) => d.kind === 'ConfigMap'), ...(o.configMaps ?? []).flatMap((f) => readConfigMapFile(f))];
  const known = new Set(['Pod', 'Deployment', 'PersistentVolumeClaim', 'ConfigMap', 'Service', 'Secret']);
  for (const d of docs) if (!known.has(d.kind)) throw kubeError(`YAML document kind "${d.kind ?? ''}" is not supported`);
  if (!docs.some((d) => ['Pod', 'Deployment', 'PersistentVolumeClaim'].includes(d.kind))) {
    throw kubeError(docs.some((d) => d.kind === 'ConfigMap') ? 'ConfigMaps are not a standalone object in tspod and must be used in a container' : 'YAML document does not contain any supported kube kind');
  }
  if (o.serviceContainer && o.start === false) throw new UsageError('running a service container requires starting the pod(s)', 'drop --start=false');
  const report: PlayReport = { volumes: [], pods: [] };
  const volumes = await import('./volumes.js');
  // Volumes first: the pods mount them.
  for (const d of docs.filter((x) => x.kind === 'PersistentVolumeClaim')) {
    const name = d.metadata?.name;
    if (!name) throw kubeError('a PersistentVolumeClaim has no metadata.name');
    if (!volumes.readVolume(store, name)) volumes.createVolume(store, name, { labels: Object.entries(d.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`) });
    report.volumes.push(name);
  }
  const wanted = docs.flatMap((d) => podsOf(d, warn));
  for (const p of wanted) {
    if (!p.name) throw kubeError('pod does not have a name', 'give the Pod (or Deployment) metadata.name');
    for (const [k, v] of Object.entries(p.annotations)) {
      if (String(v).length > MAX_ANNOTATION) throw kubeError(`invalid annotation "${k}"="${v}" value length exceeds Kubernetes max ${MAX_ANNOTATION}`, `shorten the annotation "${k}" to ${MAX_ANNOTATION} characters`);
    }
  }
  let service: ContainerRecord | undefined;
  const source = crypto.createHash('sha256').update(text).digest('hex');
  if (o.serviceContainer && wanted.length) service = await createServiceContainer(store, `${source.slice(0, 12)}-service`, !!o.replace);
  try {
    for (const p of wanted) report.pods.push(await playPod(store, p.name, p.template, { ...o, annotations: undefined }, { ...p.annotations, ...flagAnnotations }, configMaps, service, warn));
    report.service = service?.id;
  } catch (e) {
    if (service) await (await import('./lifecycle.js')).removeContainer(store, service, { force: true, podRemoval: true }).catch(() => undefined);
    throw e;
  }
  return report;
}

function readConfigMapFile(file: string): Obj[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new UsageError(`--configmap ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`); }
  const maps = parseKube(text).filter((d) => d.kind === 'ConfigMap');
  if (!maps.length) throw new UsageError(`--configmap ${file}: the file holds no ConfigMap`);
  return maps;
}

async function createServiceContainer(store: Store, name: string, replace: boolean): Promise<ContainerRecord> {
  const { infraImage } = await import('./pods.js');
  const { createContainer } = await import('./create.js');
  const image = await infraImage(store);
  const rec = await createContainer(store, { image, command: [], name, pull: 'never', network: 'none', replace });
  store.writeContainer({ ...rec, isService: true });
  return { ...rec, isService: true };
}

async function playPod(store: Store, podName: string, tpl: Obj, o: PlayOptions, annotations: Record<string, string>, configMaps: Obj[], service: ContainerRecord | undefined, warn: (m: string) => void): Promise<{ id: string; containers: string[] }> {
  const spec: Obj = tpl.spec ?? {};
  const containers: Obj[] = spec.containers ?? [];
  if (!containers.length) throw kubeError(`pod ${podName} has no containers`, 'give spec.containers');
  const names = new Set<string>();
  for (const c of [...(spec.initContainers ?? []), ...containers]) {
    if (!c.name) throw kubeError(`a container of pod ${podName} has no name`);
    if (names.has(c.name)) throw kubeError(`the pod "${podName}" is invalid; duplicate container name "${c.name}" detected`);
    if (!c.image) throw kubeError(`container ${c.name} of pod ${podName} has no image`);
    names.add(c.name);
  }
  const pods = await import('./pods.js');
  // Ports are the pod's (its infra's): a containerPort without hostPort is published on the same port, as Podman 4.3 does.
  const publish = containers.flatMap((c) => (c.ports ?? []).map((p: Obj) => {
    if (!p.containerPort) throw kubeError(`a port of container ${c.name} has no containerPort`);
    return `${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort ?? p.containerPort}:${p.containerPort}/${String(p.protocol ?? 'TCP').toLowerCase()}`;
  }));
  const network = o.network ?? (spec.hostNetwork ? 'host' : undefined);
  const pod = await pods.createPod(store, {
    name: podName, labels: Object.entries(tpl.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`), hostname: spec.hostname ?? podName, publish,
    network, addHost: (spec.hostAliases ?? []).flatMap((h: Obj) => (h.hostnames ?? []).map((n: string) => `${n}:${h.ip}`)), dns: spec.dnsConfig?.nameservers,
    replace: o.replace, exitPolicy: 'stop', serviceId: service?.id,
  });
  const made: ContainerRecord[] = [];
  try {
    const volumes = await podVolumes(store, podName, spec.volumes ?? [], configMaps);
    const restart = ({ Always: 'always', OnFailure: 'on-failure', Never: 'no' } as Record<string, string>)[spec.restartPolicy ?? 'Always'];
    if (!restart) throw kubeError(`restartPolicy "${spec.restartPolicy}" is not one of Always, OnFailure, Never`);
    const { createContainer } = await import('./create.js');
    const init: ContainerRecord[] = [];
    for (const [i, c] of [...(spec.initContainers ?? []), ...containers].entries()) {
      const isInit = i < (spec.initContainers ?? []).length;
      const opts = await containerOptions(store, podName, pod.id, c, spec, volumes, configMaps, o, warn);
      const rec = await createContainer(store, { ...opts, restart: isInit ? undefined : restart, annotations, logDriver: o.logDriver, pullOptions: o.pullOptions, onWarning: warn });
      (isInit ? init : made).push(rec);
    }
    if (o.start !== false) {
      const { startContainer } = await import('./start.js');
      const { waitContainer, removeContainer } = await import('./lifecycle.js');
      if (service) await startContainer(store, service, { attach: false });
      // Init containers run to their end, one after the other, before the others start; then they go.
      for (const c of init) {
        await startContainer(store, c, { attach: false });
        const code = await waitContainer(store, c);
        await removeContainer(store, c, { force: true });
        if (code !== 0) throw kubeError(`init container ${c.name} exited with ${code}`, `see why: tspod kube play --start=false, then tspod start -a ${c.name}`);
      }
      await pods.startPod(store, pods.findPod(store, pod.id), made);
    }
  } catch (e) {
    await pods.removePod(store, pods.findPod(store, pod.id), { force: true, timeoutSec: 0 }).catch(() => undefined);
    throw e;
  }
  return { id: pod.id, containers: made.map((c) => c.id) };
}

interface PodVolume { kind: 'bind' | 'volume'; source: string; file?: boolean }

/** The pod's volumes by name: host paths checked (or made) as their type says, claims and ConfigMaps as named volumes, emptyDir as a volume of the pod's own. */
async function podVolumes(store: Store, podName: string, list: Obj[], configMaps: Obj[]): Promise<Map<string, PodVolume>> {
  const volumes = await import('./volumes.js');
  const out = new Map<string, PodVolume>();
  for (const v of list) {
    if (!v.name) throw kubeError(`a volume of pod ${podName} has no name`);
    if (v.hostPath) {
      const p: string = v.hostPath.path;
      if (!p?.startsWith('/')) throw kubeError(`volume ${v.name}: hostPath.path "${p ?? ''}" is not absolute`);
      const type = v.hostPath.type ?? '';
      let st: fs.Stats | undefined;
      try { st = fs.statSync(p); } catch { /* missing */ }
      if (type === 'DirectoryOrCreate' && !st) { fs.mkdirSync(p, { recursive: true, mode: 0o755 }); st = fs.statSync(p); }
      if (type === 'FileOrCreate' && !st) { fs.mkdirSync(path.dirname(p), { recursive: true }); fs.writeFileSync(p, '', { mode: 0o644 }); st = fs.statSync(p); }
      if (['Directory', 'DirectoryOrCreate'].includes(type) && !st?.isDirectory()) throw kubeError(`volume ${v.name}: hostPath ${p} is not a directory`, 'create it, or give type DirectoryOrCreate');
      if (['File', 'FileOrCreate'].includes(type) && !st?.isFile()) throw kubeError(`volume ${v.name}: hostPath ${p} is not a file`, 'create it, or give type FileOrCreate');
      if (type === 'Socket' && !st?.isSocket()) throw kubeError(`volume ${v.name}: hostPath ${p} is not a socket`);
      if (!st) throw kubeError(`volume ${v.name}: hostPath ${p} does not exist`, 'create it, or give type DirectoryOrCreate');
      out.set(v.name, { kind: 'bind', source: p, file: st.isFile() });
    } else if (v.persistentVolumeClaim) {
      const claim = v.persistentVolumeClaim.claimName;
      if (!claim) throw kubeError(`volume ${v.name}: persistentVolumeClaim has no claimName`);
      if (!volumes.readVolume(store, claim)) volumes.createVolume(store, claim);
      out.set(v.name, { kind: 'volume', source: claim });
    } else if (v.configMap) {
      const cm = configMaps.find((m) => m.metadata?.name === v.configMap.name);
      if (!cm) {
        if (v.configMap.optional) continue;
        throw kubeError(`volume ${v.name}: no ConfigMap named "${v.configMap.name}"`, 'give it in the YAML or with --configmap FILE');
      }
      // As Podman: a volume named after the ConfigMap, holding a file per key (or per item).
      const name = cm.metadata.name;
      const vol = volumes.readVolume(store, name) ?? volumes.createVolume(store, name, { labels: [`io.tspod.kube.configmap=${name}`] });
      const dir = volumes.volumeDataDir(store, name, vol);
      const data: Record<string, string> = { ...(cm.data ?? {}), ...Object.fromEntries(Object.entries(cm.binaryData ?? {}).map(([k, b]) => [k, Buffer.from(String(b), 'base64').toString('latin1')])) };
      const items: Array<{ key: string; path: string }> = v.configMap.items ?? Object.keys(data).map((k) => ({ key: k, path: k }));
      for (const it of items) {
        if (!(it.key in data)) throw kubeError(`volume ${v.name}: ConfigMap ${name} has no key "${it.key}"`);
        const target = path.join(dir, it.path);
        if (!target.startsWith(dir + path.sep)) throw kubeError(`volume ${v.name}: item path "${it.path}" leaves the volume`);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, data[it.key], { mode: 0o644 });
      }
      out.set(v.name, { kind: 'volume', source: name });
    } else if (v.emptyDir) {
      // Shared by the pod's containers, as in Kubernetes, and removed with the pod by kube down.
      const name = `${podName}-${v.name}`;
      if (!volumes.readVolume(store, name)) volumes.createVolume(store, name, { labels: [`io.tspod.kube.emptydir=${podName}`] });
      out.set(v.name, { kind: 'volume', source: name });
    } else {
      throw kubeError(`volume ${v.name}: unsupported volume type (${Object.keys(v).filter((k) => k !== 'name').join(', ')})`, 'tspod plays hostPath, persistentVolumeClaim, configMap and emptyDir volumes');
    }
  }
  return out;
}

/** A Kubernetes container as create options. */
async function containerOptions(store: Store, podName: string, podId: string, c: Obj, spec: Obj, volumes: Map<string, PodVolume>, configMaps: Obj[], o: PlayOptions, warn: (m: string) => void): Promise<CreateOptions> {
  const image = await kubeImage(store, c, o);
  const { findImage, readImageConfig } = await import('./images.js');
  const img = await findImage(store, image);
  const imageCfg = (img ? readImageConfig(store, img).config ?? {} : {}) as { User?: string };
  const env: string[] = [];
  const configMap = (name: string, optional: boolean | undefined, what: string) => {
    const cm = configMaps.find((m) => m.metadata?.name === name);
    if (!cm && !optional) throw kubeError(`${what}: no ConfigMap named "${name}"`, 'give it in the YAML or with --configmap FILE');
    return cm;
  };
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = configMap(from.configMapRef.name, from.configMapRef.optional, `container ${c.name} envFrom`);
      for (const [k, v] of Object.entries(cm?.data ?? {})) env.push(`${from.prefix ?? ''}${k}=${v}`);
    } else throw kubeError(`container ${c.name}: envFrom takes configMapRef here`, 'secretRef is not supported: give the values in a ConfigMap');
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      const cm = configMap(ref.name, ref.optional, `env ${e.name} of container ${c.name}`);
      if (cm && !(ref.key in (cm.data ?? {}))) { if (!ref.optional) throw kubeError(`env ${e.name} of container ${c.name}: ConfigMap ${ref.name} has no key "${ref.key}"`); continue; }
      if (cm) env.push(`${e.name}=${cm.data[ref.key]}`);
    } else if (e.valueFrom?.fieldRef) {
      const field = e.valueFrom.fieldRef.fieldPath;
      const value = field === 'metadata.name' ? podName : undefined;
      if (value === undefined) throw kubeError(`env ${e.name} of container ${c.name}: fieldRef ${field} is not supported`, 'tspod knows metadata.name');
      env.push(`${e.name}=${value}`);
    } else if (e.valueFrom) {
      throw kubeError(`env ${e.name} of container ${c.name}: only value and valueFrom.configMapKeyRef are supported`);
    } else env.push(`${e.name}=${e.value ?? ''}`);
  }
  const mounts: string[] = [];
  for (const m of c.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    if (!v) { if (spec.volumes?.some((x: Obj) => x.name === m.name && x.configMap?.optional)) continue; throw kubeError(`container ${c.name} mounts volume "${m.name}", which the pod does not define`); }
    // Podman takes mount options after the path (/data:z): kept, as -v takes them.
    const [dest, ...opts] = String(m.mountPath ?? '').split(':');
    if (!dest.startsWith('/')) throw kubeError(`container ${c.name}: mountPath "${m.mountPath ?? ''}" is not absolute`);
    if (m.subPath && v.kind !== 'bind') throw kubeError(`container ${c.name}: subPath is supported on hostPath volumes only`);
    const src = m.subPath ? path.join(v.source, m.subPath) : v.source;
    const options = [...opts.join(':').split(',').filter((x) => x && x !== 'z' && x !== 'Z'), ...(m.readOnly ? ['ro'] : [])];
    mounts.push(`${src}:${dest}${options.length ? `:${options.join(',')}` : ''}`);
  }
  const sc: Obj = { ...(spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
  const user = sc.runAsUser !== undefined ? `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}` : imageCfg.User || undefined;
  const res = c.resources ?? {};
  const resources: Record<string, string | undefined> = {};
  if (res.limits?.memory) resources.memory = kubeQuantity(String(res.limits.memory));
  if (res.requests?.memory) resources['memory-reservation'] = kubeQuantity(String(res.requests.memory));
  if (res.limits?.cpu) resources.cpus = String(kubeCpu(String(res.limits.cpu)));
  return {
    image, name: `${podName}-${c.name}`, pod: podId, pull: 'never', env,
    entrypoint: c.command ? c.command.map(String) : undefined, command: (c.args ?? []).map(String),
    workdir: c.workingDir, user, tty: !!c.tty, interactive: !!c.stdin, volumes: mounts, readOnly: !!sc.readOnlyRootFilesystem,
    stopTimeout: spec.terminationGracePeriodSeconds,
    confinement: {
      privileged: !!sc.privileged, capAdd: sc.capabilities?.add ?? [], capDrop: sc.capabilities?.drop ?? [],
      securityOpt: sc.allowPrivilegeEscalation === false ? ['no-new-privileges'] : [], resources: Object.keys(resources).length ? resources : undefined,
      sysctl: (spec.securityContext?.sysctls ?? []).map((s: Obj) => `${s.name}=${s.value}`),
    },
    onWarning: warn,
  };
}

/** Kubernetes quantities (128Mi, 1G, 500M) as -m takes them. */
function kubeQuantity(q: string): string {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T|k)?$/.exec(q);
  if (!m) throw kubeError(`resource quantity "${q}" is not one tspod reads`, 'give bytes, or a number with Ki, Mi, Gi, K, M or G');
  const mult: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return String(Math.round(Number(m[1]) * mult[m[2] ?? '']));
}

/** CPU as Kubernetes writes it (0.5, 500m) in cpus. */
function kubeCpu(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(q);
  if (!m) throw kubeError(`cpu quantity "${q}" is not one tspod reads`, 'give cpus (0.5) or millicpus (500m)');
  return m[2] ? Number(m[1]) / 1000 : Number(m[1]);
}

/**
 * The container's image, there: built from CONTEXT/NAME (NAME the image's last path part) when
 * that directory has a Containerfile and --build says so or the image is missing, as Podman; else
 * pulled as imagePullPolicy says.
 */
async function kubeImage(store: Store, c: Obj, o: PlayOptions): Promise<string> {
  const image: string = c.image;
  const { findImage, pullImage } = await import('./images.js');
  const present = !!(await findImage(store, image));
  const base = image.slice(image.lastIndexOf('/') + 1).replace(/[:@].*$/, '');
  const dir = path.join(o.contextDir ?? process.cwd(), base);
  const file = ['Containerfile', 'Dockerfile'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (file && o.build !== false && (o.build === true || !present)) {
    const { buildImage } = await import('./build.js');
    await buildImage(store, { context: dir, file: { text: fs.readFileSync(file, 'utf8'), name: file }, tags: [image], buildArgs: new Map(), layers: true, say: o.say ?? ((l) => process.stderr.write(`${l}\n`)), onWarning: o.onWarning, pullOptions: o.pullOptions });
    return image;
  }
  const policy = c.imagePullPolicy ?? 'IfNotPresent';
  if (policy === 'Always' || (!present && policy !== 'Never')) await pullImage(store, image, o.pullOptions ?? {});
  else if (!present) throw kubeError(`image ${image} of container ${c.name} is not here and its imagePullPolicy is Never`, `pull it first: tspod pull ${image}`);
  return image;
}

export interface DownReport { stopped: string[]; removed: string[]; missing: string[] }

/** kube down: the pods the YAML describes are stopped and removed, with the emptyDir volumes they had. */
export async function downKube(store: Store, text: string): Promise<DownReport> {
  const docs = parseKube(text);
  const pods = await import('./pods.js');
  const volumes = await import('./volumes.js');
  const out: DownReport = { stopped: [], removed: [], missing: [] };
  const names = docs.flatMap((d) => podsOf(d, () => {})).map((p) => p.name);
  const found: PodRecord[] = [];
  for (const n of names) {
    const p = pods.listPods(store).find((x) => x.name === n);
    if (p) found.push(p); else out.missing.push(n);
  }
  for (const p of found) { await pods.stopPod(store, p, 10); out.stopped.push(p.id); }
  for (const p of found) {
    await pods.removePod(store, p, { force: true, timeoutSec: 0 });
    out.removed.push(p.id);
    for (const v of volumes.listVolumes(store)) if (v.labels?.['io.tspod.kube.emptydir'] === p.name) { try { volumes.removeVolume(store, v.name, { force: true }); } catch { /* in use elsewhere */ } }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// generate

/** The capabilities Kubernetes gives by default: a container's differences from them are its securityContext. */
const KUBE_DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_AUDIT_WRITE'];

const kubeTime = (iso: string) => `${iso.slice(0, 19)}Z`;

/**
 * kube generate: pods, containers and volumes as YAML. A pod stays a pod; containers outside one
 * become one pod named after the first; volumes become PersistentVolumeClaims. With `service`, a
 * NodePort Service for each pod that publishes ports.
 */
export async function generateKube(store: Store, refs: string[], o: { service?: boolean; onWarning?: (m: string) => void } = {}): Promise<string> {
  const pods = await import('./pods.js');
  const { findContainer } = await import('./containers.js');
  const volumes = await import('./volumes.js');
  const docs: Obj[] = [];
  const loose: ContainerRecord[] = [];
  const podDocs: Obj[] = [];
  for (const ref of refs) {
    const pod = pods.lookupPod(store, ref);
    if (pod) {
      const members = pods.podMembers(store, pod).filter((c) => c.id !== pod.infraId);
      if (!members.length) throw new TspodError('E_KUBE', `pod ${pod.id} only has an infra container`, { hint: `add a container first: tspod create --pod ${pod.name} IMAGE` });
      const infra = pod.infraId ? store.readContainer(pod.infraId) : undefined;
      podDocs.push(await podDoc(store, pod.name, members, { pod, ports: infra?.config?.ports ?? [], onWarning: o.onWarning }));
      continue;
    }
    const vol = volumes.readVolume(store, ref);
    let rec: ContainerRecord | undefined;
    try { rec = findContainer(store, ref); } catch (e) { if (!vol) throw new TspodError('E_NO_OBJECT', `${ref} does not refer to a container, pod or volume`, { hint: 'see tspod ps -a, tspod pod ps and tspod volume ls' }); }
    if (rec) {
      if (rec.pod) throw new TspodError('E_KUBE', `container ${rec.name} is in a pod: generate the pod instead`, { hint: 'tspod kube generate POD' });
      loose.push(rec);
    } else docs.push(pvcDoc(vol!));
  }
  if (loose.length) podDocs.push(await podDoc(store, `${loose[0].name}-pod`, loose, { ports: loose.flatMap((c) => c.config?.ports ?? []), onWarning: o.onWarning }));
  const all = [...docs, ...podDocs];
  if (o.service) for (const p of podDocs) { const s = serviceDoc(p); if (s) all.push(s); }
  const header = `# Save the output of this file and use kubectl create -f to import\n# it into Kubernetes.\n#\n# Created with tspod-${packageVersion()}\n`;
  return header + all.map((d) => YAML.stringify(d, { lineWidth: 0, version: '1.1' })).join('---\n');
}

function pvcDoc(v: { name: string; created?: string; labels?: Record<string, string> }): Obj {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: { annotations: { 'volume.podman.io/driver': 'local' }, ...(v.created ? { creationTimestamp: kubeTime(v.created) } : {}), ...(v.labels && Object.keys(v.labels).length ? { labels: v.labels } : {}), name: v.name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: {},
  };
}

async function podDoc(store: Store, name: string, members: ContainerRecord[], o: { pod?: PodRecord; ports: import('../net/ports.js').PortMapping[]; onWarning?: (m: string) => void }): Promise<Obj> {
  const annotations: Record<string, string> = {};
  const volumes: Obj[] = [];
  const containers: Obj[] = [];
  for (const [i, rec] of members.entries()) {
    const cfg = rec.config;
    const c = cfg?.confinement;
    if (o.pod) {
      annotations[`io.kubernetes.cri-o.ContainerType/${rec.name}`] = 'container';
      annotations[`io.kubernetes.cri-o.SandboxID/${rec.name}`] = o.pod.id;
    }
    annotations[`io.kubernetes.cri-o.TTY/${rec.name}`] = String(!!cfg?.tty);
    annotations[`io.podman.annotations.autoremove/${rec.name}`] = rec.autoRemove ? 'TRUE' : 'FALSE';
    annotations[`io.podman.annotations.init/${rec.name}`] = c?.init ? 'TRUE' : 'FALSE';
    annotations[`io.podman.annotations.privileged/${rec.name}`] = c?.privileged ? 'TRUE' : 'FALSE';
    annotations[`io.podman.annotations.publish-all/${rec.name}`] = 'FALSE';
    for (const [k, v] of Object.entries(cfg?.annotations ?? {})) annotations[k] = v;
    containers.push(await containerDoc(store, rec, i === 0 ? o.ports : [], volumes, !!o.pod));
    // A pod's members were named POD-NAME by kube play (or so by the user): a replay names them so again.
    if (o.pod && rec.name.startsWith(`${name}-`)) containers[i].name = rec.name.slice(name.length + 1);
  }
  // Kubernetes takes no longer values (Podman cuts them too): a pod's 64-hex id among them.
  for (const [k, v] of Object.entries(annotations)) {
    if (v.length <= MAX_ANNOTATION) continue;
    o.onWarning?.(`Truncation Annotation: "${v}" to "${v.slice(0, MAX_ANNOTATION)}": Kubernetes only allows ${MAX_ANNOTATION} characters`);
    annotations[k] = v.slice(0, MAX_ANNOTATION);
  }
  const restart = members[0].config?.restart?.name;
  const spec: Obj = {
    containers, ...(o.pod?.hostname ? { hostname: o.pod.hostname } : {}),
    restartPolicy: restart === 'always' || restart === 'unless-stopped' ? 'Always' : restart === 'on-failure' ? 'OnFailure' : 'Never',
    ...(volumes.length ? { volumes } : {}),
  };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { annotations, creationTimestamp: kubeTime(o.pod?.created ?? members[0].created), labels: { app: name, ...(o.pod?.labels ?? {}) }, name },
    spec, ...(o.pod ? { status: {} } : {}),
  };
}

async function containerDoc(store: Store, rec: ContainerRecord, ports: import('../net/ports.js').PortMapping[], volumes: Obj[], inPod: boolean): Promise<Obj> {
  const cfg = rec.config;
  const img = store.readImages().find((i) => i.id === rec.imageId);
  const { readImageConfig } = await import('./images.js');
  let imageCfg: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string; User?: string } = {};
  if (img) { try { imageCfg = (readImageConfig(store, img).config ?? {}) as typeof imageCfg; } catch { /* gone */ } }
  const imageArgs = [...(imageCfg.Entrypoint ?? []), ...(imageCfg.Cmd ?? [])];
  const out: Obj = {};
  // command overrides the image's entrypoint and, given alone, its Cmd: the whole argv, unless it is the image's own.
  if (JSON.stringify(imageArgs) !== JSON.stringify(rec.command)) out.command = rec.command;
  const imageEnv = new Set(imageCfg.Env ?? []);
  const env = (cfg?.env ?? []).filter((e) => !imageEnv.has(e)).map((e) => { const i = e.indexOf('='); return { name: e.slice(0, i), value: e.slice(i + 1) }; });
  if (env.length) out.env = env;
  out.image = rec.imageName;
  out.name = rec.name;
  if (ports.length) {
    out.ports = ports.flatMap((p) => Array.from({ length: p.range || 1 }, (_, k) => ({
      containerPort: p.containerPort + k, hostPort: p.hostPort + k, ...(p.hostIp && p.hostIp !== '0.0.0.0' ? { hostIP: p.hostIp } : {}), ...(p.protocol !== 'tcp' ? { protocol: p.protocol.toUpperCase() } : {}),
    })));
  }
  if (inPod) out.resources = resourcesDoc(cfg?.confinement?.resources);
  else { const r = resourcesDoc(cfg?.confinement?.resources); if (Object.keys(r).length) out.resources = r; }
  const { capabilitySet, ALL_CAPS } = await import('../runtime/spec.js');
  const c = cfg?.confinement;
  const caps = c?.privileged ? ALL_CAPS : capabilitySet(c?.capAdd ?? [], c?.capDrop ?? []);
  const add = caps.filter((x) => !KUBE_DEFAULT_CAPS.includes(x));
  const drop = KUBE_DEFAULT_CAPS.filter((x) => !caps.includes(x));
  const sc: Obj = { capabilities: { ...(add.length ? { add } : {}), ...(drop.length ? { drop } : {}) } };
  if (c?.privileged) sc.privileged = true;
  if (cfg?.readOnly) sc.readOnlyRootFilesystem = true;
  if (cfg?.user && cfg.user !== imageCfg.User) {
    const [u, g] = cfg.user.split(':');
    if (/^\d+$/.test(u)) sc.runAsUser = Number(u);
    if (g !== undefined && /^\d+$/.test(g)) sc.runAsGroup = Number(g);
  }
  out.securityContext = sc;
  if (cfg?.tty) out.tty = true;
  if (cfg?.interactive) out.stdin = true;
  const mounts: Obj[] = [];
  for (const m of cfg?.volumes ?? []) {
    if (m.type === 'tmpfs' || m.anonymous) continue;
    const volName = m.type === 'bind' ? `${m.source.replace(/\//g, '-').replace(/^-+|-+$/g, '') || 'root'}-host-${volumes.length}` : `${m.source}-pvc`;
    mounts.push({ mountPath: m.destination, name: volName, ...(m.readOnly ? { readOnly: true } : {}) });
    if (!volumes.some((v) => v.name === volName)) {
      let type = 'Directory';
      try { if (fs.statSync(m.source).isFile()) type = 'File'; } catch { /* a volume */ }
      volumes.push(m.type === 'bind' ? { hostPath: { path: m.source, type }, name: volName } : { name: volName, persistentVolumeClaim: { claimName: m.source } });
    }
  }
  if (mounts.length) out.volumeMounts = mounts;
  if (cfg?.workdir && cfg.workdir !== (imageCfg.WorkingDir || '/')) out.workingDir = cfg.workdir;
  return out;
}

function resourcesDoc(r: { memory?: number; memoryReservation?: number; cpus?: number } | undefined): Obj {
  if (!r) return {};
  const limits: Obj = {};
  const requests: Obj = {};
  if (r.memory) limits.memory = String(r.memory);
  if (r.cpus) limits.cpu = `${Math.round(r.cpus * 1000)}m`;
  if (r.memoryReservation) requests.memory = String(r.memoryReservation);
  return { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) };
}

function serviceDoc(pod: Obj): Obj | undefined {
  const ports = (pod.spec.containers as Obj[]).flatMap((c) => c.ports ?? []);
  if (!ports.length) return undefined;
  const name = pod.metadata.name;
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { creationTimestamp: pod.metadata.creationTimestamp, labels: { app: name }, name },
    spec: {
      ports: ports.map((p: Obj) => ({ name: String(p.containerPort), nodePort: 30000 + crypto.randomInt(2768), port: p.containerPort, protocol: p.protocol ?? 'TCP', targetPort: p.containerPort })),
      selector: { app: name }, type: 'NodePort',
    },
    status: { loadBalancer: {} },
  };
}
