// An image made here (commit, import, and the build to come) as an image source: a config written
// in this process, layers already in the store (the store destination finds them and skips them),
// and new layers streamed from a layer writer, listed as plain tars by their diff ids.
import crypto from 'node:crypto';
import type { Descriptor, ImageManifest } from '../registry/manifest.js';
import type { ImageSource, ResolvedManifest } from '../copy/types.js';

const PLAIN = 'application/vnd.oci.image.layer.v1.tar';

export interface NewLayer { diffId: string; size: number; open(): AsyncIterable<Buffer> }

const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

/** Hash a layer stream without keeping it: its diff id and length. */
export async function measureLayer(open: () => AsyncIterable<Buffer>): Promise<NewLayer> {
  const h = crypto.createHash('sha256');
  let size = 0;
  for await (const c of open()) { h.update(c); size += c.length; }
  return { diffId: `sha256:${h.digest('hex')}`, size, open };
}

export class BuiltImageSource implements ImageSource {
  private readonly config: Buffer;
  private readonly layers = new Map<string, NewLayer>();

  /** `config` already lists every diff id: the stored ones, then the new ones. */
  constructor(readonly name: string, config: object, private readonly storedDiffIds: string[], newLayers: NewLayer[]) {
    this.config = Buffer.from(JSON.stringify(config));
    for (const l of newLayers) this.layers.set(l.diffId, l);
  }

  get configDigest(): string { return sha(this.config); }

  async resolveManifest(): Promise<ResolvedManifest> {
    const layers: Descriptor[] = [
      ...this.storedDiffIds.map((d) => ({ mediaType: PLAIN, digest: d, size: 0 })),
      ...[...this.layers.values()].map((l) => ({ mediaType: PLAIN, digest: l.diffId, size: l.size })),
    ];
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: this.configDigest, size: this.config.length }, layers };
    const body = Buffer.from(JSON.stringify(manifest));
    return { digest: sha(body), mediaType: manifest.mediaType!, body, manifest };
  }

  async *streamBlob(desc: Descriptor): AsyncGenerator<Buffer> {
    if (desc.digest === this.configDigest) { yield this.config; return; }
    const layer = this.layers.get(desc.digest);
    if (!layer) throw new Error(`${desc.digest} is a stored layer, not one this image adds`);
    yield* layer.open();
  }

  async close(): Promise<void> { /* nothing in flight */ }
}
