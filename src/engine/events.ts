// Events: with no daemon to hear them, every tspod process appends what it did (a container
// created, started, died, removed; an image pulled, tagged, removed; ...) as a JSON line, in
// Podman's file-backend shape, to one log under the runtime directory (or containers.conf's
// events_logfile_path); `tspod events` reads it, and follows it.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerRecord } from '../storage/store.js';
import { runtimeDir } from '../paths.js';
import { containersConf } from '../config.js';

export interface TspodEvent {
  ID?: string;
  Image?: string;
  Name?: string;
  Status: string;
  /** RFC 3339 with nanoseconds, as Podman writes it */
  Time: string;
  Type: 'container' | 'image' | 'pod' | 'volume' | 'network' | 'system';
  Attributes?: Record<string, string> | null;
}

let logPath: string | null | undefined;

/** Where events go: containers.conf's events_logfile_path, else RUNTIME_DIR/events/events.log; null with events_logger = "none". */
export function eventsFile(): string | null {
  if (logPath !== undefined) return logPath;
  const conf = containersConf();
  const backend = process.env.TSPOD_EVENTS_BACKEND ?? conf.eventsLogger;
  logPath = backend === 'none' ? null : conf.eventsLogfilePath ?? path.join(runtimeDir(), 'events', 'events.log');
  return logPath;
}

const nanoTime = (d = new Date()) => `${d.toISOString().slice(0, 19)}.${String(d.getUTCMilliseconds()).padStart(3, '0')}${String(process.hrtime.bigint() % 1000000n).padStart(6, '0')}Z`;

/** Append one event; a log that cannot be written never fails the command that did the work. */
export function emit(e: Omit<TspodEvent, 'Time'>): void {
  const file = eventsFile();
  if (!file) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const line = `${JSON.stringify({ ...e, Time: nanoTime() })}\n`;
    const max = containersConf().eventsLogfileMaxSize;
    if (max && max > 0) rotateIfFull(file, Buffer.byteLength(line), max);
    // One write with O_APPEND: lines of several processes never interleave.
    fs.appendFileSync(file, line);
  } catch { /* events are a record, not the work */ }
}

/**
 * events_logfile_max_size, as Podman keeps it: a log the next line would take past the limit
 * keeps its newer half (from the first whole line after the middle) and says so with a
 * log-rotation event. The new file is renamed into place: a reader never sees half of it.
 */
function rotateIfFull(file: string, adding: number, max: number): void {
  let size: number;
  try { size = fs.statSync(file).size; } catch { return; }
  if (size + adding <= max) return;
  const text = fs.readFileSync(file);
  const middle = Math.floor(text.length / 2);
  const nl = text.indexOf(10, middle);
  const kept = nl < 0 ? Buffer.alloc(0) : text.subarray(nl + 1);
  const rotation = `${JSON.stringify({ Name: file, Status: 'log-rotation', Time: nanoTime(), Type: 'system', Attributes: null })}\n`;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([kept, Buffer.from(rotation)]));
  fs.renameSync(tmp, file);
}

/** A container's event, its labels among the attributes as Podman's. */
export function containerEvent(rec: ContainerRecord, status: string, extra: Record<string, string> = {}): void {
  emit({ ID: rec.id, Image: rec.imageName, Name: rec.name, Status: status, Type: 'container', Attributes: { ...(rec.labels ?? {}), ...extra, image: rec.imageName, name: rec.name } });
}

export const imageEvent = (status: string, id: string, name: string) => emit({ ID: id, Name: name, Status: status, Type: 'image', Attributes: null });

/** A volume's, network's or pod's event. */
export const objectEvent = (type: 'volume' | 'network' | 'pod', status: string, name: string, id = '') => emit({ ID: id || undefined, Name: name, Status: status, Type: type, Attributes: null });

/** The events of the log, oldest first; a line that is not an event is skipped. */
export function readEvents(text: string): TspodEvent[] {
  const out: TspodEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try { out.push(JSON.parse(line) as TspodEvent); } catch { /* a torn or foreign line */ }
  }
  return out;
}

/**
 * The whole lines of the log from byte `offset` on, as events, and where the next read starts (a
 * line being written is read next time). A log shorter than `offset` was rotated: it is read from
 * its start. A first line cut by `offset` is no event and is skipped.
 */
export function readEventsFrom(file: string, offset: number): { events: TspodEvent[]; next: number } {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch { return { events: [], next: offset }; }
  try {
    const size = fs.fstatSync(fd).size;
    const from = size < offset ? 0 : offset;
    const buf = Buffer.alloc(size - from);
    fs.readSync(fd, buf, 0, buf.length, from);
    const end = buf.lastIndexOf(0x0a) + 1;
    return { events: readEvents(buf.subarray(0, end).toString('utf8')), next: from + end };
  } finally {
    fs.closeSync(fd);
  }
}

/** Every event of the log from byte `from` on, then each new one as it is appended, for as long as `more()` says. */
export async function followEvents(file: string, from: number, onEvent: (e: TspodEvent) => void, more: () => boolean): Promise<void> {
  let offset = from;
  for (;;) {
    const r = readEventsFrom(file, offset);
    offset = r.next;
    for (const e of r.events) onEvent(e);
    if (!more()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The log's size now (0 when there is none yet): where a reader of new events only starts. */
export function eventsLogSize(file: string): number {
  try { return fs.statSync(file).size; } catch { return 0; }
}

/** --filter KEY=VALUE: the same key is OR, different keys AND, as Podman's. */
export function eventMatcher(filters: string[]): (e: TspodEvent) => boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    if (i <= 0) throw Object.assign(new Error(`invalid filter "${f}": give KEY=VALUE`), { usage: true });
    const key = f.slice(0, i) === 'status' ? 'event' : f.slice(0, i);
    if (!['container', 'event', 'image', 'label', 'pod', 'type', 'volume', 'network'].includes(key)) throw Object.assign(new Error(`${key} is an invalid filter`), { usage: true });
    byKey.set(key, [...(byKey.get(key) ?? []), f.slice(i + 1)]);
  }
  const one = (e: TspodEvent, key: string, v: string): boolean => {
    switch (key) {
      case 'type': return e.Type === v;
      case 'event': return e.Status === v || (v === 'die' && e.Status === 'died');
      case 'container': return e.Type === 'container' && (e.Name === v || !!e.ID?.startsWith(v));
      case 'pod': return e.Type === 'pod' && (e.Name === v || !!e.ID?.startsWith(v));
      case 'volume': return e.Type === 'volume' && e.Name === v;
      case 'network': return e.Type === 'network' && (e.Name === v || !!e.ID?.startsWith(v));
      case 'image': return e.Image === v || e.Name === v || !!e.ID?.startsWith(v);
      case 'label': { const j = v.indexOf('='); const k = j < 0 ? v : v.slice(0, j); return !!e.Attributes && k in e.Attributes && (j < 0 || e.Attributes[k] === v.slice(j + 1)); }
      default: return false;
    }
  };
  return (e) => [...byKey].every(([key, values]) => values.some((v) => one(e, key, v)));
}

/** Podman's line: TIME TYPE STATUS ID (attributes). */
export function formatEvent(e: TspodEvent, noTrunc = true): string {
  const t = new Date(e.Time);
  const frac = /\.(\d+)/.exec(e.Time)?.[1] ?? '0';
  const when = `${t.toISOString().slice(0, 10)} ${t.toISOString().slice(11, 19)}.${frac} +0000 UTC`;
  const id = e.ID ? (noTrunc ? e.ID : e.ID.slice(0, 12)) : '';
  if (e.Type === 'image') return `${when} image ${e.Status} ${id} ${e.Name ?? ''}`;
  // Podman's words for its own events: a rotation names the log.
  if (e.Type === 'system') return `${when} system ${e.Status}${e.Status === 'log-rotation' ? ` ${e.Name ?? ''}` : ''}`;
  const attrs = e.Attributes ? Object.entries(e.Attributes).filter(([k]) => k !== 'image' && k !== 'name') : [];
  const inner = e.Type === 'container' ? [`image=${e.Image ?? ''}`, `name=${e.Name ?? ''}`, ...attrs.map(([k, v]) => `${k}=${v}`)] : [`name=${e.Name ?? ''}`, ...attrs.map(([k, v]) => `${k}=${v}`)];
  return `${when} ${e.Type} ${e.Status} ${id} (${inner.join(', ')})`;
}
