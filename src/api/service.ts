// `tspod system service`: the Docker Engine API on a unix socket (or TCP when asked), for as long
// as clients use it. It keeps no state of its own: every request is the engine call a command
// makes, so the CLI and the API see the same containers, and containers outlive the service.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Store } from '../storage/store.js';
import { TspodError } from '../errors.js';
import { runtimeDir } from '../paths.js';
import { log } from '../log.js';
import { Router, apiServer } from './http.js';
import { containerRoutes } from './containers.js';
import { imageRoutes } from './images.js';
import { systemRoutes } from './system.js';

export type Endpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } | { kind: 'fd'; fd: number };

export const defaultSocket = () => path.join(runtimeDir(), 'tspod.sock');

/** unix:///PATH, unix:PATH, tcp://HOST:PORT, tcp:HOST:PORT; Podman's words for anything else. */
export function parseEndpoint(uri: string | undefined): Endpoint {
  if (!uri) return { kind: 'unix', path: defaultSocket() };
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(uri);
  const scheme = m ? m[1] : '';
  const rest = m ? m[2] : uri;
  if (scheme === 'unix') {
    const p = rest.replace(/^\/\//, '');
    if (!p) throw new TspodError('E_USAGE', `API Service endpoint ${uri} names no socket path`);
    return { kind: 'unix', path: path.resolve(p) };
  }
  if (scheme === 'tcp') {
    const hp = rest.replace(/^\/\//, '').replace(/\/$/, '');
    const i = hp.lastIndexOf(':');
    const port = Number(hp.slice(i + 1));
    if (i < 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new TspodError('E_USAGE', `API Service endpoint ${uri} has no port`, { hint: 'use tcp://127.0.0.1:PORT' });
    return { kind: 'tcp', host: hp.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1', port };
  }
  throw new TspodError('E_USAGE', `API Service endpoint scheme "${scheme}" is not supported. Try tcp://${uri} or unix:/${uri}`);
}

export interface ServiceOptions {
  endpoint: Endpoint;
  /** seconds without a request in flight before the service exits; 0: never */
  idleSeconds: number;
  cors?: string;
  /** said once listening (the command prints where) */
  onListening?: (where: string) => void;
}

/** A socket path in a directory only we can enter; a stale socket (nobody listening) is replaced. */
async function prepareSocket(file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) return;
  const listening = await new Promise<boolean>((resolve) => {
    const c = net.connect(file);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
  if (listening) throw new TspodError('E_IN_USE', `another service is already listening on ${file}`, { hint: 'stop it, or give another unix:///PATH' });
  fs.rmSync(file, { force: true });
}

/** Serve until SIGTERM/SIGINT, or until idle for idleSeconds. Resolves when the service has stopped. */
export async function serve(o: ServiceOptions): Promise<void> {
  const store = new Store(undefined, (m) => log.info(m));
  const router = new Router();
  const where = o.endpoint.kind === 'unix' ? `unix://${o.endpoint.path}` : o.endpoint.kind === 'tcp' ? `tcp://${o.endpoint.host}:${o.endpoint.port}` : `fd://${o.endpoint.fd}`;
  systemRoutes(router, store, { socketPath: where });
  containerRoutes(router, store);
  imageRoutes(router, store);
  if (o.cors) log.debug(`CORS Headers were set to ${JSON.stringify(o.cors)}`);

  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (busy: number) => {
    if (idle) { clearTimeout(idle); idle = undefined; }
    if (busy === 0 && o.idleSeconds > 0) idle = setTimeout(() => { log.debug(`idle for ${o.idleSeconds}s: exiting`); stop(); }, o.idleSeconds * 1000);
  };
  const server = apiServer(router, { cors: o.cors, onBusy: armIdle, log: (l) => log.debug(l) });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });

  if (o.endpoint.kind === 'unix') await prepareSocket(o.endpoint.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new TspodError('E_LISTEN', `cannot listen on ${where}: ${e.code === 'EADDRINUSE' ? 'the address is already in use' : e.message}`, { hint: 'give another address, or stop what holds it' })));
    const ep = o.endpoint;
    if (ep.kind === 'unix') {
      // Made 0600 from the start: nobody else may drive our containers, not even for a moment.
      const mask = process.umask(0o177);
      server.listen(ep.path, () => { process.umask(mask); resolve(); });
    } else if (ep.kind === 'tcp') server.listen(ep.port, ep.host, () => resolve());
    else server.listen({ fd: ep.fd }, () => resolve());
  });
  o.onListening?.(where);
  armIdle(0);

  const onSignal = () => stop();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await stopped;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (idle) clearTimeout(idle);
  server.close();
  for (const s of sockets) s.destroy();
  if (o.endpoint.kind === 'unix') fs.rmSync(o.endpoint.path, { force: true });
}
