// The store as an image source (push, save): the image's own config, and each layer as its plain
// tar, replayed from its layout and checked against its diff id as it streams. It also tells a
// destination which compressed blobs are known to hold each layer (what it was pulled as, and from
// where), so a registry that has them is sent nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DigestMismatchError, TspodError } from '../errors.js';
import { LAYOUT_FILE, layoutSize, replayLayout } from './tar-layout.js';
import { LAYER_TYPE, buildManifest, formatOf } from '../copy/media.js';
import type { ImageRecord, Store } from './store.js';
import type { Descriptor, ImageManifest } from '../registry/manifest.js';
import type { ImageSource, KnownBlob, ResolvedManifest } from '../copy/types.js';


export class StoreSource implements ImageSource {
  constructor(private readonly store: Store, private readonly image: ImageRecord, readonly name: string) {}

  private layout(diffId: string): string {
    const file = path.join(this.store.layerDir(diffId), LAYOUT_FILE);
    if (!fs.existsSync(file)) {
      throw new TspodError('E_LAYER_LAYOUT', `layer ${diffId.slice(7, 19)} of ${this.name} can't be written out: it was stored without its tar layout (by an older tspod, or from a tar that overwrote its own files)`,
        { hint: `remove the image and pull it again: tspod rmi ${this.name} && tspod pull ${this.name}` });
    }
    return file;
  }

  async resolveManifest(): Promise<ResolvedManifest> {
    const config = this.store.readBlob(`sha256:${this.image.id}`);
    const layers = this.image.layers.map((diffId) => ({ mediaType: LAYER_TYPE.oci.tar, digest: diffId, size: layoutSize(this.layout(diffId)) }));
    // In the image's own format; its digest is of this listing, not of anything stored: the destination writes its own.
    let annotations: Record<string, string> | undefined;
    try { annotations = (JSON.parse(this.store.readBlob(this.image.digest).toString('utf8')) as ImageManifest).annotations; } catch { /* no manifest kept */ }
    return buildManifest(formatOf(this.image.manifestMediaType), { digest: `sha256:${this.image.id}`, size: config.length }, layers, this.name, annotations);
  }

  async *streamBlob(desc: Descriptor): AsyncGenerator<Buffer> {
    if (desc.digest === `sha256:${this.image.id}`) { yield this.store.readBlob(desc.digest); return; }
    const hash = crypto.createHash('sha256');
    for await (const chunk of replayLayout(this.layout(desc.digest), this.store.diffDir(desc.digest))) { hash.update(chunk); yield chunk; }
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== desc.digest) throw new DigestMismatchError(`layer ${desc.digest} as written out from the store (its files changed since it was stored?)`, desc.digest, got);
  }


  /** Every image of the store that holds the layer lists a compressed blob of it, pulled from its repository. */
  knownBlobs(diffId: string): KnownBlob[] {
    const known: KnownBlob[] = [];
    for (const img of this.store.readImages()) {
      const i = img.layers.indexOf(diffId);
      if (i < 0) continue;
      let m: ImageManifest;
      try { m = JSON.parse(this.store.readBlob(img.digest).toString('utf8')) as ImageManifest; } catch { continue; }
      const desc = m.layers?.[i];
      if (!desc || desc.digest === diffId) continue;
      for (const rd of img.repoDigests.length ? img.repoDigests : ['']) known.push({ desc, repository: rd.split('@')[0] || undefined });
    }
    return known;
  }

  async close(): Promise<void> { /* nothing in flight outlives a read */ }
}
