// The store as an image destination: layers are verified while they stream (compressed digest and
// diff id), unpacked into staging, and renamed into place only when both digests match.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DigestMismatchError, TspodError } from '../errors.js';
import { isRootless } from '../paths.js';
import { mark } from '../trace.js';
import { Store } from './store.js';
import { unpackLayerStream, type UnpackedLayer } from './layer-stream.js';
import { LAYOUT_FILE, LayoutRecorder } from './tar-layout.js';
import type { Descriptor } from '../registry/manifest.js';
import type { ImageDestination, KnownBlob, ResolvedManifest } from '../copy/types.js';

async function* counted(source: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const c of source) { onBytes(c.length); yield c; }
}

const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EIO: 'input/output error', EROFS: 'read-only file system',
  EACCES: 'permission denied', EPERM: 'operation not permitted', EMFILE: 'too many open files', ENAMETOOLONG: 'file name too long',
};

/** A file system failure while storing, said in words with the store's path; tspod's own errors pass as they are. */
export function storageFailure(what: string, e: unknown, root: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (e instanceof TspodError || !code || !ERRNO_WORDS[code]) return e;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new TspodError('E_STORAGE', `${what} could not be stored: ${ERRNO_WORDS[code]} (${code}) in ${root}`, {
    hint: full ? `free space in ${root} (tspod rmi removes images), or set TSPOD_STORE to a store elsewhere; nothing was stored` : `check ${root} and its file system; nothing was stored`,
    cause: e,
  });
}

export class StoreDestination implements ImageDestination {
  /** layers this copy added to the store: if the image can't be recorded, they go again */
  private readonly committed: string[] = [];

  /** `built`: the images are made here (build, commit, import), their manifests tspod's own */
  constructor(private readonly store: Store, private readonly onWarning: (m: string) => void = () => {}, private readonly opts: { built?: boolean } = {}) {}

  readonly layerForm = 'any' as const;

  async reuseLayer(diffId: string, known: KnownBlob[]): Promise<Descriptor | undefined> {
    return this.store.hasLayer(diffId) ? known[0]?.desc ?? { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffId, size: this.store.layerSize(diffId) } : undefined;
  }

  async putLayer(desc: Descriptor, diffId: string, open: () => AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<Descriptor> {
    const got = await this.unpackNew(`layer ${desc.digest}`, desc.digest, counted(open(), onBytes), (g) => {
      if (desc.digest && g.compressedDigest !== desc.digest) throw new DigestMismatchError(`layer ${desc.digest}`, desc.digest, g.compressedDigest);
      if (g.diffDigest !== diffId) throw new DigestMismatchError(`layer ${desc.digest} (uncompressed, rootfs.diff_ids)`, diffId, g.diffDigest);
    });
    return { mediaType: desc.mediaType, digest: got.compressedDigest, size: desc.size };
  }

  /**
   * A layer made here (commit, import): whatever the plain tar stream hashes to is its diff id, so
   * it is written once, not hashed first and streamed again. It goes if the image is not recorded.
   */
  async addLayer(open: () => AsyncIterable<Buffer>): Promise<string> {
    return (await this.unpackNew('the new layer', 'the new layer', open(), () => {})).diffDigest;
  }

  /**
   * A directory becomes a layer as it is (build's RUN: the finished container's upper dir, in the
   * store's own whiteout format): `write` streams its tar once, to hash the diff id and record the
   * layout, and the directory is moved in, not copied. It goes if the image is not recorded.
   */
  async adoptLayer(dir: string, write: (layout: LayoutRecorder) => AsyncIterable<Buffer>): Promise<string> {
    const staging = this.store.stagingDir();
    try {
      const layout = new LayoutRecorder();
      const hash = crypto.createHash('sha256');
      for await (const chunk of write(layout)) hash.update(chunk);
      mark('layer: written and hashed');
      const diffId = `sha256:${hash.digest('hex')}`;
      layout.write(path.join(staging, LAYOUT_FILE));
      fs.renameSync(dir, path.join(staging, 'diff'));
      this.store.commitLayer(staging, diffId, layout.bodyBytes);
      mark('layer: moved in');
      this.committed.push(diffId);
      return diffId;
    } catch (e) {
      this.store.discard(staging);
      throw storageFailure('the new layer', e, this.store.root);
    }
  }

  /** Unpack a layer stream into staging, let `check` refuse it, and move it into the store under its diff id. */
  private async unpackNew(what: string, digest: string, stream: AsyncIterable<Buffer>, check: (got: UnpackedLayer) => void): Promise<UnpackedLayer> {
    const staging = this.store.stagingDir();
    try {
      const diff = path.join(staging, 'diff');
      fs.mkdirSync(diff, { mode: 0o755 });
      const got = await unpackLayerStream(stream, diff, {
        digest,
        overlayXattrPrefix: isRootless() ? 'user.overlay.' : 'trusted.overlay.',
        onWarning: this.onWarning,
        layoutFile: path.join(staging, LAYOUT_FILE),
      });
      check(got);
      this.store.commitLayer(staging, got.diffDigest, got.size);
      this.committed.push(got.diffDigest);
      return got;
    } catch (e) {
      this.store.discard(staging);
      throw storageFailure(what, e, this.store.root);
    }
  }

  async commitImage(args: { name: string; manifest: ResolvedManifest; configDigest: string; config: Buffer; diffIds: string[]; created?: string }): Promise<string> {
    const id = args.configDigest.slice('sha256:'.length);
    try {
      this.store.putBlob(args.configDigest, args.config);
      this.store.putBlob(args.manifest.digest, args.manifest.body);
      this.record(id, args);
    } catch (e) {
      this.abandon();
      throw storageFailure(`image ${id.slice(0, 12)}`, e, this.store.root);
    }
    return id;
  }

  abandon(): void {
    try { this.store.withLock(() => this.store.removeUnusedLayers(this.committed)); } catch { /* the disk may be in no state for it */ }
  }

  private record(id: string, args: { name: string; manifest: ResolvedManifest; diffIds: string[]; created?: string }): void {
    const repo = args.name.replace(/(:[\w][\w.-]*)?(@sha256:[a-f0-9]+)?$/, '');
    const hasTag = /:[\w][\w.-]*$/.test(args.name.replace(/@sha256:[a-f0-9]+$/, '').slice(repo.length));
    this.store.withLock(() => {
      // Another pull that failed may have taken back a layer this one found present and skipped.
      const gone = args.diffIds.find((d) => !this.store.hasLayer(d));
      if (gone) throw new TspodError('E_LAYER_GONE', `layer ${gone} left the store while this pull ran (a parallel pull failed and took it back)`, { hint: 'pull again' });
      this.store.addImage({
        id,
        names: hasTag ? [args.name.replace(/@sha256:[a-f0-9]+$/, '')] : [],
        digest: args.manifest.digest,
        // An image loaded without a name has no repository to list its digest under.
        repoDigests: repo ? [`${repo}@${args.manifest.digest}`] : [],
        layers: args.diffIds,
        created: args.created,
        size: args.diffIds.reduce((n, d) => n + this.store.layerSize(d), 0),
        manifestMediaType: args.manifest.mediaType,
        ...(this.opts.built ? { built: true } : {}),
        pulled: new Date().toISOString(),
      });
    });
  }
}
