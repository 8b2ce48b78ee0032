// docker-archive, as `docker save` and `podman save` write it: manifest.json listing each image's
// config and layer tars (plain), the config as HEX.json, each layer as HEX.tar (the diff id's hex),
// and `repositories`. Read back, any layout with a manifest.json is accepted (Docker 25's too).
import crypto from 'node:crypto';
import { DigestMismatchError } from '../errors.js';
import { sha256 } from '../digest.js';
import { LAYER_TYPE, buildManifest, compressionOf } from '../copy/media.js';
import { padding, tarHeader, TAR_END } from '../layers/tar-writer.js';
import { ArchiveError, type TarIndex } from './tar-index.js';
import { compressionOfBytes } from '../storage/layer-stream.js';
import type { Descriptor } from '../registry/manifest.js';
import type { ImageDestination, ImageSource, KnownBlob, ResolvedManifest } from '../copy/types.js';

export interface DockerArchiveEntry { Config: string; RepoTags?: string[] | null; Layers: string[] }


export function dockerArchiveEntries(index: TarIndex): DockerArchiveEntry[] {
  const entries = index.json<DockerArchiveEntry[]>('manifest.json');
  if (!Array.isArray(entries) || !entries.length || entries.some((e) => typeof e?.Config !== 'string' || !Array.isArray(e.Layers))) {
    throw new ArchiveError(index.label, 'its manifest.json is not a list of images with Config and Layers');
  }
  return entries;
}

/** One image of a docker-archive. Layers that are plain tars are listed by their diff id. */
export class DockerArchiveSource implements ImageSource {
  private manifest?: ResolvedManifest;
  private readonly paths = new Map<string, string>();

  constructor(private readonly index: TarIndex, private readonly entry: DockerArchiveEntry, readonly name: string) {}

  async resolveManifest(): Promise<ResolvedManifest> {
    if (this.manifest) return this.manifest;
    const config = this.index.read(this.entry.Config);
    const diffIds = (JSON.parse(config.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
    const layers: Descriptor[] = [];
    for (const [i, p] of this.entry.Layers.entries()) {
      let compression: 'gzip' | 'zstd' | null = null;
      for await (const c of this.index.stream(p)) { compression = compressionOfBytes(c); break; }
      // A plain layer tar's digest is its diff id, checked while it is stored; a compressed one is hashed here.
      let digest = diffIds[i] ?? '';
      if (compression || !digest) {
        const h = crypto.createHash('sha256');
        for await (const c of this.index.stream(p)) h.update(c);
        digest = `sha256:${h.digest('hex')}`;
      }
      this.paths.set(digest, p);
      layers.push({ mediaType: LAYER_TYPE.oci[compression ?? 'tar'], digest, size: this.index.size(p) });
    }
    const configDigest = sha256(config);
    this.paths.set(configDigest, this.entry.Config);
    // Docker's format, unless a zstd layer needs OCI's.
    const format = layers.some((l) => compressionOf(l.mediaType) === 'zstd') ? 'oci' : 'v2s2';
    this.manifest = buildManifest(format, { digest: configDigest, size: config.length }, layers, this.name);
    return this.manifest;
  }

  streamBlob(desc: Descriptor): AsyncIterable<Buffer> {
    const p = this.paths.get(desc.digest);
    if (!p) throw new ArchiveError(this.index.label, `no member holds ${desc.digest}`);
    return this.index.stream(p);
  }

  async close(): Promise<void> { /* the index holds no descriptor open */ }
}

/**
 * Writes a docker-archive to a stream, one image after another (save -m): layers as they come
 * (the copier sends them one at a time), each once; manifest.json and repositories at the end.
 */
export class DockerArchiveWriter {
  private readonly written = new Set<string>();
  private readonly entries: DockerArchiveEntry[] = [];
  private readonly repositories: Record<string, Record<string, string>> = {};

  constructor(private readonly out: (chunk: Buffer) => Promise<void>) {}

  private async member(name: string, body: Buffer): Promise<void> {
    await this.out(Buffer.concat([tarHeader({ name, type: 'file', mode: 0o644, size: body.length, mtime: 0 }), body, padding(body.length)]));
  }

  /** A destination for one image, naming it with `names` (RepoTags). */
  image(names: string[]): ImageDestination {
    const writer = this;
    return {
      layerForm: 'tar',
      async reuseLayer(diffId: string, known: KnownBlob[]): Promise<Descriptor | undefined> {
        return writer.written.has(diffId) ? known[0]?.desc : undefined;
      },
      async putLayer(desc: Descriptor, diffId: string, open: () => AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<Descriptor> {
        const name = `${diffId.slice(7)}.tar`;
        await writer.out(tarHeader({ name, type: 'file', mode: 0o644, size: desc.size, mtime: 0 }));
        const h = crypto.createHash('sha256');
        let n = 0;
        for await (const c of open()) {
          n += c.length;
          if (n > desc.size) throw new ArchiveError('the image being saved', `layer ${diffId} is longer than its ${desc.size} bytes`);
          h.update(c); onBytes(c.length); await writer.out(c);
        }
        if (n !== desc.size) throw new ArchiveError('the image being saved', `layer ${diffId} ended after ${n} of its ${desc.size} bytes`);
        const got = `sha256:${h.digest('hex')}`;
        if (got !== diffId) throw new DigestMismatchError(`layer ${diffId}`, diffId, got);
        await writer.out(padding(n));
        writer.written.add(diffId);
        return desc;
      },
      abandon() { /* the caller discards the whole output */ },
      async commitImage(args: { configDigest: string; config: Buffer; diffIds: string[] }): Promise<string> {
        const hex = args.configDigest.slice(7);
        const configName = `${hex}.json`;
        if (!writer.written.has(configName)) { await writer.member(configName, args.config); writer.written.add(configName); }
        writer.entries.push({ Config: configName, RepoTags: names, Layers: args.diffIds.map((d) => `${d.slice(7)}.tar`) });
        for (const n of names) {
          const at = n.lastIndexOf(':');
          (writer.repositories[n.slice(0, at)] ??= {})[n.slice(at + 1)] = args.diffIds[args.diffIds.length - 1]?.slice(7) ?? hex;
        }
        return hex;
      },
    };
  }

  async finish(): Promise<void> {
    await this.member('manifest.json', Buffer.from(JSON.stringify(this.entries)));
    await this.member('repositories', Buffer.from(JSON.stringify(this.repositories)));
    await this.out(TAR_END);
  }
}
