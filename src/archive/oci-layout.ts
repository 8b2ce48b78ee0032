// OCI image layouts (oci:DIR) and oci-archive (the same layout in a tar): index.json, oci-layout,
// blobs/sha256/HEX. Read from a directory or straight from the archive's tar index; written into a
// directory (an oci-archive is then that directory, tarred).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DigestMismatchError } from '../errors.js';
import { sha256 } from '../digest.js';
import { ArchiveError, type TarIndex } from './tar-index.js';
import { tarHeader, padding, TAR_END } from '../layers/tar-writer.js';
import { kindOf, parseManifest, selectPlatform, hostPlatform, type Descriptor, type ImageIndex } from '../registry/manifest.js';
import type { ImageDestination, ImageSource, KnownBlob, ResolvedManifest } from '../copy/types.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';

/** What a layout is read through: its directory, or the archive's index. */
export interface Members {
  readonly label: string;
  has(name: string): boolean;
  read(name: string): Buffer;
  stream(name: string): AsyncIterable<Buffer>;
}

export class DirMembers implements Members {
  constructor(private readonly dir: string, readonly label = dir) {}
  has(name: string): boolean { try { return fs.statSync(path.join(this.dir, name)).isFile(); } catch { return false; } }
  read(name: string): Buffer {
    try { return fs.readFileSync(path.join(this.dir, name)); } catch { throw new ArchiveError(this.label, `it has no file ${name}`); }
  }
  stream(name: string): AsyncIterable<Buffer> {
    if (!this.has(name)) throw new ArchiveError(this.label, `it has no file ${name}`);
    return fs.createReadStream(path.join(this.dir, name), { highWaterMark: 1 << 20 });
  }
}

export const tarMembers = (index: TarIndex): Members => index;

const blobName = (digest: string) => `blobs/${digest.replace(':', '/')}`;

function readJson<T>(m: Members, name: string): T {
  try { return JSON.parse(m.read(name).toString('utf8')) as T; } catch (e) {
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError(m.label, `${name} is not JSON`);
  }
}

/** The images an index.json lists, with the names their annotations give. */
export function layoutImages(m: Members): Array<{ desc: Descriptor & { annotations?: Record<string, string> }; name?: string }> {
  if (!m.has('index.json')) throw new ArchiveError(m.label, 'it has no index.json: it is no OCI layout');
  const index = readJson<ImageIndex & { manifests: Array<Descriptor & { annotations?: Record<string, string> }> }>(m, 'index.json');
  if (!Array.isArray(index.manifests) || !index.manifests.length) throw new ArchiveError(m.label, 'its index.json lists no image');
  return index.manifests.map((desc) => ({ desc, name: (desc as { annotations?: Record<string, string> }).annotations?.[REF_NAME] }));
}

export class OciLayoutSource implements ImageSource {
  constructor(private readonly m: Members, private readonly desc: Descriptor, readonly name: string) {}

  private blob(digest: string): Buffer {
    const b = this.m.read(blobName(digest));
    if (sha256(b) !== digest) throw new DigestMismatchError(`blob ${digest} of ${this.m.label}`, digest, sha256(b));
    return b;
  }

  async resolveManifest(): Promise<ResolvedManifest> {
    let desc = this.desc;
    let body = this.blob(desc.digest);
    if (kindOf(desc.mediaType, body) === 'index') {
      desc = selectPlatform(JSON.parse(body.toString('utf8')) as ImageIndex, hostPlatform(), this.name);
      body = this.blob(desc.digest);
    }
    const manifest = parseManifest(body, `${this.m.label}`);
    return { digest: desc.digest, mediaType: manifest.mediaType ?? desc.mediaType, body, manifest };
  }

  streamBlob(desc: Descriptor): AsyncIterable<Buffer> { return this.m.stream(blobName(desc.digest)); }

  async close(): Promise<void> { /* nothing held open */ }
}

/** Writes images into an OCI layout directory; blobs it has already are not written again. */
/**
 * An OCI layout directory (index.json, blobs/sha256/HEX), or with `dir` containers/image's dir:
 * transport (one image: manifest.json, a version file, every blob as HEX in the directory itself).
 */
export class OciLayoutDestination implements ImageDestination {
  readonly layerForm: 'compressed' | 'tar';
  private readonly blobPath: (digest: string) => string;

  /** `uncompressed`: layers as plain tars (save --uncompressed) */
  constructor(private readonly dir: string, private readonly refName?: string, uncompressed = false, private readonly layout: 'oci' | 'dir' = 'oci') {
    this.layerForm = uncompressed ? 'tar' : 'compressed';
    this.blobPath = layout === 'dir' ? (d) => d.slice(d.indexOf(':') + 1) : blobName;
    fs.mkdirSync(path.join(dir, layout === 'dir' ? '' : 'blobs/sha256'), { recursive: true });
    if (layout === 'dir') fs.writeFileSync(path.join(dir, 'version'), 'Directory Transport Version: 1.1\n');
    else fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}');
  }

  private has(digest: string): boolean { return fs.existsSync(path.join(this.dir, this.blobPath(digest))); }

  async reuseLayer(_diffId: string, known: KnownBlob[]): Promise<Descriptor | undefined> {
    return known.find((k) => this.has(k.desc.digest))?.desc;
  }

  async putLayer(desc: Descriptor, _diffId: string, open: () => AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<Descriptor> {
    const tmp = path.join(this.dir, path.dirname(this.blobPath('sha256:x')), `.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
    const h = crypto.createHash('sha256');
    let size = 0;
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      for await (const c of open()) { h.update(c); size += c.length; onBytes(c.length); fs.writeSync(fd, c); }
    } catch (e) {
      fs.closeSync(fd); fs.rmSync(tmp, { force: true });
      throw e;
    }
    fs.closeSync(fd);
    const digest = `sha256:${h.digest('hex')}`;
    if (desc.digest && digest !== desc.digest) { fs.rmSync(tmp, { force: true }); throw new DigestMismatchError(`blob ${desc.digest}`, desc.digest, digest); }
    fs.renameSync(tmp, path.join(this.dir, this.blobPath(digest)));
    return { mediaType: desc.mediaType, digest, size };
  }

  abandon(): void { /* the caller removes what it made */ }

  private putBlob(body: Buffer): string {
    const digest = sha256(body);
    if (!this.has(digest)) fs.writeFileSync(path.join(this.dir, this.blobPath(digest)), body);
    return digest;
  }

  async commitImage(args: { manifest: ResolvedManifest; configDigest: string; config: Buffer }): Promise<string> {
    this.putBlob(args.config);
    if (this.layout === 'dir') {
      fs.writeFileSync(path.join(this.dir, 'manifest.json'), args.manifest.body);
      return args.configDigest.slice(7);
    }
    const digest = this.putBlob(args.manifest.body);
    const indexFile = path.join(this.dir, 'index.json');
    let index: { schemaVersion: number; manifests: Array<Descriptor & { annotations?: Record<string, string> }> } = { schemaVersion: 2, manifests: [] };
    try { index = JSON.parse(fs.readFileSync(indexFile, 'utf8')); } catch { /* a new layout */ }
    // The name moves to this image, as a tag does.
    index.manifests = index.manifests.filter((d) => !(this.refName && d.annotations?.[REF_NAME] === this.refName) && d.digest !== digest);
    index.manifests.push({ mediaType: args.manifest.mediaType, digest, size: args.manifest.body.length, ...(this.refName ? { annotations: { [REF_NAME]: this.refName } } : {}) });
    fs.writeFileSync(indexFile, JSON.stringify(index));
    return args.configDigest.slice(7);
  }
}

/** A directory as a tar stream (oci-archive): every file under it, directories first. */
export async function tarDirectory(dir: string, out: (chunk: Buffer) => Promise<void>): Promise<void> {
  const walk = async (rel: string): Promise<void> => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const name = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) { await out(tarHeader({ name: `${name}/`, type: 'directory', mode: 0o755, mtime: 0 })); await walk(name); continue; }
      const size = fs.statSync(path.join(dir, name)).size;
      await out(tarHeader({ name, type: 'file', mode: 0o644, size, mtime: 0 }));
      for await (const c of fs.createReadStream(path.join(dir, name), { highWaterMark: 1 << 20 })) await out(c as Buffer);
      await out(padding(size));
    }
  };
  await walk('');
  await out(TAR_END);
}
