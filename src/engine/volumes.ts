// Volumes: bind mounts from the host, named volumes and anonymous ones (from `-v /path` and from
// the image's VOLUME list), kept in the store as volumes/NAME/_data. An empty volume is filled from
// the image's files at its mount point on first use, as Docker and Podman do.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { TspodError, UsageError, VolumeNotFoundError } from '../errors.js';
import type { Store, ContainerRecord, VolumeMount } from '../storage/store.js';
import type { ImageConfig } from './process.js';
import { NAME_PATTERN } from './containers.js';
import { parseLabels } from './labels.js';
import { objectEvent } from './events.js';
import { byText } from './filters.js';
import { isRootless } from '../paths.js';
import { mount } from '../sys/index.js';

export interface VolumeRecord {
  name: string; created: string; anonymous: boolean; labels: Record<string, string>;
  /** -o type=bind|tmpfs, device=..., o=...: the local driver's options, as Podman's */
  options?: Record<string, string>;
  /** Podman's flags: the first mount over a non-empty image directory copies it in, and the first mount chowns it */
  needsCopyUp?: boolean;
  needsChown?: boolean;
}

/** --volumepath, else the store's volumes directory. */
export const volumesRoot = (store: Store) => process.env.TSPOD_VOLUME_PATH || path.join(store.root, 'volumes');
export const volumeDir = (store: Store, name: string) => path.join(volumesRoot(store), name);
/** Where a volume's files are: its directory in the store, or the directory a bind volume names. */
export function volumeDataDir(store: Store, name: string, v = readVolume(store, name)): string {
  return v?.options?.type === 'bind' ? v.options.device! : dataDir(store, name);
}
const dataDir = (store: Store, name: string) => path.join(volumeDir(store, name), '_data');

/** The mount flags -v passes on to the mount; z and Z (SELinux labels) mean nothing without SELinux; U chowns the source to the container's user. */
const PASSED_ON = ['exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'U', 'O'];
const MOUNT_OPTIONS = ['ro', 'rw', 'z', 'Z', ...PASSED_ON];

/** -v ...:U: the source becomes the container user's, recursively, when its top does not belong to them yet (as Podman). */
function chownToUser(dir: string, user: { uid: number; gid: number }): void {
  const st = fs.statSync(dir);
  if (st.uid === user.uid && st.gid === user.gid) return;
  const walk = (p: string) => {
    fs.lchownSync(p, user.uid, user.gid);
    if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
}

/** -v SOURCE:DEST[:OPTIONS] as Docker reads it; SOURCE is a host path (absolute or ./relative) or a volume name. */
export function parseVolumeFlags(flags: string[], tmpfs: string[] = []): VolumeMount[] {
  const seen = new Set<string>();
  const claim = (destination: string) => {
    const dest = path.posix.normalize(destination).replace(/(.)\/+$/, '$1');
    if (seen.has(dest)) throw new UsageError(`${dest}: duplicate mount destination`);
    seen.add(dest);
  };
  // --tmpfs PATH[:OPTIONS]: a fresh tmpfs there (Podman's defaults: rw, noexec, nosuid, nodev).
  const tmpfsMounts = [...new Set(tmpfs)].map((flag): VolumeMount => {
    const i = flag.indexOf(':');
    const destination = i < 0 ? flag : flag.slice(0, i);
    if (!destination.startsWith('/')) throw new UsageError(`invalid --tmpfs "${flag}": the container path "${destination}" is not absolute`);
    claim(destination);
    const options = i < 0 ? [] : flag.slice(i + 1).split(',').filter(Boolean);
    // tmpcopyup (runc's): the tmpfs starts with what the image has there, as Podman's --tmpfs does.
    const copyUp = options.includes('notmpcopyup') ? [] : ['tmpcopyup'];
    return { type: 'tmpfs', source: 'tmpfs', destination, mountOptions: ['rw', 'noexec', 'nosuid', 'nodev', ...copyUp, ...options.filter((o) => o !== 'notmpcopyup')] };
  });
  // The same -v twice is one mount, as Podman takes it; two sources for one destination are refused.
  return [...tmpfsMounts, ...[...new Set(flags)].map((flag): VolumeMount => {
    const parts = flag.split(':');
    if (parts.length > 3 || parts.some((p) => p === '')) throw new UsageError(`invalid volume "${flag}"`, 'use -v /host/path:/in/container[:ro], -v NAME:/in/container, or -v /in/container');
    const [source, destination, options] = parts.length === 1 ? [undefined, parts[0], undefined] : parts;
    if (!destination.startsWith('/')) throw new UsageError(`invalid volume "${flag}": the container path "${destination}" is not absolute`, 'give the path inside the container as an absolute path');
    const opts = (options ?? '').split(',').filter(Boolean);
    for (const o of opts) if (!MOUNT_OPTIONS.includes(o)) throw new UsageError(`invalid volume option "${o}" in "${flag}"`, `tspod accepts ${MOUNT_OPTIONS.join(', ')}`);
    claim(destination);
    const readOnly = opts.includes('ro');
    const flagsOf = opts.filter((o) => PASSED_ON.includes(o));
    const extra = flagsOf.length ? { mountOptions: flagsOf } : {};
    if (source === undefined) return { type: 'volume', source: anonymousName(), destination, anonymous: true, readOnly, ...extra };
    if (source.startsWith('/') || source.startsWith('.')) {
      const abs = path.resolve(source);
      if (!fs.existsSync(abs)) throw new TspodError('E_USAGE', `bind mount source ${abs} does not exist`, { hint: `create it first (mkdir -p ${abs}), or name a volume instead` });
      return { type: 'bind', source: abs, destination, readOnly, ...extra };
    }
    if (!NAME_PATTERN.test(source)) throw new UsageError(`invalid volume name "${source}"`, 'volume names use [a-zA-Z0-9][a-zA-Z0-9_.-]*; host paths start with / or .');
    return { type: 'volume', source, destination, readOnly, ...extra };
  })];
}

const anonymousName = () => crypto.randomBytes(32).toString('hex');

/** A fresh overlay (upper and work dirs emptied) over a host directory, mounted in `dir`; returns its merged path. */
function overlayVolume(lower: string, dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const d of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  try {
    mount('overlay', path.join(dir, 'merged'), 'overlay', `lowerdir=${lower},upperdir=${dir}/upper,workdir=${dir}/work${isRootless() ? ',userxattr' : ''}`);
  } catch (e) {
    throw new TspodError('E_VOLUME', `cannot mount an overlay over ${lower} (:O): ${(e as Error).message}`, { hint: 'native overlay is needed for :O; drop :O, or mount it read-only with :ro' });
  }
  return path.join(dir, 'merged');
}

/** The image's VOLUME paths that -v did not already cover become anonymous volumes. */
export function imageVolumes(cfg: ImageConfig['config'], given: VolumeMount[]): VolumeMount[] {
  const covered = new Set(given.map((m) => path.posix.normalize(m.destination)));
  return Object.keys(cfg?.Volumes ?? {}).filter((d) => !covered.has(path.posix.normalize(d)))
    .map((destination) => ({ type: 'volume' as const, source: anonymousName(), destination, anonymous: true }));
}

export function readVolume(store: Store, name: string): VolumeRecord | undefined {
  try { return JSON.parse(fs.readFileSync(path.join(volumeDir(store, name), 'volume.json'), 'utf8')); } catch { return undefined; }
}

/** Create a volume unless it exists; mkdir's EEXIST makes two racing creators agree. */
/** -o KEY=VALUE for the local driver: type (bind, tmpfs, or a file system), device, o (mount options). */
function volumeOptions(given: string[]): Record<string, string> | undefined {
  if (!given.length) return undefined;
  const out: Record<string, string> = {};
  for (const g of given) {
    const i = g.indexOf('=');
    const key = i < 0 ? g : g.slice(0, i);
    if (!['type', 'device', 'o'].includes(key)) throw new UsageError(`invalid mount option ${key} for driver 'local': tspod's local driver takes type, device and o`);
    out[key] = i < 0 ? '' : g.slice(i + 1);
  }
  if (out.type === 'bind') {
    if (!out.device) throw new UsageError("invalid volume option type=bind for driver 'local': it needs device=PATH");
    if (!fs.existsSync(out.device)) throw new TspodError('E_USAGE', `invalid volume option device for driver 'local': stat ${out.device}: no such file or directory`);
  } else if (out.type && out.type !== 'tmpfs') {
    throw new UsageError(`invalid volume option type=${out.type} for driver 'local': tspod mounts bind and tmpfs volumes (other file systems need root)`);
  }
  return out;
}

export function createVolume(store: Store, name: string, o: { anonymous?: boolean; labels?: string[]; options?: string[] } = {}): VolumeRecord {
  if (!NAME_PATTERN.test(name)) throw new UsageError(`invalid volume name "${name}"`, 'volume names use [a-zA-Z0-9][a-zA-Z0-9_.-]*');
  const options = volumeOptions(o.options ?? []);
  fs.mkdirSync(volumesRoot(store), { recursive: true, mode: 0o700 });
  const dir = volumeDir(store, name);
  try { fs.mkdirSync(dir, { mode: 0o700 }); } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return readVolume(store, name) ?? { name, created: '', anonymous: false, labels: {} };
  }
  fs.mkdirSync(path.join(dir, '_data'), { mode: 0o755 });
  const rec: VolumeRecord = { name, created: new Date().toISOString(), anonymous: !!o.anonymous, labels: parseLabels(o.labels ?? []), options, needsCopyUp: true, needsChown: true };
  store.writeAtomic(path.join(dir, 'volume.json'), JSON.stringify(rec));
  objectEvent('volume', 'create', name);
  return rec;
}

export function ensureVolumes(store: Store, mounts: VolumeMount[]): void {
  for (const m of mounts) if (m.type === 'volume') createVolume(store, m.source, { anonymous: m.anonymous });
}

/**
 * The OCI mounts for a container's volumes. An empty volume first takes a copy of what the image has
 * at the mount point (owner and mode included), so e.g. a database image's VOLUME keeps its files.
 */
export async function volumeSpecMounts(store: Store, rec: ContainerRecord, rootfs: string, user: { uid: number; gid: number }): Promise<Array<{ destination: string; type: string; source: string; options: string[] }>> {
  const mounts = rec.config?.volumes ?? [];
  if (mounts.length === 0) return [];
  const { resolveInRoot } = await import('../runtime/rootpath.js');
  return mounts.map((m, i) => {
    const flags = [...(m.readOnly ? ['ro'] : []), ...(m.mountOptions ?? []).filter((o) => o !== 'U' && o !== 'O')];
    const mount = specMount(m, flags);
    if (m.mountOptions?.includes('U') && mount.type === 'bind') chownToUser(mount.source, user);
    // :O: the container writes into an overlay over the host directory, whose changes go at its next start or removal.
    if (m.mountOptions?.includes('O') && mount.type === 'bind') mount.source = overlayVolume(mount.source, path.join(store.containerDir(rec.id), 'userdata', 'overlay', String(i)));
    return mount;
  });

  function specMount(m: VolumeMount, flags: string[]): { destination: string; type: string; source: string; options: string[] } {
    if (m.type === 'tmpfs') return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: flags };
    if (m.type !== 'volume') return { destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'rprivate', ...flags] };
    const vol = createVolume(store, m.source, { anonymous: m.anonymous });
    // -o type=tmpfs: a fresh tmpfs at each start; -o type=bind,device=DIR: that directory.
    if (vol.options?.type === 'tmpfs') return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(vol.options.o ? vol.options.o.split(',') : []), ...flags] };
    if (vol.options?.type === 'bind') return { destination: m.destination, type: 'bind', source: vol.options.device!, options: ['rbind', 'rprivate', ...flags] };
    const source = dataDir(store, m.source);
    const fromImage = resolveInRoot(rootfs, m.destination);
    let st: fs.Stats | undefined;
    try { st = fs.statSync(fromImage); } catch { /* nothing there in the image */ }
    // As Podman: the first mount over a non-empty image directory copies it in (once), and the
    // first mount gives the volume the owner and mode of what is there in the image.
    const changes: Partial<VolumeRecord> = {};
    if (st?.isDirectory() && (vol.needsCopyUp ?? true) && fs.readdirSync(fromImage).length > 0 && fs.readdirSync(source).length === 0) {
      const r = spawnSync('cp', ['-a', `${fromImage}/.`, `${source}/`], { encoding: 'utf8' });
      if (r.status !== 0) throw new TspodError('E_VOLUME', `cannot fill volume ${m.source} from the image's ${m.destination}: ${(r.stderr || '').trim()}`);
      changes.needsCopyUp = false;
    }
    if (vol.needsChown ?? true) {
      if (st?.isDirectory()) { fs.chownSync(source, st.uid, st.gid); fs.chmodSync(source, st.mode & 0o7777); }
      changes.needsChown = false;
    }
    if (Object.keys(changes).length) store.writeAtomic(path.join(volumeDir(store, m.source), 'volume.json'), JSON.stringify({ ...vol, ...changes }));
    return { destination: m.destination, type: 'bind', source, options: ['rbind', 'rprivate', ...flags] };
  }
}

/** A volume as Podman's inspect and ls --format json show it. */
export function volumeReport(store: Store, v: VolumeRecord, usage: () => Map<string, ContainerRecord[]> = () => volumeUsage(store)) {
  return {
    Name: v.name, Driver: 'local', Mountpoint: volumeDataDir(store, v.name, v), CreatedAt: v.created,
    Labels: v.labels, Scope: 'local', Options: v.options ?? {},
    // read only when shown: it needs every container's record
    get MountCount() { return (usage().get(v.name) ?? []).filter((c) => c.state === 'running').length; },
    NeedsCopyUp: v.needsCopyUp ?? true, NeedsChown: v.needsChown ?? true, Anonymous: v.anonymous,
  };
}

export function listVolumes(store: Store): VolumeRecord[] {
  let names: string[];
  try { names = fs.readdirSync(volumesRoot(store)); } catch { return []; }
  return names.map((n) => readVolume(store, n)).filter((v): v is VolumeRecord => !!v).sort((a, b) => byText(a.name, b.name));
}

/** The containers that mount a volume. */
/** Which containers use each volume, from one read of every container record. */
export function volumeUsage(store: Store): Map<string, ContainerRecord[]> {
  const usage = new Map<string, ContainerRecord[]>();
  for (const c of store.listContainers()) {
    for (const m of c.config?.volumes ?? []) if (m.type === 'volume' && !usage.get(m.source)?.includes(c)) usage.set(m.source, [...(usage.get(m.source) ?? []), c]);
  }
  return usage;
}

/** The volumes no container uses (those `match` accepts): what volume prune removes. */
export function unusedVolumes(store: Store, match: (v: VolumeRecord) => boolean = () => true): VolumeRecord[] {
  const usage = volumeUsage(store);
  return listVolumes(store).filter((v) => !usage.has(v.name) && match(v));
}

/** volume prune: remove the unused volumes; one a container took meanwhile stays. Returns the names removed. */
export function pruneVolumes(store: Store, match?: (v: VolumeRecord) => boolean): string[] {
  const removed: string[] = [];
  for (const v of unusedVolumes(store, match)) {
    try { removeVolume(store, v.name); removed.push(v.name); } catch (e) { if (!(e instanceof TspodError && e.code === 'E_VOLUME_IN_USE')) throw e; }
  }
  return removed;
}

export function volumeUsers(store: Store, name: string): ContainerRecord[] {
  return volumeUsage(store).get(name) ?? [];
}

/** Remove a volume and its data; one in use by a container is refused unless force, which needs no container to run. */
export function removeVolume(store: Store, name: string, o: { force?: boolean } = {}): void {
  if (!readVolume(store, name)) throw new VolumeNotFoundError(name);
  const users = volumeUsers(store, name);
  if (users.length && !o.force) throw new TspodError('E_VOLUME_IN_USE', `volume ${name} is used by container ${users[0].name}`, { hint: `remove the container first (tspod rm ${users[0].name})` });
  const doomed = path.join(store.root, 'tmp', `${process.pid}-vol-${name.slice(0, 40)}`);
  fs.renameSync(volumeDir(store, name), doomed);
  fs.rmSync(doomed, { recursive: true, force: true });
  objectEvent('volume', 'remove', name);
}

/** rm -v: the container's anonymous volumes go with it; named ones stay. */
export function removeAnonymousVolumes(store: Store, rec: ContainerRecord): void {
  for (const m of rec.config?.volumes ?? []) {
    if (m.type === 'volume' && m.anonymous && readVolume(store, m.source)) {
      try { removeVolume(store, m.source, { force: true }); } catch { /* already gone */ }
    }
  }
}

/**
 * volume export / import: the volume's data as a tar stream, through the system's tar run in the
 * user namespace (so owners inside the volume stay as they are). `file` is a path, or "-" for
 * stdout/stdin. tar drops leading "/" and refuses ".." members; what it writes lands in the
 * volume's own directory, with no more rights than the user has.
 */
export async function tarVolume(store: Store, name: string, how: 'export' | 'import', file: string): Promise<void> {
  const v = readVolume(store, name);
  if (!v) throw new VolumeNotFoundError(name);
  if (v.options?.type === 'tmpfs') throw new TspodError('E_USAGE', `volume ${name} is a tmpfs volume: it has no data between runs to ${how}`);
  const dir = volumeDataDir(store, name, v);
  const { startProcess } = await import('../sys/spawn.js');
  const args = how === 'export' ? ['-C', dir, '-cf', file, '.'] : ['-C', dir, '-xf', file];
  const child = startProcess('tar', args, { stdio: [how === 'import' && file === '-' ? 'inherit' : 'ignore', how === 'export' && file === '-' ? 'inherit' : 'ignore', 'pipe'] });
  let stderr = '';
  child.pipes.get(2)!.on('data', (d: Buffer) => { stderr += d; });
  const { code } = await child.exited;
  if (code !== 0) throw new TspodError('E_VOLUME', `volume ${how} of ${name} failed: ${stderr.trim().split('\n').pop() || `tar exited with ${code}`}`, { hint: how === 'import' ? 'check that the input is a tar archive' : undefined });
}

/**
 * --mount type=bind|volume|tmpfs,source=...,destination=...[,ro]: Docker's long form, said again
 * as the -v or --tmpfs it means.
 */
export function mountAsVolumeFlag(spec: string): { volume?: string; tmpfs?: string } {
  const kv = new Map<string, string>();
  for (const part of spec.split(',').filter(Boolean)) {
    const i = part.indexOf('=');
    kv.set((i < 0 ? part : part.slice(0, i)).toLowerCase(), i < 0 ? 'true' : part.slice(i + 1));
  }
  const type = kv.get('type') ?? 'volume';
  const dest = kv.get('destination') ?? kv.get('dst') ?? kv.get('target');
  if (!dest) throw new UsageError(`--mount ${spec}: no destination`, 'give destination=PATH (or dst=, target=)');
  const src = kv.get('source') ?? kv.get('src');
  const ro = ['true', '1'].includes(kv.get('ro') ?? kv.get('readonly') ?? 'false');
  switch (type) {
    case 'bind':
      if (!src) throw new UsageError(`--mount ${spec}: a bind mount needs source=HOST_PATH`);
      return { volume: `${src}:${dest}${ro ? ':ro' : ''}` };
    case 'volume':
      return { volume: src ? `${src}:${dest}${ro ? ':ro' : ''}` : dest };
    case 'tmpfs': {
      const opts = [kv.has('tmpfs-size') ? `size=${kv.get('tmpfs-size')}` : '', kv.has('tmpfs-mode') ? `mode=${kv.get('tmpfs-mode')}` : ''].filter(Boolean);
      return { tmpfs: opts.length ? `${dest}:${opts.join(',')}` : dest };
    }
    default:
      throw new UsageError(`--mount ${spec}: type "${type}" is not supported`, 'use type=bind, type=volume or type=tmpfs');
  }
}
