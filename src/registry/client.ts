// OCI distribution client over undici: ping, auth challenges (Bearer, Basic), manifests, and blobs
// streamed with retries that resume with Range.
import v8 from 'node:v8';
import { createRequire } from 'node:module';
import type { Agent as AgentClass, Dispatcher, interceptors as Interceptors } from 'undici';
import { RegistryError, TspodError } from '../errors.js';
import { apiHost } from './reference.js';
import { basicHeader, findCredentials, parseChallenge, type Credentials } from './auth.js';
import { trustedTls } from './trust.js';

// undici parses HTTP with WebAssembly (llhttp). V8's optimizing compile of it costs ~35 MB of RSS and
// ~100 ms of CPU, for a parser that mostly skips over blob bodies: the baseline compiler is enough.
v8.setFlagsFromString('--liftoff-only');

// undici's index loads all of undici (fetch, WebSocket, caches, mocks): ~95 ms here. The three parts
// this client uses load in ~33 ms. They are plain files of the package (it has no exports map).
const requireUndici = createRequire(import.meta.url);
const Agent = requireUndici('undici/lib/dispatcher/agent') as typeof AgentClass;
const redirect = requireUndici('undici/lib/interceptor/redirect') as typeof Interceptors.redirect;
const apiRequest = requireUndici('undici/lib/api/api-request') as (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

/** undici's request(url, opts), on the parts loaded above. */
function request(url: string | URL, opts: { dispatcher: Dispatcher; method?: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: Dispatcher.DispatchOptions['body'] }): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  return apiRequest.call(opts.dispatcher, { origin: u.origin, path: `${u.pathname}${u.search}`, method: opts.method ?? 'GET', headers: opts.headers, body: opts.body });
}

let plainAgent: Dispatcher | undefined;

/**
 * GET an http(s) URL that is no registry (kube play URL, load -i URL, ADD URL), redirects followed,
 * with the same TLS trust as the registry client. The caller reads or dumps the body.
 */
export function getUrl(url: string): Promise<Dispatcher.ResponseData> {
  plainAgent ??= new Agent({ connect: trustedTls() }).compose(redirect({ maxRedirections: 5 }));
  return request(url, { dispatcher: plainAgent });
}

export interface SendOptions {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  /** made again for each attempt, since a sent stream can't be sent twice */
  body?: () => Dispatcher.DispatchOptions['body'];
  /** the scope's actions: "pull" (default) or "pull,push" */
  actions?: string;
  /** an absolute Location the registry gave (upload URLs) instead of a path on it */
  url?: string;
}

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;
const MAX_MANIFEST = 4 << 20;
const ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

export interface ClientOptions {
  /** Use plain HTTP when HTTPS fails, and skip certificate checks (--tls-verify=false, insecure=true). */
  insecure?: boolean;
  credentials?: Credentials;
  retries?: number;
  /** Base delay of the exponential backoff, in ms. */
  backoffMs?: number;
  /** --cert-dir: the registry's certificates from here instead of its certs.d directory */
  certDir?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tspod error inside what undici threw (it wraps errors of a request body's stream). */
function ownError(e: unknown): TspodError | undefined {
  for (let c = e, depth = 0; c && depth < 4; c = (c as { cause?: unknown }).cause, depth++) if (c instanceof TspodError) return c;
  return undefined;
}

function isRetryableNetworkError(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|UND_ERR_CLOSED|ECONNABORTED)$/.test(code);
}

function describeNetworkError(e: unknown): string {
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  if (/SSL|TLS|CERT/.test(code)) return `TLS handshake failed (${code})`;
  return [err.code ?? err.cause?.code, err.message ?? err.cause?.message].filter(Boolean).join(': ');
}

export class RegistryClient {
  readonly domain: string;
  private readonly host: string;
  private readonly opts: Required<Omit<ClientOptions, 'credentials' | 'certDir'>> & { credentials?: Credentials };
  private base?: string;
  private readonly dispatcher: Dispatcher;
  private readonly tokens = new Map<string, string>();
  private challenge?: ReturnType<typeof parseChallenge>;
  private closed = false;

  constructor(domain: string, opts: ClientOptions = {}) {
    this.domain = domain;
    this.host = apiHost(domain);
    this.opts = { insecure: false, retries: 4, backoffMs: 250, ...opts };
    // Without verification there is nothing to check certificates against: an empty CA list spares
    // loading the system's roots (~25 ms) for the https attempt an insecure registry gets first.
    const connect = this.opts.insecure ? { rejectUnauthorized: false, ca: [] } : trustedTls(domain, opts.certDir);
    this.dispatcher = new Agent({ connect, connections: 16 }).compose(redirect({ maxRedirections: 5 }));
  }

  /**
   * Stop at once: in-flight requests are aborted and no retry starts. A graceful close would wait
   * for every body to be read, and a failed pull leaves bodies nobody will read.
   */
  close(): Promise<void> {
    this.closed = true;
    return this.dispatcher.destroy();
  }

  /** GET /v2/: learn the scheme and the auth challenge. Retried on 5xx and drops like any request. */
  async ping(): Promise<void> {
    if (this.base) return;
    const schemes = this.opts.insecure ? ['https', 'http'] : ['https'];
    let lastErr: unknown;
    for (const scheme of schemes) {
      const base = `${scheme}://${this.host}`;
      try {
        // Nothing listening is no transient drop: fail at once, as skopeo and Podman do.
        const res = await this.withRetries(async () => {
          const r = await request(`${base}/v2/`, { dispatcher: this.dispatcher, method: 'GET' });
          if (r.statusCode >= 500) { await r.body.dump(); throw Object.assign(new Error(`answered ${r.statusCode}`), { code: 'E_STATUS_5XX', status: r.statusCode }); }
          return r;
        }, (e) => (e as { code?: string }).code !== 'ECONNREFUSED');
        await res.body.dump();
        if (res.statusCode === 401) {
          const h = res.headers['www-authenticate'];
          this.challenge = parseChallenge(Array.isArray(h) ? h[0] : h ?? '');
        } else if (res.statusCode >= 400 && res.statusCode !== 404) {
          throw new RegistryError(`registry ${this.domain} answered ${res.statusCode} to /v2/`, { status: res.statusCode });
        }
        this.base = base;
        return;
      } catch (e) {
        if (e instanceof RegistryError) throw e;
        const status = (e as { status?: number }).status;
        if (status) throw new RegistryError(`registry ${this.domain} answered ${status} to /v2/ ${this.opts.retries + 1} times`, { status, hint: 'the registry is failing; retry later, or check it' });
        lastErr = e;
      }
    }
    const tlsHint = this.opts.insecure ? 'check that the registry is running and reachable'
      : 'if the registry serves plain HTTP or a self-signed certificate, use --tls-verify=false or mark it insecure in registries.conf';
    throw new RegistryError(`cannot reach registry ${this.domain}: ${describeNetworkError(lastErr)}`, { hint: tlsHint, code: 'E_REGISTRY_UNREACHABLE' });
  }

  private async withRetries<T>(fn: () => Promise<T>, retryable: (e: unknown) => boolean = () => true): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const transient = isRetryableNetworkError(e) || (e as { code?: string }).code === 'E_STATUS_5XX';
        if (attempt >= this.opts.retries || this.closed || !transient || !retryable(e)) throw e;
        await sleep(this.opts.backoffMs * 2 ** attempt);
      }
    }
  }

  private async authorization(scope: string): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const creds = this.opts.credentials ?? findCredentials(this.domain, scope.split(':')[1]);
    if (ch.scheme === 'basic') {
      if (!creds) throw new RegistryError(`${this.domain}: unauthorized: the registry requires a login`, { status: 401, hint: `log in first: tspod login ${this.domain}`, code: 'E_UNAUTHORIZED' });
      return basicHeader(creds);
    }
    if (ch.scheme !== 'bearer') return undefined;
    const cachedToken = this.tokens.get(scope);
    if (cachedToken) return `Bearer ${cachedToken}`;
    const realm = ch.params.realm;
    if (!realm) throw new RegistryError(`registry ${this.domain} sent a Bearer challenge without a realm`);
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    if (creds) headers.authorization = basicHeader(creds);
    const res = await this.withRetries(() => request(url, { dispatcher: this.dispatcher, headers }));
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new RegistryError(`token server ${url.host} refused ${creds ? `user ${creds.username}` : 'anonymous access'} (${res.statusCode}) for ${scope}`,
        { status: res.statusCode, code: 'E_UNAUTHORIZED', hint: creds ? 'check the credentials in auth.json' : 'log in first (podman login), or check the image name' });
    }
    const body = (await res.body.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`token server ${url.host} returned no token`);
    this.tokens.set(scope, token);
    return `Bearer ${token}`;
  }

  /**
   * Check credentials as login does: against /v2/ for Basic auth, against the token server (no
   * scope) for Bearer. A registry that asks for nothing accepts anyone.
   */
  async checkLogin(creds: Credentials): Promise<void> {
    await this.ping();
    const ch = this.challenge;
    if (!ch) return;
    let res: Dispatcher.ResponseData;
    if (ch.scheme === 'bearer') {
      if (!ch.params.realm) throw new RegistryError(`registry ${this.domain} sent a Bearer challenge without a realm`);
      const url = new URL(ch.params.realm);
      if (ch.params.service) url.searchParams.set('service', ch.params.service);
      res = await this.withRetries(() => request(url, { dispatcher: this.dispatcher, headers: { authorization: basicHeader(creds) } }));
    } else {
      res = await this.withRetries(() => request(`${this.base}/v2/`, { dispatcher: this.dispatcher, headers: { authorization: basicHeader(creds) } }));
    }
    await res.body.dump();
    if (res.statusCode === 401 || res.statusCode === 403) throw new RegistryError(`${this.domain}: unauthorized: invalid username/password for ${creds.username}`, { status: res.statusCode, code: 'E_UNAUTHORIZED', hint: 'check the user name and password; nothing was stored' });
    if (res.statusCode >= 400) throw new RegistryError(`${this.domain}: login answered ${res.statusCode}`, { status: res.statusCode, hint: 'retry later, or check the registry' });
  }

  /** A GET with auth, retried on 5xx and dropped connections. */
  get(repo: string, urlPath: string, headers: Record<string, string> = {}): Promise<Dispatcher.ResponseData> {
    return this.send(repo, urlPath, { headers });
  }

  /** Where the registry's relative Locations lead. */
  resolveLocation(location: string): string {
    return new URL(location, `${this.base}/`).toString();
  }

  /** Any request with auth for the scope's actions, retried on 5xx and dropped connections. */
  async send(repo: string, urlPath: string, o: SendOptions = {}): Promise<Dispatcher.ResponseData> {
    await this.ping();
    const scope = `repository:${repo}:${o.actions ?? 'pull'}`;
    const headers = o.headers ?? {};
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authorization(scope);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(o.url ?? `${this.base}${urlPath}`, { dispatcher: this.dispatcher, method: o.method, body: o.body?.(), headers: { ...headers, ...(auth ? { authorization: auth } : {}) } });
      } catch (e) {
        // The body we were sending failed on our side (a damaged blob in the store): that, not the connection, is the error.
        const ours = ownError(e);
        if (ours) throw ours;
        if (attempt < this.opts.retries && !this.closed && isRetryableNetworkError(e)) { await sleep(this.opts.backoffMs * 2 ** attempt); continue; }
        throw new RegistryError(`connection to ${this.domain} failed: ${describeNetworkError(e)}`, { hint: 'check the network and the registry, then retry', code: 'E_REGISTRY_UNREACHABLE' });
      }
      if (res.statusCode === 401 && attempt === 0) {
        // A token can expire, or the registry may only now challenge us: learn and retry once.
        const h = res.headers['www-authenticate'];
        const ch = parseChallenge(Array.isArray(h) ? h[0] : h ?? '');
        await res.body.dump();
        if (ch) { this.challenge = ch; this.tokens.delete(scope); continue; }
        throw new RegistryError(`${this.domain}: unauthorized: the registry refused access to ${repo} (401)`, { status: 401, code: 'E_UNAUTHORIZED', hint: `log in: tspod login ${this.domain}` });
      }
      if (res.statusCode >= 500 && attempt < this.opts.retries && !this.closed) {
        await res.body.dump();
        await sleep(this.opts.backoffMs * 2 ** attempt);
        continue;
      }
      return res;
    }
  }

  async getManifest(repo: string, reference: string): Promise<{ body: Buffer; mediaType: string }> {
    const res = await this.get(repo, `/v2/${repo}/manifests/${reference}`, { accept: ACCEPT });
    if (res.statusCode === 404) {
      await res.body.dump();
      throw new RegistryError(`${this.domain}/${repo}:${reference}: manifest unknown`, { status: 404, code: 'E_MANIFEST_UNKNOWN', hint: 'check the image name and tag' });
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new RegistryError(`registry ${this.domain} denied access to ${repo} (${res.statusCode})`, { status: res.statusCode, code: 'E_UNAUTHORIZED', hint: 'log in, or check that the repository exists' });
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new RegistryError(`registry ${this.domain} answered ${res.statusCode} for manifest ${repo}:${reference}`, { status: res.statusCode, hint: 'retry later, or check the registry' });
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const c of res.body as AsyncIterable<Buffer>) {
      length += c.length;
      // As containers/image does: a manifest is small; a registry sending more is not sending one.
      if (length > MAX_MANIFEST) { res.body.destroy(); throw new RegistryError(`registry ${this.domain} sent a manifest for ${repo}:${reference} of more than ${MAX_MANIFEST} bytes`, { code: 'E_MANIFEST_TYPE', hint: 'check the registry' }); }
      chunks.push(c);
    }
    const body = Buffer.concat(chunks);
    const ct = String(res.headers['content-type'] ?? '').split(';')[0].trim();
    return { body, mediaType: ct };
  }

  /**
   * A blob as a stream of chunks, never more than `size` bytes (the descriptor's) and failing if it
   * ends short of them. A connection dropped mid-blob is resumed with Range; where the registry
   * ignores Range, the bytes already seen are skipped so consumers never see them twice.
   */
  async *blob(repo: string, digest: string, size: number): AsyncGenerator<Buffer> {
    let received = 0;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = received > 0 ? { range: `bytes=${received}-` } : {};
      const res = await this.get(repo, `/v2/${repo}/blobs/${digest}`, headers);
      if (res.statusCode === 404) { await res.body.dump(); throw new RegistryError(`blob ${digest} not found in ${this.domain}/${repo}`, { status: 404, code: 'E_BLOB_UNKNOWN' }); }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        await res.body.dump();
        throw new RegistryError(`registry ${this.domain} answered ${res.statusCode} for blob ${digest}`, { status: res.statusCode, hint: 'retry later, or check the registry' });
      }
      let skip = res.statusCode === 200 ? received : 0;
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          let c = chunk;
          if (skip > 0) {
            if (c.length <= skip) { skip -= c.length; continue; }
            c = c.subarray(skip);
            skip = 0;
          }
          if (received + c.length > size) throw new BlobSizeError(digest, size, 'longer');
          received += c.length;
          yield c;
        }
      } catch (e) {
        if (e instanceof BlobSizeError) { res.body.destroy(); throw e; }
        if (attempt < this.opts.retries && !this.closed && isRetryableNetworkError(e)) { await sleep(this.opts.backoffMs * 2 ** attempt); continue; }
        throw new RegistryError(`download of ${digest} from ${this.domain} failed after ${received} bytes: ${describeNetworkError(e)}`, { hint: 'retry the pull; it resumes where it can', code: 'E_REGISTRY_UNREACHABLE' });
      }
      if (received === size) return;
      // Ended cleanly but short: a truncated transfer, resumed like a dropped one.
      if (attempt < this.opts.retries && !this.closed) { await sleep(this.opts.backoffMs * 2 ** attempt); continue; }
      throw new BlobSizeError(digest, size, 'shorter', received);
    }
  }
}

/** A blob that is not the size its descriptor declares: corrupt, or a registry feeding us without end. */
export class BlobSizeError extends RegistryError {
  constructor(digest: string, size: number, how: 'longer' | 'shorter', got?: number) {
    super(`blob ${digest} is ${how} than the ${size} bytes its descriptor declares${got !== undefined ? ` (it ended after ${got})` : ''}`,
      { code: 'E_DIGEST', hint: 'the registry served corrupt data; nothing was stored. Retry, or check the registry' });
  }
}
