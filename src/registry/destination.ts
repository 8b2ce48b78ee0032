// A registry as an image destination (push): a blob the registry has is skipped (HEAD), one it has
// in another repository is mounted from there, the rest is uploaded streaming (POST, one PATCH of
// the whole stream, PUT with the digest computed on the way); the manifest goes last, and the digest
// the registry answers with is checked against what was sent.
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { formatReference, type Reference } from './reference.js';
import type { Descriptor } from './manifest.js';
import type { ImageDestination, KnownBlob, ResolvedManifest } from '../copy/types.js';
import type { Dispatcher } from 'undici';

const PUSH = 'pull,push';

async function* hashing(source: AsyncIterable<Buffer>, hash: crypto.Hash, count: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of source) { hash.update(chunk); count(chunk.length); yield chunk; }
}

async function failure(res: Dispatcher.ResponseData, what: string, domain: string): Promise<RegistryError> {
  let detail = '';
  try {
    const body = (await res.body.json()) as { errors?: Array<{ code?: string; message?: string }> };
    detail = body.errors?.map((e) => [e.code?.toLowerCase(), e.message].filter(Boolean).join(': ')).join('; ') ?? '';
  } catch { /* not JSON */ }
  const auth = res.statusCode === 401 || res.statusCode === 403;
  return new RegistryError(`${domain}: ${auth ? 'unauthorized: ' : ''}${what} answered ${res.statusCode}${detail ? ` (${detail})` : ''}`,
    { status: res.statusCode, code: auth ? 'E_UNAUTHORIZED' : 'E_REGISTRY', hint: auth ? `log in first: tspod login ${domain}` : 'retry later, or check the registry' });
}

export class RegistryDestination implements ImageDestination {
  readonly layerForm = 'compressed' as const;
  readonly name: string;
  private readonly client: RegistryClient;
  /** the digest of the manifest as the registry stored it */
  pushedDigest?: string;

  constructor(private readonly ref: Reference, opts: ClientOptions, private readonly retries = 3) {
    this.name = formatReference(ref);
    this.client = new RegistryClient(ref.domain, opts);
  }

  private async has(digest: string): Promise<number | undefined> {
    const res = await this.client.send(this.ref.path, `/v2/${this.ref.path}/blobs/${digest}`, { method: 'HEAD', actions: PUSH });
    await res.body.dump();
    if (res.statusCode === 200) return Number(res.headers['content-length'] ?? -1);
    if (res.statusCode === 404) return undefined;
    throw await failure(res, `HEAD of blob ${digest}`, this.ref.domain);
  }

  async reuseLayer(diffId: string, known: KnownBlob[]): Promise<Descriptor | undefined> {
    for (const k of known) {
      if (k.desc.digest === diffId) continue; // a plain tar is never what a registry should hold
      if ((await this.has(k.desc.digest)) !== undefined) return k.desc;
    }
    // Mounted from another repository of this registry: no bytes sent.
    for (const k of known) {
      if (!k.repository || !k.repository.startsWith(`${this.ref.domain}/`)) continue;
      const from = k.repository.slice(this.ref.domain.length + 1);
      if (from === this.ref.path) continue;
      const res = await this.client.send(this.ref.path, `/v2/${this.ref.path}/blobs/uploads/?mount=${encodeURIComponent(k.desc.digest)}&from=${encodeURIComponent(from)}`, { method: 'POST', actions: PUSH });
      await res.body.dump();
      if (res.statusCode === 201) return k.desc;
      // 202: the registry opened an upload instead; it is left to expire.
    }
    return undefined;
  }

  async putLayer(desc: Descriptor, _diffId: string, open: () => AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<Descriptor> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.upload(desc, open, onBytes);
      } catch (e) {
        const status = (e as RegistryError).status ?? 0;
        const transient = status >= 500 || /ECONN|EPIPE|UND_ERR|socket/i.test(`${(e as { code?: string }).code} ${(e as Error).message}`);
        if (attempt >= this.retries || !transient) throw e;
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
  }

  private async upload(desc: Descriptor, open: () => AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<Descriptor> {
    const start = await this.client.send(this.ref.path, `/v2/${this.ref.path}/blobs/uploads/`, { method: 'POST', actions: PUSH });
    if (start.statusCode !== 202) throw await failure(start, 'starting an upload', this.ref.domain);
    await start.body.dump();
    let location = this.client.resolveLocation(String(start.headers.location));
    const hash = crypto.createHash('sha256');
    let size = 0;
    const patch = await this.client.send(this.ref.path, '', {
      method: 'PATCH', url: location, actions: PUSH, headers: { 'content-type': 'application/octet-stream' },
      body: () => Readable.from(hashing(open(), hash, (n) => { size += n; onBytes(n); }), { objectMode: false }),
    });
    if (patch.statusCode !== 202) throw await failure(patch, 'an upload', this.ref.domain);
    await patch.body.dump();
    location = this.client.resolveLocation(String(patch.headers.location ?? location));
    const digest = `sha256:${hash.digest('hex')}`;
    if (desc.digest && desc.digest !== digest) throw new RegistryError(`blob ${desc.digest} read as ${digest} while it was sent`, { code: 'E_DIGEST', hint: 'the source changed or is corrupt; nothing was pushed' });
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const done = await this.client.send(this.ref.path, '', { method: 'PUT', url: url.toString(), actions: PUSH, headers: { 'content-length': '0' } });
    if (done.statusCode !== 201) throw await failure(done, `finishing the upload of ${digest}`, this.ref.domain);
    await done.body.dump();
    return { mediaType: desc.mediaType, digest, size };
  }

  abandon(): void { /* an unfinished upload expires on the registry */ }

  async commitImage(args: { name: string; manifest: ResolvedManifest; configDigest: string; config: Buffer }): Promise<string> {
    if ((await this.has(args.configDigest)) === undefined) {
      const body = args.config;
      await this.putLayer({ mediaType: args.manifest.manifest.config.mediaType, digest: args.configDigest, size: body.length }, '', async function* () { yield body; }, () => {});
    }
    const tag = this.ref.tag ?? (this.ref.digest ? args.manifest.digest : 'latest');
    const body = args.manifest.body;
    const res = await this.client.send(this.ref.path, `/v2/${this.ref.path}/manifests/${tag}`, {
      method: 'PUT', actions: PUSH, headers: { 'content-type': args.manifest.mediaType }, body: () => body,
    });
    if (res.statusCode !== 201) throw await failure(res, `the manifest of ${this.name}`, this.ref.domain);
    await res.body.dump();
    const answered = res.headers['docker-content-digest'];
    if (answered && answered !== args.manifest.digest) throw new RegistryError(`${this.ref.domain} stored the manifest of ${this.name} as ${String(answered)}, not ${args.manifest.digest}`, { code: 'E_DIGEST', hint: 'the registry changed the manifest; check it' });
    this.pushedDigest = args.manifest.digest;
    return args.configDigest.slice('sha256:'.length);
  }

  close(): Promise<void> { return this.client.close(); }
}
