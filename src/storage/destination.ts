// The store as an image destination: layers are verified while they stream (compressed digest and
// diff id), unpacked into staging, and renamed into place only when both digests match.
import fs from 'node:fs';
import path from 'node:path';
import { DigestMismatchError } from '../errors.js';
import { isRootless } from '../paths.js';
import { Store } from './store.js';
import { unpackLayerStream } from './layer-stream.js';
import type { Descriptor } from '../registry/manifest.js';
import type { ImageDestination, ResolvedManifest } from '../copy/types.js';

async function* counted(source: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const c of source) { onBytes(c.length); yield c; }
}

export class StoreDestination implements ImageDestination {
  constructor(private readonly store: Store, private readonly onWarning: (m: string) => void = () => {}) {}

  hasLayer(diffId: string): boolean { return this.store.hasLayer(diffId); }

  async putLayer(desc: Descriptor, diffId: string, compressed: AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<void> {
    const staging = this.store.stagingDir();
    try {
      const diff = path.join(staging, 'diff');
      fs.mkdirSync(diff, { mode: 0o755 });
      const got = await unpackLayerStream(counted(compressed, onBytes), diff, {
        digest: desc.digest,
        overlayXattrPrefix: isRootless() ? 'user.overlay.' : 'trusted.overlay.',
        onWarning: this.onWarning,
      });
      if (got.compressedDigest !== desc.digest) throw new DigestMismatchError(`layer ${desc.digest}`, desc.digest, got.compressedDigest);
      if (got.diffDigest !== diffId) throw new DigestMismatchError(`layer ${desc.digest} (uncompressed, rootfs.diff_ids)`, diffId, got.diffDigest);
      this.store.commitLayer(staging, diffId, got.size);
    } catch (e) {
      this.store.discard(staging);
      throw e;
    }
  }

  async commitImage(args: { name: string; manifest: ResolvedManifest; configDigest: string; config: Buffer; diffIds: string[]; created?: string }): Promise<string> {
    const id = args.configDigest.slice('sha256:'.length);
    this.store.putBlob(args.configDigest, args.config);
    this.store.putBlob(args.manifest.digest, args.manifest.body);
    const repo = args.name.replace(/(:[\w][\w.-]*)?(@sha256:[a-f0-9]+)?$/, '');
    const hasTag = /:[\w][\w.-]*$/.test(args.name.replace(/@sha256:[a-f0-9]+$/, '').slice(repo.length));
    this.store.withLock(() => this.store.addImage({
      id,
      names: hasTag ? [args.name.replace(/@sha256:[a-f0-9]+$/, '')] : [],
      digest: args.manifest.digest,
      repoDigests: [`${repo}@${args.manifest.digest}`],
      layers: args.diffIds,
      created: args.created,
      size: args.diffIds.reduce((n, d) => n + this.store.layerSize(d), 0),
      manifestMediaType: args.manifest.mediaType,
      pulled: new Date().toISOString(),
    }));
    return id;
  }
}
