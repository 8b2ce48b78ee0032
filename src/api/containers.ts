// /containers and /exec: Docker's container endpoints, each the engine call the CLI makes. The
// only thing kept in this process is who waits to attach to a container not started yet, so that
// its first output reaches them (they connect to conmon before its process runs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import type { Store, ContainerRecord } from '../storage/store.js';
import { TspodError } from '../errors.js';
import { humanDuration, unixSeconds } from '../units.js';
import { findContainer, current, listContainers, sleep, containerCmd } from '../engine/containers.js';
import { createContainer, type CreateOptions } from '../engine/create.js';
import { startContainer } from '../engine/start.js';
import * as life from '../engine/lifecycle.js';
import { connectAttach, pumpAttach, resizeContainer } from '../engine/attach.js';
import { execInContainer } from '../engine/exec.js';
import { copy, statInContainer } from '../engine/cp.js';
import { eachPort } from '../engine/ports.js';
import { matchesLabel } from '../engine/filters.js';
import { eventsFile, readEventsFrom, eventsLogSize } from '../engine/events.js';
import { type Router, type Request, type Reply, flag, filterList, badRequest, notFound, conflict, ApiError } from './http.js';
import { outputStreams } from './frames.js';

function dockerStatus(rec: ContainerRecord, now = Date.now()): string {
  if (rec.state === 'running') return `Up ${humanDuration(now - Date.parse(rec.startedAt ?? rec.created))}`;
  if (rec.state === 'exited') return `Exited (${rec.exitCode ?? 0}) ${humanDuration(now - Date.parse(rec.finishedAt ?? rec.created))} ago`;
  if (rec.state === 'restarting') return 'Restarting';
  return 'Created';
}

/** A container as engine errors name it: Docker's "No such container". */
function lookup(store: Store, ref: string): ContainerRecord {
  let rec: ContainerRecord | undefined;
  // As it is now: a process that ended is seen as exited before its cleanup has run.
  try { rec = current(store, findContainer(store, ref).id); } catch { /* below */ }
  if (!rec) throw notFound(`No such container: ${ref}`);
  return rec;
}

function networksOf(inspect: Record<string, unknown>): Record<string, unknown> {
  const ns = inspect.NetworkSettings as { Networks?: Record<string, unknown>; IPAddress?: string } | undefined;
  return ns?.Networks ?? {};
}

function listEntry(store: Store, rec: ContainerRecord, size: boolean): Record<string, unknown> {
  const inspect = life.inspectContainer(store, rec, { size });
  return {
    Id: rec.id, Names: [`/${rec.name}`], Image: rec.imageName, ImageID: rec.imageId, Command: rec.command.join(' '), Created: unixSeconds(rec.created),
    Ports: eachPort(rec.config?.ports).map((p) => ({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol })),
    Labels: rec.labels ?? {}, State: rec.state, Status: dockerStatus(rec),
    HostConfig: { NetworkMode: (inspect.HostConfig as { NetworkMode?: string }).NetworkMode ?? 'default' },
    NetworkSettings: { Networks: networksOf(inspect) },
    Mounts: inspect.Mounts,
    ...(size ? { SizeRw: inspect.SizeRw, SizeRootFs: inspect.SizeRootFs } : {}),
  };
}

/** Docker's inspect: tspod's (already Docker-shaped) with Docker's names where they differ. */
function dockerInspect(store: Store, rec: ContainerRecord, size: boolean): Record<string, unknown> {
  const i = life.inspectContainer(store, rec, { size }) as Record<string, any>;
  const cfg = rec.config;
  const exposed = Object.fromEntries((cfg?.exposed ?? []).map((k) => [k, {}]));
  return {
    ...i,
    Name: `/${rec.name}`,
    Image: rec.imageId.startsWith('sha256:') ? rec.imageId : `sha256:${rec.imageId}`,
    // Docker has no Health at all for a container without a health check.
    State: { ...i.State, Status: rec.state, Error: '', Health: cfg?.healthcheck ? i.State.Health : undefined, Healthcheck: undefined },
    Config: {
      ...i.Config, Image: rec.imageName, Entrypoint: cfg?.entrypoint ?? null, Cmd: containerCmd(rec),
      AttachStdin: false, AttachStdout: !rec.detached, AttachStderr: !rec.detached, OpenStdin: !!cfg?.interactive, StdinOnce: false,
      ExposedPorts: exposed, Volumes: null, StopTimeout: cfg?.stopTimeout ?? 10,
    },
    // Docker says 0.0.0.0 for every address, where tspod leaves the address empty.
    NetworkSettings: { ...i.NetworkSettings, Ports: Object.fromEntries(Object.entries((i.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>).map(([k, v]) => [k, v && v.map((b) => ({ ...b, HostIp: b.HostIp || '0.0.0.0' }))])) },
    // conmon's k8s-file log answers /logs as Docker's json-file does; clients (the Python SDK's run) read logs only from drivers they know.
    HostConfig: { ...i.HostConfig, LogConfig: { ...i.HostConfig.LogConfig, Type: i.HostConfig.LogConfig.Type === 'k8s-file' ? 'json-file' : i.HostConfig.LogConfig.Type }, Binds: (cfg?.volumes ?? []).filter((m) => m.type === 'bind').map((m) => `${m.source}:${m.destination}${m.readOnly ? ':ro' : ''}`) },
    Driver: 'overlay', Platform: 'linux', MountLabel: '', ProcessLabel: '', AppArmorProfile: '', ResolvConfPath: path.join(store.containerDir(rec.id), 'userdata/resolv.conf'),
    HostnamePath: path.join(store.containerDir(rec.id), 'userdata/hostname'), HostsPath: path.join(store.containerDir(rec.id), 'userdata/hosts'),
  };
}

const goDuration = (ns: unknown) => (typeof ns === 'number' && ns > 0 ? `${Math.round(ns / 1e6)}ms` : undefined);

interface DockerCreate {
  Image?: string; Cmd?: string[] | string | null; Entrypoint?: string[] | string | null; Env?: string[] | null; WorkingDir?: string; User?: string; Hostname?: string;
  Tty?: boolean; OpenStdin?: boolean; StdinOnce?: boolean; Labels?: Record<string, string> | null; ExposedPorts?: Record<string, unknown> | null; StopSignal?: string; StopTimeout?: number | null;
  Volumes?: Record<string, unknown> | null; Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number } | null;
  HostConfig?: {
    Binds?: string[] | null; Mounts?: Array<{ Type?: string; Source?: string; Target?: string; ReadOnly?: boolean; TmpfsOptions?: { SizeBytes?: number } }> | null;
    NetworkMode?: string; PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null; PublishAllPorts?: boolean;
    RestartPolicy?: { Name?: string; MaximumRetryCount?: number }; AutoRemove?: boolean; VolumesFrom?: string[] | null; CapAdd?: string[] | null; CapDrop?: string[] | null;
    Dns?: string[] | null; DnsSearch?: string[] | null; DnsOptions?: string[] | null; ExtraHosts?: string[] | null; Privileged?: boolean; ReadonlyRootfs?: boolean; SecurityOpt?: string[] | null;
    Tmpfs?: Record<string, string> | null; Memory?: number; MemorySwap?: number; MemoryReservation?: number; NanoCpus?: number; CpuShares?: number; CpusetCpus?: string; CpusetMems?: string; PidsLimit?: number | null; BlkioWeight?: number;
    Ulimits?: Array<{ Name: string; Soft: number; Hard: number }> | null; Init?: boolean | null; LogConfig?: { Type?: string; Config?: Record<string, string> }; Sysctls?: Record<string, string> | null;
    ShmSize?: number; Devices?: Array<{ PathOnHost: string; PathInContainer?: string; CgroupPermissions?: string }> | null; GroupAdd?: string[] | null;
    IpcMode?: string; PidMode?: string; UTSMode?: string; UsernsMode?: string;
  };
  NetworkingConfig?: { EndpointsConfig?: Record<string, { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null> | null };
}

const words = (v: string[] | string | null | undefined): string[] | undefined => (v == null ? undefined : Array.isArray(v) ? v : [v]);

/** Docker's create body as tspod's create options. */
export function createOptionsOf(body: DockerCreate, name: string | undefined): CreateOptions {
  if (!body.Image) throw badRequest('config.Image is required');
  const h = body.HostConfig ?? {};
  const publish: string[] = [];
  for (const [key, bindings] of Object.entries(h.PortBindings ?? {})) {
    const [port, proto = 'tcp'] = key.split('/');
    for (const b of bindings?.length ? bindings : [{}]) publish.push(`${b.HostIp ? `${b.HostIp}:` : ''}${b.HostPort ?? ''}:${port}/${proto}`.replace(/^:/, ''));
  }
  const endpoints = Object.entries(body.NetworkingConfig?.EndpointsConfig ?? {});
  const mode = h.NetworkMode ?? '';
  const named = endpoints.map(([n]) => n).filter((n) => !['bridge', 'default'].includes(n));
  const network = ['', 'default', 'bridge'].includes(mode) ? (named.length ? named.join(',') : undefined) : mode;
  const aliases = endpoints.flatMap(([, e]) => e?.Aliases ?? []);
  const ip = endpoints.map(([, e]) => e?.IPAMConfig?.IPv4Address).find(Boolean);
  const volumes = [...(h.Binds ?? [])];
  const tmpfs = Object.entries(h.Tmpfs ?? {}).map(([d, o]) => (o ? `${d}:${o}` : d));
  for (const m of h.Mounts ?? []) {
    if (!m.Target) throw badRequest('a mount needs a Target');
    if (m.Type === 'tmpfs') tmpfs.push(m.TmpfsOptions?.SizeBytes ? `${m.Target}:size=${m.TmpfsOptions.SizeBytes}` : m.Target);
    else volumes.push(`${m.Source ? `${m.Source}:` : ''}${m.Target}${m.ReadOnly ? ':ro' : ''}`);
  }
  // Anonymous volumes the client asks for (Volumes) that no bind or mount already covers.
  for (const dest of Object.keys(body.Volumes ?? {})) if (!volumes.some((v) => v.split(':')[1] === dest || v === dest)) volumes.push(dest);
  const test = body.Healthcheck?.Test;
  const health = test?.length ? {
    cmd: test[0] === 'NONE' ? 'none' : test[0] === 'CMD-SHELL' ? test.slice(1).join(' ') : test[0] === 'CMD' ? JSON.stringify(test.slice(1)) : undefined,
    interval: goDuration(body.Healthcheck?.Interval), timeout: goDuration(body.Healthcheck?.Timeout), startPeriod: goDuration(body.Healthcheck?.StartPeriod),
    retries: body.Healthcheck?.Retries ? String(body.Healthcheck.Retries) : undefined,
  } : undefined;
  const restart = h.RestartPolicy?.Name ? `${h.RestartPolicy.Name}${h.RestartPolicy.Name === 'on-failure' && h.RestartPolicy.MaximumRetryCount ? `:${h.RestartPolicy.MaximumRetryCount}` : ''}` : undefined;
  const num = (v: number | null | undefined) => (v ? String(v) : undefined);
  return {
    image: body.Image, name, command: words(body.Cmd) ?? [], entrypoint: words(body.Entrypoint), env: body.Env ?? [], workdir: body.WorkingDir || undefined,
    user: body.User || undefined, hostname: body.Hostname || undefined, tty: !!body.Tty, interactive: !!body.OpenStdin, stdinOnce: !!body.StdinOnce,
    labels: Object.entries(body.Labels ?? {}).map(([k, v]) => `${k}=${v}`), expose: Object.keys(body.ExposedPorts ?? {}), stopSignal: body.StopSignal || undefined,
    // Docker's default: SIGTERM, then SIGKILL after 10 seconds.
    stopTimeout: body.StopTimeout ?? 10, publish, publishAll: !!h.PublishAllPorts, rm: !!h.AutoRemove, restart: restart === 'no' ? undefined : restart, volumesFrom: h.VolumesFrom ?? [],
    network, networkAliases: aliases, ip, dns: h.Dns ?? undefined, dnsSearch: h.DnsSearch ?? undefined, dnsOption: h.DnsOptions ?? undefined, addHost: h.ExtraHosts ?? [],
    readOnly: !!h.ReadonlyRootfs, volumes, tmpfs, logDriver: h.LogConfig?.Type && h.LogConfig.Type !== 'json-file' && h.LogConfig.Type !== 'journald' ? h.LogConfig.Type : undefined,
    health, pull: 'never',
    confinement: {
      capAdd: h.CapAdd ?? [], capDrop: h.CapDrop ?? [], privileged: !!h.Privileged, securityOpt: h.SecurityOpt ?? [], init: !!h.Init,
      ulimits: (h.Ulimits ?? []).map((u) => `${u.Name}=${u.Soft}:${u.Hard}`), sysctl: Object.entries(h.Sysctls ?? {}).map(([k, v]) => `${k}=${v}`),
      shmSize: num(h.ShmSize), devices: (h.Devices ?? []).map((d) => `${d.PathOnHost}${d.PathInContainer ? `:${d.PathInContainer}` : ''}${d.CgroupPermissions ? `:${d.CgroupPermissions}` : ''}`),
      groupAdd: h.GroupAdd ?? [], ipc: h.IpcMode || undefined, pid: h.PidMode || undefined, uts: h.UTSMode || undefined, userns: h.UsernsMode || undefined,
      resources: {
        memory: num(h.Memory), 'memory-swap': h.MemorySwap === -1 ? '-1' : num(h.MemorySwap), 'memory-reservation': num(h.MemoryReservation), cpus: h.NanoCpus ? String(h.NanoCpus / 1e9) : undefined,
        'cpu-shares': num(h.CpuShares), 'cpuset-cpus': h.CpusetCpus || undefined, 'cpuset-mems': h.CpusetMems || undefined, 'pids-limit': h.PidsLimit ? String(h.PidsLimit) : undefined, 'blkio-weight': num(h.BlkioWeight),
      },
    },
  };
}

/** Docker's words for a command that cannot run, which its CLI turns into 127 and 126. */
function startError(e: unknown): unknown {
  if (!(e instanceof TspodError)) return e;
  if (e.code === 'E_COMMAND_NOT_FOUND') return new ApiError(400, `OCI runtime create failed: runc create failed: unable to start container process: exec: ${e.message.replace(/^executable file "([^"]+)".*/, '"$1"')}: executable file not found in $PATH: unknown`);
  if (e.code === 'E_NOT_EXECUTABLE') return new ApiError(400, `OCI runtime create failed: runc create failed: unable to start container process: ${e.message}: permission denied: unknown`);
  return e;
}

/** A chunk written to the answer, waited on while the client is slower than the copy. */
const writeTo = (res: NodeJS.WritableStream) => (c: Buffer) => new Promise<void>((resolve) => { if (res.write(c)) resolve(); else res.once('drain', () => resolve()); });
/** Where a stream the client did not ask for goes. */
const discard = () => new Writable({ write(_c, _e, done) { done(); } });

// ---- attach: who waits for a container to start ----

const waitingAttach = new Map<string, Array<(sock: number) => void>>();

/** Connect everyone waiting to attach to `rec`, now that conmon holds it and before it runs. */
async function connectWaiting(store: Store, rec: ContainerRecord): Promise<void> {
  const waiting = waitingAttach.get(rec.id) ?? [];
  waitingAttach.delete(rec.id);
  for (const give of waiting) give(await connectAttach(store, rec));
}

/**
 * A conmon attach socket for the container while its process runs. conmon's socket accepts until
 * conmon exits, also after the process has ended: a connection made then hears nothing, so the
 * process is asked after as well as before.
 */
async function connectRunning(store: Store, id: string): Promise<number | undefined> {
  const now = current(store, id);
  if (now?.state !== 'running') return undefined;
  const sock = await connectAttach(store, now);
  if (current(store, id)?.state === 'running') return sock;
  fs.closeSync(sock);
  return undefined;
}

/**
 * A conmon attach socket for `rec`: now if it runs, else once it is started. An attach to a
 * container that has ended waits for its next start, as Docker's does (docker-compose's run starts
 * the container before it attaches, and starts it again when it finds it ended).
 */
async function attachSocket(store: Store, rec: ContainerRecord, gone: Promise<void>): Promise<number | undefined> {
  const now = await connectRunning(store, rec.id);
  if (now !== undefined) return now;
  return new Promise<number | undefined>((resolve) => {
    let done = false;
    const list = waitingAttach.get(rec.id) ?? [];
    const give = (sock: number) => { if (done) { fs.closeSync(sock); return; } done = true; resolve(sock); };
    list.push(give);
    waitingAttach.set(rec.id, list);
    const stop = () => { done = true; const l = waitingAttach.get(rec.id)?.filter((g) => g !== give); if (l?.length) waitingAttach.set(rec.id, l); else waitingAttach.delete(rec.id); resolve(undefined); };
    void gone.then(stop);
    // Started by someone else (a tspod start on the command line): connect late rather than never.
    const poll = async () => {
      while (!done) {
        await sleep(200);
        if (!current(store, rec.id)) { stop(); return; }
        try { const s = await connectRunning(store, rec.id); if (s !== undefined) give(s); } catch { /* ended meanwhile */ }
      }
    };
    void poll();
  });
}

async function attach(store: Store, req: Request, reply: Reply): Promise<void> {
  const rec = lookup(store, req.params.id);
  const q = req.query;
  const tty = !!rec.config?.tty;
  const wantStdin = flag(q, 'stdin') && !!rec.config?.interactive;
  const stream = flag(q, 'stream', !flag(q, 'logs'));
  let leave!: () => void;
  const gone = new Promise<void>((resolve) => { leave = resolve; });
  // Waiting before the answer goes out (and before the logs are sent): a start the client sends as
  // soon as it has the answer finds this attach waiting, and its first output reaches it.
  const socket = stream ? attachSocket(store, rec, gone) : Promise.resolve(undefined);
  socket.catch(() => undefined); // met where it is awaited, after the logs
  let pumped = false;
  const conn = reply.hijack(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  conn.once('close', () => leave());
  const out = outputStreams(conn, tty);
  const sink = discard();
  const streams = { stdout: flag(q, 'stdout') ? out.stdout : sink, stderr: flag(q, 'stderr') ? out.stderr : sink };
  try {
    if (flag(q, 'logs') && rec.config?.logDriver !== 'none') await life.containerLogs(store, rec, streams, {});
    const sock = await socket;
    if (sock === undefined) return;
    const { shutdownSocket } = await import('../sys/index.js');
    void gone.then(() => { try { shutdownSocket(sock); } catch { /* closed */ } });
    // The client's bytes: stdin when asked for, else read and dropped so its half-close is seen.
    const input = new PassThrough();
    conn.pipe(input);
    pumped = true;
    await pumpAttach(store, rec, sock, { stdin: wantStdin, input, closeStdinAtEnd: true, out: streams });
  } finally {
    // pumpAttach closes the socket it was given; one that came while the logs failed is closed here.
    if (!pumped) void socket.then((s) => { if (s !== undefined) try { fs.closeSync(s); } catch { /* closed */ } }, () => undefined);
    conn.end();
  }
}

// ---- wait ----

/** The exit code a removed container died with, from the events log. */
function diedWith(id: string): number | undefined {
  const file = eventsFile();
  if (!file) return undefined;
  // The last 256 KiB hold it: it was written a moment ago.
  const { events } = readEventsFrom(file, Math.max(0, eventsLogSize(file) - 256 * 1024));
  const died = events.filter((e) => e.ID === id && e.Status === 'died').pop();
  const code = died?.Attributes?.containerExitCode;
  return code === undefined ? undefined : Number(code);
}

async function waitFor(store: Store, rec: ContainerRecord, condition: string, gone: AbortSignal): Promise<number> {
  let seen = current(store, rec.id) ?? rec;
  const firstRun = seen.runId;
  let ran = seen.state === 'running' || seen.state === 'restarting';
  for (;;) {
    if (gone.aborted) return -1;
    const now = current(store, rec.id);
    if (!now) {
      if (condition === 'next-exit' && !ran) throw notFound(`No such container: ${rec.id}`);
      return diedWith(rec.id) ?? seen.exitCode ?? 0;
    }
    seen = now;
    const running = now.state === 'running' || now.state === 'restarting' || !!now.starting;
    if (running) ran = true;
    if (!running) {
      if (condition === 'not-running') return now.exitCode ?? 0;
      // next-exit and removed: the end of a run that began after we were asked (or the one going on then).
      if (condition === 'next-exit' && (ran || (now.runId && now.runId !== firstRun))) return now.exitCode ?? 0;
    }
    await sleep(running ? 50 : 25);
  }
}

// ---- exec sessions: files in the container's directory, so any service (or none) knows them ----

interface ExecSession {
  ID: string; ContainerID: string; Cmd: string[]; Tty: boolean; AttachStdin: boolean; AttachStdout: boolean; AttachStderr: boolean;
  Env: string[]; WorkingDir?: string; User?: string; Privileged: boolean; Running: boolean; ExitCode: number | null; Pid: number;
}

const execDir = (store: Store, id: string) => path.join(store.containerDir(id), 'userdata', 'exec');

function findExec(store: Store, id: string): { session: ExecSession; file: string } {
  if (!/^[0-9a-f]{64}$/.test(id)) throw notFound(`No such exec instance: ${id}`);
  for (const c of store.listContainers()) {
    const file = path.join(execDir(store, c.id), `${id}.json`);
    try { return { session: JSON.parse(fs.readFileSync(file, 'utf8')) as ExecSession, file }; } catch { /* not this one */ }
  }
  throw notFound(`No such exec instance: ${id}`);
}

const saveExec = (file: string, s: ExecSession) => { fs.writeFileSync(`${file}.tmp`, JSON.stringify(s)); fs.renameSync(`${file}.tmp`, file); };

// ---- the routes ----

export function containerRoutes(r: Router, store: Store): void {
  r.add('GET', '/containers/json', async (req, reply) => {
    const q = req.query;
    const filters: string[] = [];
    const labels: string[] = [];
    const net: string[] = [];
    for (const [k, v] of filterList(q)) {
      // Docker's label filters must all match (Podman's: any of them), so they are applied here, as networks are.
      if (k === 'label') labels.push(v);
      else if (k === 'network') net.push(v);
      else if (['status', 'name', 'id', 'ancestor', 'exited', 'before', 'since', 'volume'].includes(k)) filters.push(`${k}=${v}`);
      else if (k !== 'health') throw badRequest(`invalid filter '${k}'`);
    }
    const limit = Number(q.get('limit') ?? -1);
    let recs = (await listContainers(store, { all: flag(q, 'all') || limit > 0, filters })).filter((c) => labels.every((l) => matchesLabel(c.labels, l)));
    if (net.length) recs = recs.filter((c) => (c.config?.network ?? '').split(',').some((n) => net.includes(n)));
    recs.sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
    if (limit > 0) recs = recs.slice(0, limit);
    reply.json(recs.map((c) => listEntry(store, c, flag(q, 'size'))));
  });

  r.add('POST', '/containers/create', async (req, reply) => {
    const body = await req.json<DockerCreate>();
    const name = req.query.get('name') || undefined;
    if (name && store.idForName(name)) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${store.idForName(name)}". You have to remove (or rename) that container to be able to reuse that name.`);
    const opts = createOptionsOf(body, name);
    let rec: ContainerRecord;
    try { rec = await createContainer(store, opts); } catch (e) {
      if (e instanceof TspodError && e.code === 'E_IMAGE_UNKNOWN') throw notFound(`No such image: ${body.Image}`);
      throw e;
    }
    reply.json({ Id: rec.id, Warnings: [] }, 201);
  });

  r.add('GET', '/containers/{id}/json', (req, reply) => reply.json(dockerInspect(store, lookup(store, req.params.id), flag(req.query, 'size'))));

  r.add('POST', '/containers/{id}/start', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    if (rec.state === 'running') { reply.empty(304); return; }
    try {
      await startContainer(store, rec, { attach: false, beforeStart: (r2) => connectWaiting(store, r2) });
    } catch (e) {
      // Docker removes an --rm container whose start failed.
      if (rec.autoRemove) await life.removeContainer(store, current(store, rec.id) ?? rec, { force: true, volumes: true }).catch(() => undefined);
      throw startError(e);
    }
    reply.empty();
  });

  /** ?t= (or ?timeout=), else the container's own stop timeout: Docker's 10 s unless it was given one. */
  const stopTimeout = (req: Request, rec: ContainerRecord) => { const t = req.query.get('t') ?? req.query.get('timeout'); return t !== null ? Number(t) : rec.config?.stopTimeout ?? 10; };

  r.add('POST', '/containers/{id}/stop', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    if (rec.state !== 'running') { reply.empty(304); return; }
    await life.stopContainer(store, rec, stopTimeout(req, rec));
    reply.empty();
  });

  r.add('POST', '/containers/{id}/restart', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    await life.restartContainer(store, rec, stopTimeout(req, rec));
    reply.empty();
  });

  r.add('POST', '/containers/{id}/kill', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    if (rec.state !== 'running') throw conflict(`Cannot kill container: ${req.params.id}: Container ${rec.id} is not running`);
    await life.killContainer(store, rec, req.query.get('signal') || 'KILL');
    reply.empty();
  });

  r.add('POST', '/containers/{id}/wait', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    const condition = req.query.get('condition') || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
    // The headers go at once: the client knows its wait is in place before it starts the container.
    const res = reply.stream('application/json');
    const left = new AbortController();
    res.once('close', () => left.abort());
    const code = await waitFor(store, rec, condition, left.signal);
    res.end(`${JSON.stringify({ StatusCode: code, Error: null })}\n`);
  });

  r.add('POST', '/containers/{id}/attach', (req, reply) => attach(store, req, reply));

  r.add('GET', '/containers/{id}/logs', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    const q = req.query;
    if (!flag(q, 'stdout') && !flag(q, 'stderr')) throw badRequest('Bad parameters: you must choose at least one stream');
    const tail = q.get('tail');
    const opts = {
      follow: flag(q, 'follow'), timestamps: flag(q, 'timestamps'), tail: tail && tail !== 'all' && Number(tail) >= 0 ? Number(tail) : undefined,
      since: q.get('since') && q.get('since') !== '0' ? life.parseLogTime(q.get('since')!) : undefined, until: q.get('until') && q.get('until') !== '0' ? life.parseLogTime(q.get('until')!) : undefined,
    };
    const tty = !!rec.config?.tty;
    const res = reply.stream(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    const left = new AbortController();
    res.once('close', () => left.abort());
    const out = outputStreams(res, tty);
    const sink = discard();
    await life.containerLogs(store, rec, { stdout: flag(q, 'stdout') ? out.stdout : sink, stderr: flag(q, 'stderr') ? out.stderr : sink }, { ...opts, signal: left.signal });
    res.end();
  });

  r.add('GET', '/containers/{id}/top', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    if (rec.state !== 'running') throw conflict(`Container ${rec.id} is not running`);
    const { topRows, DEFAULT_TOP } = await import('../engine/top.js');
    const rows = await topRows(store, rec, DEFAULT_TOP);
    reply.json({ Titles: rows[0], Processes: rows.slice(1) });
  });

  // docker stats: one reading (stream=false) or one a second; where no cgroup of the container's can be read, the engine's words.
  r.add('GET', '/containers/{id}/stats', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    const { checkStatsPossible, sample } = await import('../engine/stats.js');
    checkStatsPossible();
    if (rec.state !== 'running') throw conflict(`Container ${rec.id} is not running`);
    const stream = flag(req.query, 'stream', true) && !flag(req.query, 'one-shot');
    const res = reply.stream('application/json');
    let gone = false;
    res.once('close', () => { gone = true; });
    let before: ReturnType<typeof sample> | undefined;
    const system = () => { const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1, 8).map(Number); return f.reduce((a, b) => a + b, 0) * 1e7; };
    let beforeSystem = 0;
    do {
      const now = current(store, rec.id);
      if (!now || now.state !== 'running') break;
      const s = sample(store, now);
      const sys = system();
      const cpu = (x: ReturnType<typeof sample> | undefined, total: number) => ({ cpu_usage: { total_usage: x?.cpuNs ?? 0 }, system_cpu_usage: total, online_cpus: os.cpus().length });
      res.write(`${JSON.stringify({
        id: rec.id, name: `/${rec.name}`, read: new Date(s.at).toISOString(), preread: before ? new Date(before.at).toISOString() : '0001-01-01T00:00:00Z',
        cpu_stats: cpu(s, sys), precpu_stats: cpu(before, beforeSystem), memory_stats: { usage: s.memUsage, limit: s.memLimit }, pids_stats: { current: s.pids },
        networks: { eth0: { rx_bytes: s.netRx, tx_bytes: s.netTx } },
        blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: s.blockRead }, { op: 'write', value: s.blockWrite }] },
      })}\n`);
      before = s; beforeSystem = sys;
      if (stream) await sleep(1000);
    } while (stream && !gone);
    res.end();
  });

  r.add('POST', '/containers/{id}/rename', async (req, reply) => {
    const name = req.query.get('name');
    if (!name) throw badRequest('name is required');
    await life.renameContainer(store, lookup(store, req.params.id), name.replace(/^\//, ''));
    reply.empty();
  });

  r.add('POST', '/containers/{id}/resize', (req, reply) => {
    const rec = lookup(store, req.params.id);
    if (rec.state !== 'running') throw conflict(`Container ${rec.id} is not running`);
    resizeContainer(store, rec, Number(req.query.get('h') ?? 24), Number(req.query.get('w') ?? 80));
    reply.json({});
  });

  for (const [verb, pause] of [['pause', true], ['unpause', false]] as const) {
    r.add('POST', `/containers/{id}/${verb}`, async (req, reply) => { await life.pauseContainer(store, lookup(store, req.params.id), pause); reply.empty(); });
  }

  r.add('DELETE', '/containers/{id}', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    if (rec.state === 'running' && !flag(req.query, 'force')) throw conflict(`You cannot remove a running container ${rec.id}. Stop the container before attempting removal or force remove`);
    await life.removeContainer(store, rec, { force: flag(req.query, 'force'), volumes: flag(req.query, 'v'), timeoutSec: 10 });
    reply.empty();
  });

  r.add('POST', '/containers/prune', async (_req, reply) => {
    reply.json({ ContainersDeleted: (await life.pruneContainers(store)).deleted, SpaceReclaimed: 0 });
  });

  r.add('GET', '/containers/{id}/changes', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    const { changesOf } = await import('../engine/commit.js');
    const kinds: Record<string, number> = { C: 0, A: 1, D: 2 };
    reply.json((await changesOf(store, rec.id)).map((c) => ({ Path: c.path, Kind: kinds[c.kind] ?? 0 })));
  });

  // ---- archive: docker cp ----

  const statHeader = async (id: string, p: string) => Buffer.from(JSON.stringify(await statInContainer(store, id, p))).toString('base64');
  const archivePath = (req: Request) => { const p = req.query.get('path'); if (!p) throw badRequest('path is required'); return p; };
  r.add('HEAD', '/containers/{id}/archive', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    reply.raw!.setHeader('X-Docker-Container-Path-Stat', await statHeader(rec.id, archivePath(req)));
    reply.empty(200);
  });
  r.add('GET', '/containers/{id}/archive', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    const p = archivePath(req);
    const res = reply.stream('application/x-tar', 200, { 'X-Docker-Container-Path-Stat': await statHeader(rec.id, p) });
    await copy(store, `${rec.id}:${p}`, '-', { tarOut: writeTo(res) });
    res.end();
  });
  r.add('PUT', '/containers/{id}/archive', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    await copy(store, '-', `${rec.id}:${archivePath(req)}`, { tarIn: req.stream, archive: !flag(req.query, 'copyUIDGID') ? undefined : false });
    reply.empty(200);
  });

  r.add('GET', '/containers/{id}/export', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    const res = reply.stream('application/x-tar');
    await copy(store, `${rec.id}:/.`, '-', { tarOut: writeTo(res) });
    res.end();
  });

  // ---- exec ----

  r.add('POST', '/containers/{id}/exec', async (req, reply) => {
    const rec = lookup(store, req.params.id);
    if (rec.state !== 'running') throw conflict(`Container ${rec.id} is not running`);
    const b = await req.json<{ Cmd?: string[] | string; Tty?: boolean; AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean; Env?: string[]; WorkingDir?: string; User?: string; Privileged?: boolean }>();
    const cmd = words(b.Cmd);
    if (!cmd?.length) throw badRequest('No exec command specified');
    const session: ExecSession = {
      ID: crypto.randomBytes(32).toString('hex'), ContainerID: rec.id, Cmd: cmd, Tty: !!b.Tty, AttachStdin: !!b.AttachStdin, AttachStdout: !!b.AttachStdout, AttachStderr: !!b.AttachStderr,
      Env: b.Env ?? [], WorkingDir: b.WorkingDir || undefined, User: b.User || undefined, Privileged: !!b.Privileged, Running: false, ExitCode: null, Pid: 0,
    };
    fs.mkdirSync(execDir(store, rec.id), { recursive: true });
    saveExec(path.join(execDir(store, rec.id), `${session.ID}.json`), session);
    reply.json({ Id: session.ID }, 201);
  });

  r.add('POST', '/exec/{id}/start', async (req, reply) => {
    const { session, file } = findExec(store, req.params.id);
    const b = await req.json<{ Detach?: boolean; Tty?: boolean }>();
    if (session.Running || session.ExitCode !== null) throw conflict(`exec session ${session.ID} has already been started`);
    const rec = lookup(store, session.ContainerID);
    const tty = b.Tty ?? session.Tty;
    const run = (streams?: { stdin?: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }) => execInContainer(store, rec, {
      command: session.Cmd, tty, interactive: session.AttachStdin, env: session.Env, workdir: session.WorkingDir, user: session.User, privileged: session.Privileged,
      detach: !streams, streams, onStarted: (pid) => saveExec(file, { ...session, Running: true, Pid: pid }),
    });
    if (b.Detach) {
      const code = await run();
      saveExec(file, { ...session, Running: false, ExitCode: code });
      reply.empty(200);
      return;
    }
    const conn = reply.hijack(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    const out = outputStreams(conn, tty);
    let code = -1;
    try {
      code = await run({ stdin: session.AttachStdin ? conn : undefined, stdout: out.stdout, stderr: out.stderr });
    } catch (e) {
      out.stderr.write(`${(e as Error).message}\n`);
      code = e instanceof TspodError ? e.exitCode : 126;
    } finally {
      saveExec(file, { ...session, Running: false, ExitCode: code });
      conn.end();
    }
  });

  r.add('GET', '/exec/{id}/json', (req, reply) => {
    const { session: s } = findExec(store, req.params.id);
    reply.json({
      ID: s.ID, ContainerID: s.ContainerID, Running: s.Running, ExitCode: s.ExitCode, Pid: s.Pid, OpenStdin: s.AttachStdin, OpenStdout: s.AttachStdout, OpenStderr: s.AttachStderr, CanRemove: false, DetachKeys: '',
      ProcessConfig: { tty: s.Tty, entrypoint: s.Cmd[0], arguments: s.Cmd.slice(1), privileged: s.Privileged, user: s.User ?? '' },
    });
  });

  r.add('POST', '/exec/{id}/resize', (req, reply) => { findExec(store, req.params.id); reply.json({}); });
}
