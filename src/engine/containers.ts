// Container records: finding, listing, reconciling with the processes that exist, and changing them
// under the container's own lock. Creating, starting and the other state changes build on this.
import fs from 'node:fs';
import path from 'node:path';
import { TspodError, ContainerNotFoundError } from '../errors.js';
import type { Store, ContainerRecord } from '../storage/store.js';
import { runtimeDir } from '../paths.js';
import { processAlive, processRunning, sleepSync } from '../sys/proc.js';
import type { SweepOptions } from './recover.js';
import { parseFilters, matchesAll, matchesLabel, byText } from './filters.js';

/** Where the runtime keeps its container state: one root for every tspod process of this user. */
export const runcStateRoot = () => path.join(runtimeDir(), 'runc');

/** bin/tspod, which conmon runs as the exit command of a detached container; the launcher says where it is. */
export const launcher = () => process.env.TSPOD_LAUNCHER ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../bin/tspod');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** A container by name, full id, or unique id prefix of at least 3 characters. */
export function findContainer(store: Store, ref: string): ContainerRecord {
  const byName = store.idForName(ref);
  let id = byName && store.readContainer(byName) ? byName : undefined;
  if (!id && /^[a-f0-9]{3,64}$/.test(ref)) {
    const matches = store.containerIds().filter((c) => c.startsWith(ref));
    if (matches.length > 1) throw new TspodError('E_AMBIGUOUS', `container id prefix "${ref}" matches ${matches.length} containers`, { hint: 'give more characters of the id, or the name' });
    id = matches[0];
  }
  const rec = id ? store.readContainer(id) : undefined;
  if (!rec) throw new ContainerNotFoundError(ref);
  return rec;
}

export function exitFileCode(store: Store, id: string): number | undefined {
  let text: string;
  try { text = fs.readFileSync(path.join(store.containerDir(id), 'userdata/exits', id), 'utf8').trim(); } catch { return undefined; }
  return text === '' ? undefined : Number(text);
}

/**
 * The truth about a record: a detached container whose exit file exists has exited, and so has one
 * whose process is ending or gone (conmon writes the exit file only after it has drained the output and
 * synced the log, and its attach socket still accepts meanwhile, with nothing more to send); a
 * running or restarting record whose watcher is gone is exited too, with the exit file's code.
 */
export function reconcile(store: Store, rec: ContainerRecord): ContainerRecord {
  if (rec.state === 'running' && rec.detached) {
    let code = exitFileCode(store, rec.id);
    const pid = code === undefined ? containerPid(store, rec) : 0;
    if (pid && !processRunning(pid)) {
      // The exit file follows within milliseconds; a conmon that died meanwhile is seen below.
      for (let i = 0; i < 1000 && code === undefined && (!rec.monitorPid || processAlive(rec.monitorPid)); i++) { sleepSync(2); code = exitFileCode(store, rec.id); }
    }
    if (code !== undefined) return { ...rec, state: 'exited', exitCode: code };
  }
  if ((rec.state === 'running' || rec.state === 'restarting') && rec.monitorPid && !processAlive(rec.monitorPid)) {
    return { ...rec, state: 'exited', exitCode: exitFileCode(store, rec.id) ?? rec.exitCode };
  }
  return rec;
}

/** The record as it is on disk now, reconciled. */
export function current(store: Store, id: string): ContainerRecord | undefined {
  const rec = store.readContainer(id);
  return rec && reconcile(store, rec);
}

/** The container's command after its entrypoint (its argv is the entrypoint's words, then these). */
export function containerCmd(rec: ContainerRecord): string[] {
  return rec.command.slice((rec.config?.entrypoint ?? []).length);
}

/** The pid of a running container's first process, from the runtime's pid file; 0 when it is not running. */
export function containerPid(store: Store, rec: ContainerRecord): number {
  if (rec.state !== 'running') return 0;
  try { return Number(fs.readFileSync(path.join(store.containerDir(rec.id), 'userdata/pidfile'), 'utf8')) || 0; } catch { return 0; }
}

export function requireRunning(store: Store, rec: ContainerRecord, hint = 'see `tspod ps -a`'): void {
  if (current(store, rec.id)?.state !== 'running') throw new TspodError('E_CONTAINER_NOT_RUNNING', `container ${rec.name} is not running`, { hint });
}

export function containerGone(name: string): TspodError {
  return new TspodError('E_NO_CONTAINER', `container ${name} was removed meanwhile`, { hint: 'see `tspod ps -a`' });
}

/**
 * Run fn with the container's lock held and its current record; what fn returns is written back.
 * Undefined when the container is gone. Locks are per container: two commands on two containers
 * never wait for each other.
 */
export async function withContainer<T>(store: Store, id: string, fn: (rec: ContainerRecord) => Promise<T> | T): Promise<T | undefined> {
  const release = await store.lockContainerAsync(id);
  if (!release) return undefined;
  try {
    let rec = current(store, id);
    if (rec?.starting) {
      // We hold the lock, so the start that marked it is dead: undo what it left before going on.
      await (await import('./recover.js')).undoInterruptedStart(store, rec);
      rec = current(store, id);
    }
    return rec ? await fn(rec) : undefined;
  } finally {
    release();
  }
}

/** Change some fields of a record under its lock; the rest stays as another process may have left it. */
export async function updateContainer(store: Store, id: string, change: Partial<ContainerRecord>): Promise<ContainerRecord | undefined> {
  return withContainer(store, id, (rec) => {
    const next = { ...rec, ...change };
    store.writeContainer(next);
    return next;
  });
}

export interface ListContainersOptions {
  all?: boolean;
  /** Podman's filters: status=, name= (a regular expression), ancestor=, label=KEY[=VALUE], id= */
  filters?: string[];
  /** only the N most recently created */
  last?: number;
  /** build's RUN containers too (Podman's --external: buildah's containers) */
  external?: boolean;
}

const FILTER_KEYS = ['status', 'name', 'id', 'ancestor', 'label', 'exited', 'before', 'since', 'volume', 'restart-policy', 'until', 'pod'];
const RESTART_POLICIES = ['no', 'none', 'always', 'on-failure', 'unless-stopped'];

/** One filter's test, Podman's ps semantics; "status=stopped" is Podman's word for exited. */
function matchesFilter(c: ContainerRecord, key: string, value: string, all: ContainerRecord[], store: Store): boolean {
  switch (key) {
    case 'pod': return !!c.pod && (c.pod.startsWith(value) || store.readPods<{ id: string; name: string }>().some((p) => p.id === c.pod && p.name === value));
    case 'status': return c.state === (value === 'stopped' ? 'exited' : value);
    case 'name': return new RegExp(value).test(c.name);
    case 'id': return c.id.startsWith(value);
    case 'ancestor': return c.imageName === value || c.imageId.startsWith(value) || c.imageName.endsWith(`/${value}`) || c.imageName.endsWith(`/${value}:latest`) || c.imageName === `${value}:latest`;
    case 'exited': return c.state === 'exited' && c.exitCode === Number(value);
    case 'before': case 'since': {
      const ref = all.find((o) => o.id.startsWith(value) || o.name === value);
      if (!ref) throw new TspodError('E_NO_CONTAINER', `no container "${value}" for the ${key} filter`, { hint: 'see `tspod ps -a`' });
      return key === 'before' ? c.created < ref.created : c.created > ref.created;
    }
    case 'restart-policy': {
      if (!RESTART_POLICIES.includes(value)) throw new TspodError('E_USAGE', `${value} invalid restart policy`);
      const policy = c.config?.restart?.name ?? 'no';
      return policy === value || (value === 'none' && policy === 'no');
    }
    case 'until': { const t = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value); return Date.parse(c.created) < t; }
    case 'volume': return (c.config?.volumes ?? []).some((v) => v.source === value || v.destination === value);
    case 'label': return matchesLabel(c.labels, value);
  }
  return false;
}

/**
 * Containers, oldest first (Podman's order). A "running" record whose watching process is gone is reported exited.
 * What killed creates and starts left behind is undone first (see recover.ts).
 */
export async function listContainers(store: Store, opts: ListContainersOptions & SweepOptions = {}): Promise<ContainerRecord[]> {
  let scan = store.scanContainers();
  if (scan.missing.length || scan.damaged.length || scan.records.some((r) => r.starting)) {
    await (await import('./recover.js')).sweepContainers(store, scan, opts);
    scan = store.scanContainers();
  }
  // A build's RUN container whose build process died (SIGKILL): killed if still running, and removed.
  const orphans = scan.records.filter((c) => c.builderPid && !processAlive(c.builderPid));
  if (orphans.length) {
    const { killContainer, removeContainer } = await import('./lifecycle.js');
    for (const c of orphans) {
      const now = reconcile(store, c);
      if (now.state === 'running') await killContainer(store, now, 'KILL').catch(() => {});
      await removeContainer(store, current(store, c.id) ?? now, { force: true, volumes: true }).catch(() => {});
    }
    scan = store.scanContainers();
  }
  const out = scan.records.map((c) => reconcile(store, c)).filter((c) => opts.external || !c.builderPid);
  // Checked before there is anything to match, so a typo fails even on an empty list.
  const filters = parseFilters(opts.filters ?? [], FILTER_KEYS, 'ps');
  // A status (or exited) filter implies -a, as in Podman.
  const all = opts.all || filters.has('status') || filters.has('exited') || opts.last !== undefined;
  const list = out.filter((c) => (all || c.state === 'running' || c.state === 'restarting') && matchesAll(filters, (key, v) => matchesFilter(c, key, v, out, store)))
    .sort((a, b) => byText(a.created, b.created));
  return opts.last !== undefined ? (opts.last > 0 ? list.slice(-opts.last) : []) : list;
}
