// The service's HTTP side: a route table over Node's http server, Docker's error bodies, the
// connection hijack that attach and exec use, and the count of what is in flight (for --time).
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { TspodError } from '../errors.js';

export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';

/** An error with the HTTP status Docker answers it with. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}
export const badRequest = (m: string) => new ApiError(400, m);
export const notFound = (m: string) => new ApiError(404, m);
export const conflict = (m: string) => new ApiError(409, m);

/** The status Docker gives an engine error: 404 for what is not there, 409 for a conflict with its state, 400 for bad input, 500 else. */
export function statusOf(e: unknown): number {
  if (e instanceof ApiError) return e.status;
  if (e instanceof TspodError) {
    if (/^E_(NO_|IMAGE_UNKNOWN|NOT_FOUND)/.test(e.code) || /no such|not known|not found/i.test(e.message)) return 404;
    if (/E_(NAME_IN_USE|CONTAINER_RUNNING|CONTAINER_NOT_RUNNING|IN_USE|CONFLICT|NOT_ATTACHABLE)/.test(e.code) || /in use|is running|not running|already/i.test(e.message)) return 409;
    if (/^E_(USAGE|REFERENCE)/.test(e.code)) return 400;
  }
  return 500;
}

export interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** the body as it arrives (a tar for build, load and archive) */
  stream: http.IncomingMessage;
  /** the body as JSON; {} when there is none; 400 when it is not JSON */
  json<T = Record<string, unknown>>(): Promise<T>;
}

export interface Reply {
  /** Answer with JSON (status 200 unless given). */
  json(body: unknown, status?: number): void;
  /** Answer with no body. */
  empty(status?: number): void;
  /** Answer with text (a ping's OK), with extra headers. */
  text(body: string, headers?: Record<string, string>): void;
  /** Start a streamed answer (chunked): lines of JSON progress, logs, events, a tar. */
  stream(contentType: string, status?: number, headers?: Record<string, string>): http.ServerResponse;
  /**
   * Take over the connection for raw bytes both ways: 101 UPGRADED when the client asked for the
   * upgrade (the docker CLI does), else 200 and the connection closes at the end.
   */
  hijack(contentType?: string): Duplex;
  /** true once an answer has begun */
  readonly started: boolean;
  readonly raw: http.ServerResponse | undefined;
}

export type Handler = (req: Request, reply: Reply) => Promise<void> | void;

interface Route { method: string; pattern: RegExp; names: string[]; handler: Handler }

export class Router {
  private readonly routes: Route[] = [];

  /** `path` like /containers/{id}/json; `{name*}` takes slashes too (image names). */
  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const source = path.replace(/\{(\w+)(\*?)\}/g, (_m, name: string, greedy: string) => { names.push(name); return greedy ? '(.+?)' : '([^/]+)'; });
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  find(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'method' | undefined {
    let other = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) { other = true; continue; }
      return { handler: r.handler, params: Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
    }
    return other ? 'method' : undefined;
  }
}

export interface ServeOptions {
  /** Access-Control-Allow-Origin on every answer (--cors) */
  cors?: string;
  /** what is in flight changed: requests and hijacked connections open */
  onBusy?: (busy: number) => void;
  log?: (line: string) => void;
}

/** Common headers: the API version (Docker's clients negotiate with it) on every answer. */
function headers(o: ServeOptions): Record<string, string> {
  return {
    'Api-Version': API_VERSION, 'Docker-Experimental': 'false', 'Ostype': 'linux', 'Server': 'tspod (linux)',
    ...(o.cors ? { 'Access-Control-Allow-Origin': o.cors } : {}),
  };
}

/** An http.Server answering `router`'s routes, versioned (/v1.41/...) or not. */
export function apiServer(router: Router, o: ServeOptions = {}): http.Server {
  let busy = 0;
  const more = (n: number) => { busy += n; o.onBusy?.(busy); };
  const common = headers(o);
  // A response head written on the socket itself (upgrades, and answers to upgrade requests).
  const rawHead = (status: string, extra: Record<string, string | number>) => `HTTP/1.1 ${status}\r\n${Object.entries({ ...common, ...extra }).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

  const dispatch = async (msg: http.IncomingMessage, res: http.ServerResponse | undefined, socket: Duplex, head: Buffer | undefined) => {
    // An upgrade request's body (exec start's JSON) comes on the socket, before the raw stream.
    let upgradeBody: Buffer | undefined;
    if (!res) {
      const length = Number(msg.headers['content-length'] ?? 0);
      let got = head ?? Buffer.alloc(0);
      while (got.length < length) {
        const chunk = await new Promise<Buffer | null>((resolve) => { socket.once('data', (d: Buffer) => { socket.pause(); resolve(d); }); socket.once('end', () => resolve(null)); socket.resume(); });
        if (!chunk) break;
        got = Buffer.concat([got, chunk]);
      }
      upgradeBody = got.subarray(0, length);
      head = got.subarray(length);
    }
    more(1);
    let hijacked = false;
    let started = false;
    const url = new URL(msg.url ?? '/', 'http://d');
    const path = url.pathname.replace(/^\/v\d+\.\d+(?=\/)/, '');
    const t0 = Date.now();
    const send = (status: number, body: string | undefined, type = 'application/json', extra: Record<string, string> = {}) => {
      started = true;
      if (res) {
        res.writeHead(status, { ...common, ...extra, ...(body !== undefined ? { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) } : {}) });
        res.end(msg.method === 'HEAD' ? undefined : body);
      } else {
        // An upgrade request answered without upgrading.
        socket.end(`${rawHead(`${status} ${http.STATUS_CODES[status]}`, { ...extra, Connection: 'close', ...(body !== undefined ? { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) } : {}) })}${body ?? ''}`);
      }
    };
    const reply: Reply = {
      get started() { return started; },
      raw: res,
      json(body, status = 200) { send(status, `${JSON.stringify(body)}\n`); },
      empty(status = 204) { send(status, undefined); },
      text(body, extra = {}) { send(200, body, 'text/plain; charset=utf-8', extra); },
      stream(contentType, status = 200, extra = {}) {
        if (!res) throw new ApiError(400, 'this endpoint does not upgrade the connection');
        started = true;
        res.writeHead(status, { ...common, 'Content-Type': contentType, ...extra });
        res.flushHeaders();
        return res;
      },
      hijack(contentType = 'application/vnd.docker.raw-stream') {
        started = true;
        hijacked = true;
        more(1);
        socket.once('close', () => more(-1));
        if (!res) {
          socket.write(rawHead('101 UPGRADED', { 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp' }));
          if (head?.length) socket.unshift(head);
          return socket;
        }
        // No upgrade asked for: the raw stream follows a plain 200, and the connection ends with it.
        const s = res.socket!;
        res.detachSocket(s);
        s.write(rawHead('200 OK', { 'Content-Type': contentType, Connection: 'close' }));
        return s;
      },
    };
    const req: Request = {
      method: msg.method ?? 'GET', path, params: {}, query: url.searchParams, headers: msg.headers, stream: msg,
      async json<T>() {
        const chunks: Buffer[] = upgradeBody ? [upgradeBody] : [];
        if (!upgradeBody) for await (const c of msg) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString('utf8').trim();
        if (!text) return {} as T;
        try { return JSON.parse(text) as T; } catch (e) { throw badRequest(`the request body is not JSON: ${(e as Error).message}`); }
      },
    };
    try {
      if (req.method === 'OPTIONS') { send(200, undefined); return; }
      const found = router.find(req.method, path);
      if (found === 'method') throw new ApiError(405, `${req.method} is not allowed on ${path}`);
      if (!found) throw notFound(`page not found: ${req.method} ${path}`);
      req.params = found.params;
      await found.handler(req, reply);
    } catch (e) {
      const status = statusOf(e);
      const message = e instanceof Error ? e.message : String(e);
      if (status === 500) o.log?.(`error: ${req.method} ${path}: ${(e as Error)?.stack ?? message}`);
      if (!started) send(status, `${JSON.stringify({ message, cause: message, response: status })}\n`);
      else if (res && !res.writableEnded && !hijacked) res.end();
      else if (hijacked) socket.end();
    } finally {
      more(-1);
      o.log?.(`${msg.method} ${url.pathname}${url.search} ${Date.now() - t0} ms`);
    }
  };

  const server = http.createServer({ keepAliveTimeout: 5_000 }, (msg, res) => { void dispatch(msg, res, msg.socket, undefined); });
  server.on('upgrade', (msg: http.IncomingMessage, socket: net.Socket, head: Buffer) => { void dispatch(msg, undefined, socket, head); });
  server.on('clientError', (_e, socket) => { try { socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); } catch { /* gone */ } });
  return server;
}

/** Docker's boolean query values: 1, true, True; 0, false, False, and absent for false. */
export function flag(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  return v === '1' || v.toLowerCase() === 'true';
}

/** Docker's filters parameter: {"label":["a=b"]} or the old {"label":{"a=b":true}}, as KEY=VALUE lines. */
export function filterList(q: URLSearchParams, param = 'filters'): Array<[string, string]> {
  const raw = q.get(param);
  if (!raw) return [];
  let parsed: Record<string, string[] | Record<string, boolean>>;
  try { parsed = JSON.parse(raw); } catch { throw badRequest(`invalid filters: ${raw}`); }
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(parsed ?? {})) for (const value of Array.isArray(v) ? v : Object.keys(v ?? {}).filter((x) => (v as Record<string, boolean>)[x])) out.push([k, value]);
  return out;
}
