// The per-user store. Layout under the store root:
//   images.json              image records (tags, digests, layers), replaced atomically
//   blobs/sha256/HEX         manifests and configs, content-addressed
//   layers/HEX/diff          one unpacked layer per diff id, shared by every image that has it
//   layers/HEX/layer.json    its size; the directory appears only by rename after verification
//   l/SHORT -> ../layers/HEX/diff   short names keep overlay's lowerdir under one page
//   containers/ID/           a container's record, upper and work dirs, and its bundle
//   tmp/PID-*                staging; swept once its process is gone
// Writes stage in tmp/ and rename into place; images.json changes under store.lock.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { storeDir } from '../paths.js';
import { withLock, acquireLock, acquireLockAsync } from '../sys/lock.js';
import { processAlive } from '../sys/proc.js';

export interface ImageRecord {
  id: string;
  names: string[];
  /** manifest digest, "sha256:..." */
  digest: string;
  repoDigests: string[];
  /** diff ids, base layer first */
  layers: string[];
  created?: string;
  size: number;
  manifestMediaType: string;
  pulled: string;
  /** every name the image has had, its current ones first (containers/storage's NamesHistory) */
  namesHistory?: string[];
  /** recorded by a build or commit (its manifest is tspod's own, not one a registry has) */
  built?: boolean;
  /** the image a build step made this one from: an untagged parent of another image is an intermediate one */
  parent?: string;
}

/** The names as they are now, then the history: each name once. */
const withHistory = (img: ImageRecord) => { img.namesHistory = [...new Set([...img.names, ...(img.namesHistory ?? [])])]; };

/** cgroup limits as run, create and update take them; bytes, CPUs, counts. */
export interface Resources {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  cpus?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
}

/**
 * What confines a container beyond its root and network, as create checked it: flags as given
 * where the spec is derived at each start, names resolved to ids where they must stay the same.
 */
export interface Confinement {
  /** --security-opt: seccomp=PROFILE|unconfined, no-new-privileges, label=..., mask=, unmask= */
  securityOpt?: string[];
  /** --ulimit NAME=SOFT[:HARD] */
  ulimits?: string[];
  /** --cap-add, --cap-drop as given */
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** --sysctl NAME=VALUE, over containers.conf's default_sysctls */
  sysctls?: Record<string, string>;
  /** /dev/shm's size in bytes (--shm-size) */
  shmSize?: number;
  /** --read-only-tmpfs=false: a --read-only root gets no tmpfs on /tmp, /var/tmp and /run */
  noReadOnlyTmpfs?: boolean;
  /** --device HOST[:CONTAINER][:PERMS] */
  devices?: Array<{ host: string; container: string; perms: string }>;
  /** --group-add GID|NAME|keep-groups */
  groupAdd?: string[];
  /** --init: catatonit as pid 1 (its host path) */
  init?: string;
  /** --pid, --ipc, --uts: private, host, container:ID (ipc also shareable, none) */
  pid?: string;
  ipc?: string;
  uts?: string;
  /** --userns: keep-id[:uid=,gid=], nomap, auto[:size=N], host; with --uidmap/--gidmap its mappings (container, parent, size) */
  userns?: string;
  uidMap?: IdMap[];
  gidMap?: IdMap[];
  resources?: Resources;
}

/** One --secret of a container: NAME[,type=mount|env][,target=PATH|VAR][,uid=,gid=,mode=] */
/** A container's health check, as recorded at create; times in ms (engine/health.ts runs it). */
export interface HealthConfig {
  /** ["CMD", ...] or ["CMD-SHELL", "..."], as the image config spells it */
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  retries: number;
  onFailure: 'none' | 'kill' | 'restart' | 'stop';
}

export interface SecretUse { name: string; id: string; type: 'mount' | 'env'; target: string; uid: number; gid: number; mode: number }

/** One range of a user namespace mapping: container ids from `container` onto the parent's from `host`. */
export interface IdMap { container: number; host: number; size: number }

/** What `create` was told, kept so that every `start` builds the same container again. */
export interface ContainerConfig {
  /** -e and --env-file, applied over the defaults and the image's Env at each start */
  env: string[];
  /** the entrypoint part of the command (given, or the image's) */
  entrypoint?: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  network?: string;
  /** --ip (on the first user network) and --network-alias */
  ip?: string;
  networkAliases?: string[];
  readOnly?: boolean;
  tty?: boolean;
  interactive?: boolean;
  /** Docker's StdinOnce: the container's stdin closes when the first attached client's input ends */
  stdinOnce?: boolean;
  logSizeMax?: number;
  runtime?: string;
  /** k8s-file (undefined) or none */
  logDriver?: string;
  /** seconds stop waits by default (--stop-timeout) */
  stopTimeout?: number;
  /** --dns, --dns-search, --dns-option, --add-host, --no-hosts */
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  noHosts?: boolean;
  /** -p/-P: published ports, host ports all chosen */
  ports?: import('../net/ports.js').PortMapping[];
  /** exposed ports ("80/tcp"), published or not: the image's EXPOSE and --expose */
  exposed?: string[];
  /** --timeout: seconds it may run before it is killed (exit code -1) */
  timeout?: number;
  /** --tz: ZONE or local */
  tz?: string;
  /** how its root is made (storage/driver.ts), fixed at create: undefined is native overlay */
  storage?: { name: 'overlay' | 'fuse-overlayfs' | 'vfs'; mountProgram?: string };
  /** --secret: each secret found at create, copied in at each start */
  secrets?: SecretUse[];
  /** capabilities, seccomp, namespaces, devices, limits: checked at create (engine/confine.ts) */
  confinement?: Confinement;
  /** --unsetenv NAME, --unsetenv-all */
  unsetenv?: string[];
  unsetenvAll?: boolean;
  /** --hostuser: host passwd lines added to the container's /etc/passwd */
  hostUsers?: string[];
  /** the root's upper dir is never synced (overlay's volatile): build's RUN containers, whose upper becomes a layer or goes */
  volatileRoot?: boolean;
  restart?: RestartPolicy;
  volumes?: VolumeMount[];
  /** --health-* or the image's HEALTHCHECK (engine/health.ts) */
  healthcheck?: HealthConfig;
  /** --sdnotify=container: the unit's notify socket, mounted at /run/notify/notify.sock */
  notifySocket?: string;
  sdNotifyMode?: string;
  /** --systemd: the container runs systemd (container_uuid, tmpfs on /run and /tmp) */
  systemd?: boolean;
  /** --annotation KEY=VALUE (and kube play's), given to the runtime's spec */
  annotations?: Record<string, string>;
}

export interface RestartPolicy { name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; maxRetries?: number }

/** A bind mount (source is a host path) or a volume (source names a volume in the store). */
export interface VolumeMount { type: 'bind' | 'volume' | 'tmpfs'; source: string; destination: string; readOnly?: boolean; anonymous?: boolean; /** noexec, nodev, nosuid and their opposites, from -v */ mountOptions?: string[] }

export interface ContainerRecord {
  id: string;
  name: string;
  imageId: string;
  imageName: string;
  created: string;
  command: string[];
  state: 'created' | 'running' | 'exited' | 'restarting';
  config?: ContainerConfig;
  restartCount?: number;
  /** which start this is: a late cleanup of an earlier run must not touch a newer one */
  runId?: string;
  /**
   * Set (to the run id) while a start mounts, networks and hands over, under the container's lock;
   * cleared when it is done. Seen by someone who holds the lock, it means that start was killed
   * half-way and left mounts or helpers to undo.
   */
  starting?: string;
  /** stop or kill was asked for: restart policies leave the container down */
  stoppedByUser?: boolean;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  /** the process that watches the container while it runs: tspod in the foreground, conmon detached */
  monitorPid?: number;
  detached?: boolean;
  autoRemove?: boolean;
  /** the tspod that runs it attached through conmon (-t): it removes a --rm container once it has the exit code */
  attachedPid?: number;
  /** the command line that created it (tspod's arguments), for generate systemd --new */
  createCommand?: string[];
  /** the pod it belongs to (its infra container holds the shared namespaces) */
  pod?: string;
  /** the tspod build whose RUN step this container is: it goes when that process is gone, and `ps` shows it only with --external */
  builderPid?: number;
  /** how to tear the network down after the container ends */
  network?: { mode: string; nsPath?: string; helperPid?: number; attachments?: import('../net/usernet.js').Attachment[] };
  stopSignal?: string;
  labels?: Record<string, string>;
  /** kube play --service-container: it stands for its pods (a systemd unit's main process), and goes with them */
  isService?: boolean;
}

const hexOf = (digest: string) => digest.slice(digest.indexOf(':') + 1);
export const shortLayerName = (diffId: string) => hexOf(diffId).slice(0, 20);

export class Store {
  readonly root: string;
  /** how many withLock() calls of this process are open: flock would deadlock on a second fd */
  private lockDepth = 0;
  constructor(root = storeDir(), private readonly onWarning: (message: string) => void = (m) => process.stderr.write(`Warning: ${m}\n`)) {
    this.root = root;
  }

  private p(...parts: string[]): string { return path.join(this.root, ...parts); }

  init(): this {
    // The store's missing parents and itself are searchable (0711, not listable): a container whose
    // root is not you (--userns nomap, auto) must reach its root and files through them.
    if (!fs.existsSync(this.root)) fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    for (const d of ['blobs/sha256', 'layers', 'l', 'containers', 'tmp']) fs.mkdirSync(this.p(d), { recursive: true, mode: 0o700 });
    return this;
  }

  withLock<T>(fn: () => T): T {
    if (this.lockDepth > 0) return fn();
    this.lockDepth++;
    // A store nobody has used yet (rm -a on a fresh account) is made, not an error.
    if (!fs.existsSync(this.root)) this.init();
    try { return withLock(this.p('store.lock'), fn); } finally { this.lockDepth--; }
  }

  // ---- images ----

  readImages(): ImageRecord[] {
    const parsed = this.parseImages();
    return parsed.ok ? parsed.images : this.recoverImages(parsed.why);
  }

  private parseImages(): { ok: true; images: ImageRecord[] } | { ok: false; why: string } {
    let text: string;
    try { text = fs.readFileSync(this.p('images.json'), 'utf8'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, images: [] };
      throw e;
    }
    try {
      const doc = JSON.parse(text) as { images?: unknown };
      if (!Array.isArray(doc.images) || doc.images.some((i) => typeof (i as ImageRecord)?.id !== 'string' || !Array.isArray((i as ImageRecord).layers))) return { ok: false, why: 'it does not hold a list of image records' };
      return { ok: true, images: doc.images as ImageRecord[] };
    } catch (e) {
      return { ok: false, why: (e as Error).message };
    }
  }

  /**
   * images.json does not parse (truncated, overwritten): the blobs and layers are the truth, so the
   * records are rebuilt from them: every stored manifest whose config and layers are all present.
   * Tags and repository digests live only in images.json and are lost; the damaged file is kept.
   */
  private recoverImages(why: string): ImageRecord[] {
    return this.withLock(() => {
      const again = this.parseImages(); // another process may have rebuilt it meanwhile
      if (again.ok) return again.images;
      const images: ImageRecord[] = [];
      let names: string[] = [];
      try { names = fs.readdirSync(this.p('blobs/sha256')); } catch { /* no blobs */ }
      for (const hex of names) {
        const manifest = this.readJsonBlob(hex) as { mediaType?: string; config?: { digest?: string }; layers?: unknown[] } | undefined;
        if (!manifest?.config?.digest || !Array.isArray(manifest.layers)) continue;
        const config = this.readJsonBlob(hexOf(manifest.config.digest)) as { rootfs?: { diff_ids?: string[] }; created?: string } | undefined;
        const layers = config?.rootfs?.diff_ids;
        if (!Array.isArray(layers) || layers.length !== manifest.layers.length || !layers.every((d) => typeof d === 'string' && this.hasLayer(d))) continue;
        images.push({
          id: hexOf(manifest.config.digest), names: [], digest: `sha256:${hex}`, repoDigests: [], layers, created: config!.created,
          size: layers.reduce((n, d) => n + this.layerSize(d), 0), manifestMediaType: manifest.mediaType ?? '', pulled: new Date().toISOString(),
        });
      }
      const kept = `images.json.damaged-${Date.now()}`;
      fs.renameSync(this.p('images.json'), this.p(kept));
      this.writeImages(images);
      this.onWarning(`${this.p('images.json')} was damaged (${why}): rebuilt ${images.length} image record${images.length === 1 ? '' : 's'} from the layers and manifests in the store, without their tags (tag them again by pulling); the damaged file is ${kept}`);
      return images;
    });
  }

  private readJsonBlob(hex: string): unknown {
    try {
      const file = this.p('blobs/sha256', hex);
      if (!/^[a-f0-9]{64}$/.test(hex) || fs.statSync(file).size > 4 << 20) return undefined;
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch { return undefined; }
  }

  private writeImages(images: ImageRecord[]): void {
    this.writeAtomic(this.p('images.json'), JSON.stringify({ images }, null, 1));
  }

  /** Record an image; its names move away from any image that had them (a tag moves). Call under lock. */
  addImage(rec: ImageRecord): void {
    const images = this.readImages();
    const existing = images.find((i) => i.id === rec.id);
    for (const img of images) {
      if (img === existing) continue;
      img.names = img.names.filter((n) => !rec.names.includes(n));
    }
    if (existing) {
      existing.names = [...new Set([...existing.names, ...rec.names])];
      withHistory(existing);
      existing.repoDigests = [...new Set([...existing.repoDigests, ...rec.repoDigests])];
      existing.pulled = rec.pulled;
      // A build of the same config with other annotations wrote another manifest: it is the image's now.
      if (rec.built) { existing.digest = rec.digest; existing.manifestMediaType = rec.manifestMediaType; }
    } else {
      withHistory(rec);
      images.push(rec);
    }
    this.writeImages(images);
  }

  /** Record which image a build step made this one from. Call under lock. */
  setParent(id: string, parent: string): void {
    const images = this.readImages();
    const img = images.find((i) => i.id === id);
    if (!img || img.parent === parent || img.id === parent) return;
    img.parent = parent;
    this.writeImages(images);
  }

  /** Remove an image record and the layers and blobs no remaining image uses. Call under lock. */
  removeImage(id: string): { removedLayers: number } {
    const images = this.readImages();
    const victim = images.find((i) => i.id === id);
    if (!victim) return { removedLayers: 0 };
    const rest = images.filter((i) => i.id !== id);
    this.writeImages(rest);
    const stillUsed = new Set(rest.flatMap((i) => i.layers));
    let removedLayers = 0;
    for (const layer of new Set(victim.layers)) {
      if (stillUsed.has(layer)) continue;
      this.removeLayer(layer);
      removedLayers++;
    }
    for (const blob of [victim.digest, `sha256:${victim.id}`]) {
      if (!rest.some((i) => i.digest === blob || `sha256:${i.id}` === blob)) fs.rmSync(this.blobPath(blob), { force: true });
    }
    return { removedLayers };
  }

  /** Remove those of `diffIds` that no image record uses. Call under lock. */
  removeUnusedLayers(diffIds: string[]): void {
    const used = new Set(this.readImages().flatMap((i) => i.layers));
    for (const d of new Set(diffIds)) if (!used.has(d)) this.removeLayer(d);
  }

  /** Untag: drop one name from an image. Call under lock. */
  /** Drop a name (REPO:TAG) or a digest reference (REPO@sha256:...) from an image. Call under the store lock. */
  untag(id: string, name: string): void {
    const images = this.readImages();
    const img = images.find((i) => i.id === id);
    if (!img) return;
    img.names = img.names.filter((n) => n !== name);
    withHistory(img);
    img.repoDigests = img.repoDigests.filter((n) => n !== name);
    this.writeImages(images);
  }

  /** Give an image another name; a name moves from whichever image had it. Call under the store lock. */
  tag(id: string, name: string): void {
    const images = this.readImages();
    const img = images.find((i) => i.id === id);
    if (!img) return;
    for (const other of images) other.names = other.names.filter((n) => n !== name);
    img.names.push(name);
    withHistory(img);
    this.writeImages(images);
  }

  // ---- blobs ----

  blobPath(digest: string): string { return this.p('blobs/sha256', hexOf(digest)); }

  putBlob(digest: string, data: Buffer): void {
    if (!fs.existsSync(this.blobPath(digest))) this.writeAtomic(this.blobPath(digest), data);
  }

  readBlob(digest: string): Buffer { return fs.readFileSync(this.blobPath(digest)); }

  // ---- layers ----

  layerDir(diffId: string): string { return this.p('layers', hexOf(diffId)); }
  diffDir(diffId: string): string { return path.join(this.layerDir(diffId), 'diff'); }
  hasLayer(diffId: string): boolean { return fs.existsSync(path.join(this.layerDir(diffId), 'layer.json')); }

  layerSize(diffId: string): number {
    try { return (JSON.parse(fs.readFileSync(path.join(this.layerDir(diffId), 'layer.json'), 'utf8')) as { size: number }).size; } catch { return 0; }
  }

  /** A fresh staging directory, named after this process so a sweep knows when it is abandoned. */
  stagingDir(): string {
    const dir = this.p('tmp', `${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  /** Move a verified, unpacked layer (staging/diff) into place. Another pull may have won: fine. */
  commitLayer(staging: string, diffId: string, size: number): void {
    fs.writeFileSync(path.join(staging, 'layer.json'), JSON.stringify({ diffId, size }));
    try {
      fs.renameSync(staging, this.layerDir(diffId));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      this.discard(staging);
    }
    const link = this.p('l', shortLayerName(diffId));
    try { fs.symlinkSync(`../layers/${hexOf(diffId)}/diff`, link); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }

  private removeLayer(diffId: string): void {
    fs.rmSync(this.p('l', shortLayerName(diffId)), { force: true });
    // and the links to its copies for user namespaces of containers' own (mapped.ts)
    try { for (const n of fs.readdirSync(this.p('m'))) if (n.endsWith(`-${shortLayerName(diffId)}`)) fs.rmSync(this.p('m', n), { force: true }); } catch { /* none */ }
    // Rename first so that a crash mid-delete never leaves a half layer that looks whole.
    const doomed = this.p('tmp', `${process.pid}-rm-${hexOf(diffId).slice(0, 12)}`);
    try { fs.renameSync(this.layerDir(diffId), doomed); } catch { return; }
    this.discard(doomed);
  }

  discard(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  /**
   * Remove staging left by processes that no longer exist (a pull killed with SIGKILL), and, when
   * no pull is running, layers no image uses (left by an rmi killed between its record and its
   * layers; `layers: false` leaves them, for callers that never leave such). Call under the store lock.
   */
  sweep(opts: { layers?: boolean } = {}): void {
    let names: string[] = [];
    try { names = fs.readdirSync(this.p('tmp')); } catch { /* no store yet */ }
    for (const name of names) {
      const pid = Number(name.split('-')[0]);
      if (pid === process.pid || (pid && processAlive(pid))) continue;
      this.discard(this.p('tmp', name));
    }
    if (opts.layers === false) return;
    // A running pull holds pulls.lock shared: its layers are committed before its image is.
    const noPulls = fs.existsSync(this.p('layers')) ? acquireLock(this.p('pulls.lock'), { tryOnly: true }) : undefined;
    if (!noPulls) return;
    try {
      const used = new Set(this.readImages().flatMap((i) => i.layers.map(hexOf)));
      for (const hex of fs.readdirSync(this.p('layers'))) if (!used.has(hex)) this.removeLayer(`sha256:${hex}`);
    } finally {
      noPulls();
    }
  }

  /** Held (shared) while a pull runs, so that sweep() leaves the layers it has committed alone. */
  pullInProgress(): () => void {
    return acquireLock(this.p('pulls.lock'), { shared: true });
  }

  // ---- containers ----

  containerDir(id: string): string { return this.p('containers', id); }

  listContainers(): ContainerRecord[] { return this.scanContainers().records; }

  /**
   * Every container directory: the records, and the directories without one (`missing`: being
   * created, or left by a killed create) or with one that does not parse (`damaged`).
   */
  scanContainers(): { records: ContainerRecord[]; missing: string[]; damaged: string[] } {
    const out = { records: [] as ContainerRecord[], missing: [] as string[], damaged: [] as string[] };
    let ids: string[];
    try { ids = fs.readdirSync(this.p('containers')); } catch { return out; }
    for (const id of ids) {
      let text: string;
      try { text = fs.readFileSync(this.p('containers', id, 'container.json'), 'utf8'); } catch { out.missing.push(id); continue; }
      try { out.records.push(JSON.parse(text) as ContainerRecord); } catch { out.damaged.push(id); }
    }
    return out;
  }

  readContainer(id: string): ContainerRecord | undefined {
    try { return JSON.parse(fs.readFileSync(this.p('containers', id, 'container.json'), 'utf8')); } catch { return undefined; }
  }

  /** The container a name claims, without reading any record. */
  idForName(name: string): string | undefined {
    try { return fs.readlinkSync(this.p('names', name)); } catch { return undefined; }
  }

  containerIds(): string[] {
    try { return fs.readdirSync(this.p('containers')); } catch { return []; }
  }

  /**
   * The container's lock (a file in its directory): every change of its record happens under it,
   * and a create holds it from the directory's first moment to the record. Undefined when the
   * container is gone (or, with tryOnly, when another process holds the lock).
   */
  /**
   * Make a container's directory with its lock already held: made and locked in tmp/, then renamed
   * into containers/, so no sweeper ever sees it unlocked (one that did would take it for a killed
   * create's and remove it). Returns the lock's release.
   */
  makeContainerDir(id: string): () => void {
    const staging = this.p('tmp', `${process.pid}-new-${id.slice(0, 12)}`);
    fs.mkdirSync(staging, { mode: 0o700 });
    const release = acquireLock(path.join(staging, 'lock'));
    try { fs.renameSync(staging, this.containerDir(id)); } catch (e) {
      release();
      fs.rmSync(staging, { recursive: true, force: true });
      throw e;
    }
    return release;
  }

  lockContainer(id: string, opts: { tryOnly?: boolean } = {}): (() => void) | undefined {
    try { return opts.tryOnly ? acquireLock(this.p('containers', id, 'lock'), { tryOnly: true }) : acquireLock(this.p('containers', id, 'lock')); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** The container's lock, waited for without blocking: undefined when the container is gone. */
  async lockContainerAsync(id: string): Promise<(() => void) | undefined> {
    try { return await acquireLockAsync(this.p('containers', id, 'lock')); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  hasContainerFile(id: string): boolean { return fs.existsSync(this.p('containers', id, 'container.json')); }

  /** Rename a container's directory into tmp/ (so it never looks whole again), then delete it. */
  discardContainerDir(id: string): void {
    const doomed = this.p('tmp', `${process.pid}-ctr-${id.slice(0, 12)}-${crypto.randomBytes(3).toString('hex')}`);
    try { fs.renameSync(this.p('containers', id), doomed); } catch { return; }
    this.discard(doomed);
  }

  writeContainer(rec: ContainerRecord): void {
    this.writeAtomic(this.p('containers', rec.id, 'container.json'), JSON.stringify(rec, null, 1));
  }

  /** Claim a container name atomically: a symlink can be created by one process only. */
  claimName(name: string, id: string): boolean {
    fs.mkdirSync(this.p('names'), { recursive: true });
    try { fs.symlinkSync(id, this.p('names', name)); return true; } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }

  releaseName(name: string): void { fs.rmSync(this.p('names', name), { force: true }); }

  /**
   * Names whose container directory is gone (an rm killed between its rename and the name's
   * release). A create makes its directory before it claims a name, so such a link is nobody's.
   * Call under the store lock.
   */
  sweepNames(): void {
    let names: string[];
    try { names = fs.readdirSync(this.p('names')); } catch { return; }
    for (const name of names) {
      const id = this.idForName(name);
      if (id && !fs.existsSync(this.containerDir(id)) && this.idForName(name) === id) this.releaseName(name);
    }
  }

  // ---- pods (engine/pods.ts): one small file, changed under store.lock ----

  readPods<T>(): T[] {
    try { return (JSON.parse(fs.readFileSync(this.p('pods.json'), 'utf8')) as { pods: T[] }).pods; } catch { return []; }
  }

  writePods<T>(pods: T[]): void {
    this.writeAtomic(this.p('pods.json'), JSON.stringify({ pods }, null, 1));
  }

  writeAtomic(file: string, data: string | Buffer): void {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }
}
