// An image made here (commit, import, and the build to come) as an image source: a config written
// in this process over layers that are in the store already (the store destination added the new
// ones), so the copier only records the image.
import { sha256 } from '../digest.js';
import { LAYER_TYPE, buildManifest } from '../copy/media.js';
import type { Descriptor } from '../registry/manifest.js';
import type { ImageSource, ResolvedManifest } from '../copy/types.js';

export class BuiltImageSource implements ImageSource {
  private readonly config: Buffer;
  private readonly configDigest: string;

  /** `config` lists every diff id, each a layer of the store. */
  constructor(readonly name: string, config: object, private readonly diffIds: string[], private readonly annotations?: Record<string, string>) {
    this.config = Buffer.from(JSON.stringify(config));
    this.configDigest = sha256(this.config);
  }

  async resolveManifest(): Promise<ResolvedManifest> {
    const layers = this.diffIds.map((d) => ({ mediaType: LAYER_TYPE.oci.tar, digest: d, size: 0 }));
    return buildManifest('oci', { digest: this.configDigest, size: this.config.length }, layers, this.name, this.annotations);
  }

  async *streamBlob(desc: Descriptor): AsyncGenerator<Buffer> {
    if (desc.digest !== this.configDigest) throw new Error(`${desc.digest} is a stored layer: the store destination has it`);
    yield this.config;
  }

  async close(): Promise<void> { /* nothing in flight */ }
}
