// An image made here (commit, import, and the build to come) as an image source: a config written
// in this process over layers that are in the store already (the store destination added the new
// ones), so the copier only records the image.
import crypto from 'node:crypto';
import type { Descriptor, ImageManifest } from '../registry/manifest.js';
import type { ImageSource, ResolvedManifest } from '../copy/types.js';

const PLAIN = 'application/vnd.oci.image.layer.v1.tar';

const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

export class BuiltImageSource implements ImageSource {
  private readonly config: Buffer;

  /** `config` lists every diff id, each a layer of the store. */
  constructor(readonly name: string, config: object, private readonly diffIds: string[]) {
    this.config = Buffer.from(JSON.stringify(config));
  }

  get configDigest(): string { return sha(this.config); }

  async resolveManifest(): Promise<ResolvedManifest> {
    const layers: Descriptor[] = this.diffIds.map((d) => ({ mediaType: PLAIN, digest: d, size: 0 }));
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: this.configDigest, size: this.config.length }, layers };
    const body = Buffer.from(JSON.stringify(manifest));
    return { digest: sha(body), mediaType: manifest.mediaType!, body, manifest };
  }

  async *streamBlob(desc: Descriptor): AsyncGenerator<Buffer> {
    if (desc.digest !== this.configDigest) throw new Error(`${desc.digest} is a stored layer: the store destination has it`);
    yield this.config;
  }

  async close(): Promise<void> { /* nothing in flight */ }
}
