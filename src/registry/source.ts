// An image source backed by a registry: resolves tag or digest to one platform's manifest.
import { RegistryError } from '../errors.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { formatReference, type Reference } from './reference.js';
import { sha256, verifyDigest } from '../digest.js';
import { kindOf, parseManifest, selectPlatform, type Descriptor, type ImageIndex, type Platform } from './manifest.js';
import type { ImageSource, ResolvedManifest } from '../copy/types.js';

export class RegistrySource implements ImageSource {
  readonly name: string;
  private readonly client: RegistryClient;

  private readonly ref: Reference;

  /** `name` is what the image will be called; `from`, where registries.conf sends the pull (default: the same). */
  constructor(name: Reference, private readonly platform: Platform, opts: ClientOptions, from: Reference = name) {
    this.name = formatReference(name);
    this.ref = from;
    this.client = new RegistryClient(from.domain, opts);
  }

  async resolveManifest(): Promise<ResolvedManifest> {
    const wanted = this.ref.digest ?? this.ref.tag ?? 'latest';
    let { body, mediaType } = await this.client.getManifest(this.ref.path, wanted);
    if (this.ref.digest) verifyDigest(`manifest of ${this.name}`, body, this.ref.digest);
    if (kindOf(mediaType, body) === 'index') {
      const index = JSON.parse(body.toString('utf8')) as ImageIndex;
      const desc = selectPlatform(index, this.platform, this.name);
      ({ body, mediaType } = await this.client.getManifest(this.ref.path, desc.digest));
      verifyDigest(`manifest ${desc.digest} of ${this.name}`, body, desc.digest);
      if (kindOf(mediaType, body) !== 'manifest') throw new RegistryError(`${this.name}: an index points to another index`, { code: 'E_MANIFEST_TYPE' });
    }
    return { digest: sha256(body), mediaType, body, manifest: parseManifest(body, this.name) };
  }

  /** Does the registry still hold this blob? (HEAD; any failure counts as no) */
  async hasBlob(digest: string): Promise<boolean> {
    try {
      const res = await this.client.send(this.ref.path, `/v2/${this.ref.path}/blobs/${digest}`, { method: 'HEAD' });
      await res.body.dump();
      return res.statusCode === 200;
    } catch { return false; }
  }

  streamBlob(desc: Descriptor): AsyncIterable<Buffer> {
    return this.client.blob(this.ref.path, desc.digest, desc.size);
  }

  close(): Promise<void> { return this.client.close(); }
}
