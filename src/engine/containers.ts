// Container records: finding, listing, reconciling with the processes that exist, and changing them
// under the container's own lock. Creating, starting and the other state changes build on this.
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../errors.js';
import type { Store, ContainerRecord } from '../storage/store.js';
import { runtimeDir } from '../paths.js';
import { processAlive } from '../sys/proc.js';
import type { SweepOptions } from './recover.js';

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
  if (!rec) throw new TspodError('E_NO_CONTAINER', `no container with name or id "${ref}"`, { hint: 'see `tspod ps -a`' });
  return rec;
}

export function exitFileCode(store: Store, id: string): number | undefined {
  let text: string;
  try { text = fs.readFileSync(path.join(store.containerDir(id), 'userdata/exits', id), 'utf8').trim(); } catch { return undefined; }
  return text === '' ? undefined : Number(text);
}

/**
 * The truth about a record: a detached container whose exit file exists has exited (conmon writes
 * it the moment the container ends), and a running or restarting record whose watcher is gone is
 * exited too, with the exit file's code.
 */
export function reconcile(store: Store, rec: ContainerRecord): ContainerRecord {
  if (rec.state === 'running' && rec.detached) {
    const code = exitFileCode(store, rec.id);
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
  const release = store.lockContainer(id);
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
}

function matchesFilter(c: ContainerRecord, filter: string): boolean {
  const i = filter.indexOf('=');
  if (i < 0) throw new TspodError('E_USAGE', `invalid filter "${filter}"`, { hint: 'use KEY=VALUE, e.g. status=exited or label=app=web' });
  const key = filter.slice(0, i), value = filter.slice(i + 1);
  switch (key) {
    case 'status': return c.state === value;
    case 'name': return new RegExp(value).test(c.name);
    case 'id': return c.id.startsWith(value);
    case 'ancestor': return c.imageName === value || c.imageId.startsWith(value) || c.imageName.endsWith(`/${value}`) || c.imageName.endsWith(`/${value}:latest`);
    case 'label': {
      const j = value.indexOf('=');
      const k = j < 0 ? value : value.slice(0, j);
      return c.labels !== undefined && k in c.labels && (j < 0 || c.labels[k] === value.slice(j + 1));
    }
    default: throw new TspodError('E_USAGE', `unknown filter "${key}"`, { hint: 'tspod ps filters on status, name, id, ancestor and label' });
  }
}

/**
 * Containers, newest first. A "running" record whose watching process is gone is reported exited.
 * What killed creates and starts left behind is undone first (see recover.ts).
 */
export async function listContainers(store: Store, opts: ListContainersOptions & SweepOptions = {}): Promise<ContainerRecord[]> {
  let scan = store.scanContainers();
  if (scan.missing.length || scan.damaged.length || scan.records.some((r) => r.starting)) {
    await (await import('./recover.js')).sweepContainers(store, scan, opts);
    scan = store.scanContainers();
  }
  const out = scan.records.map((c) => reconcile(store, c));
  const filters = opts.filters ?? [];
  // Check every filter before there is anything to match, so a typo fails even on an empty list.
  const probe: ContainerRecord = { id: '', name: '', imageId: '', imageName: '', created: '', command: [], state: 'created' };
  for (const f of filters) matchesFilter(probe, f);
  // A status filter implies -a, as in Podman.
  const all = opts.all || filters.some((f) => f.startsWith('status=')) || opts.last !== undefined;
  const list = out.filter((c) => (all || c.state === 'running' || c.state === 'restarting') && filters.every((f) => matchesFilter(c, f)))
    .sort((a, b) => b.created.localeCompare(a.created));
  return opts.last !== undefined ? list.slice(0, opts.last) : list;
}
