// Images out of the store and into it by other ends than a pull: push (store -> registry), and the
// transports' names ("docker://", "oci:", "oci-archive:", "docker-archive:") as Podman spells them.
import fs from 'node:fs';
import { ImageNotFoundError, TspodError, UsageError } from '../errors.js';
import { Store, type ImageRecord } from '../storage/store.js';
import { parseReference, qualify, formatReference, repoName, type Reference } from '../registry/reference.js';
import type { ImageSource, ProgressEvent } from '../copy/types.js';
import type { Descriptor } from '../registry/manifest.js';
import { findImage, tagName } from './images.js';

export interface PushOptions {
  tlsVerify?: boolean;
  /** --cert-dir: the registry's certificates from this directory instead of its certs.d */
  certDir?: string;
  /** manifest format: oci or v2s2 (default: the image's own) */
  format?: 'oci' | 'v2s2';
  compressionFormat?: 'gzip' | 'zstd';
  digestFile?: string;
  authFile?: string;
  credentials?: { username: string; password: string };
  onProgress?: (e: ProgressEvent) => void;
}

export interface PushReport { id: string; destination: string; digest: string }

export type Transport = { kind: 'registry'; ref: Reference } | { kind: 'oci' | 'oci-archive' | 'docker-archive' | 'dir'; path: string; name?: string };

/** "docker://REF", "oci:DIR[:NAME]", "oci-archive:FILE[:NAME]", "docker-archive:FILE[:NAME]", "dir:DIR", or a plain reference. */
export function parseTransport(spec: string): Transport {
  const m = /^(docker|oci|oci-archive|docker-archive|dir):(.*)$/.exec(spec);
  if (!m) return { kind: 'registry', ref: qualified(spec) };
  if (m[1] === 'docker') {
    if (!m[2].startsWith('//')) throw new UsageError(`"${spec}": a docker transport is docker://REFERENCE`, 'e.g. docker://localhost:5000/app:1');
    return { kind: 'registry', ref: qualified(m[2].slice(2)) };
  }
  const [file, ...name] = m[2].split(':');
  if (!file) throw new UsageError(`"${spec}": no path after ${m[1]}:`, `e.g. ${m[1]}:/tmp/image.tar`);
  if (m[1] === 'dir') return { kind: 'dir', path: m[2] };
  return { kind: m[1] as 'oci' | 'oci-archive' | 'docker-archive', path: file, name: name.length ? name.join(':') : undefined };
}

function qualified(input: string): Reference {
  const ref = parseReference(input);
  if (!ref.domain) throw new UsageError(`"${input}" names no registry to push to`, `give one, e.g. localhost:5000/${ref.path}:${ref.tag ?? 'latest'}`);
  return qualify(ref, ref.domain);
}

/** The image's name the user gave (an id gives none). */
const nameGiven = (img: { names: string[] }, input: string) => img.names.find((n) => n === input || n.endsWith(`/${input}`) || n.endsWith(`/${input}:latest`));

/**
 * The store as a push's source, with each pulled layer's compressed blob fetched again from the
 * registry it came from when that registry still has it: a push to another registry then moves
 * the blob as it is, at network speed, instead of compressing the layer again (deflate is most of
 * a push), and the store keeps nothing but the unpacked layer. Without an origin it compresses.
 */
class StoreWithOrigins implements ImageSource {
  private readonly origins = new Map<string, import('../registry/source.js').RegistrySource>();
  /** blob digest -> the origin that has it */
  private readonly blobOrigin = new Map<string, import('../registry/source.js').RegistrySource>();

  constructor(private readonly store: import('../storage/source.js').StoreSource, private readonly originOf: (repository: string) => import('../registry/source.js').RegistrySource) {}
  get name(): string { return this.store.name; }
  resolveManifest() { return this.store.resolveManifest(); }
  knownBlobs(diffId: string) { return this.store.knownBlobs(diffId); }

  async compressedBlob(diffId: string, fits: (d: Descriptor) => boolean): Promise<Descriptor | undefined> {
    for (const k of this.store.knownBlobs(diffId)) {
      if (!k.repository || !fits(k.desc)) continue;
      const origin = this.origins.get(k.repository) ?? this.originOf(k.repository);
      this.origins.set(k.repository, origin);
      if (await origin.hasBlob(k.desc.digest)) { this.blobOrigin.set(k.desc.digest, origin); return k.desc; }
    }
    return undefined;
  }

  streamBlob(desc: Descriptor): AsyncIterable<Buffer> {
    return this.blobOrigin.get(desc.digest)?.streamBlob(desc) ?? this.store.streamBlob(desc);
  }

  async close(): Promise<void> {
    await this.store.close();
    await Promise.all([...this.origins.values()].map((o) => o.close()));
  }
}

export async function pushImage(store: Store, input: string, destination: string | undefined, opts: PushOptions = {}): Promise<PushReport> {
  const img = await findImage(store, input);
  if (!img) throw new ImageNotFoundError(input, 'list the images with tspod images');
  const name = nameGiven(img, input) ?? img.names[0] ?? input;
  const target = parseTransport(destination ?? name);
  if (target.kind !== 'registry') return pushToFiles(store, img, name, target, destination!, opts);
  const [{ StoreSource }, { RegistryDestination }, { RegistrySource }, { copyImage }, { compressor }, { loadRegistriesConfig, registryFor }] = await Promise.all([
    import('../storage/source.js'), import('../registry/destination.js'), import('../registry/source.js'), import('../copy/copy.js'), import('../layers/compress.js'), import('../registry/config.js'),
  ]);
  const ref = target.ref;
  const conf = loadRegistriesConfig();
  const insecure = opts.tlsVerify === false || (opts.tlsVerify === undefined && !!registryFor(conf, ref)?.insecure);
  if (opts.authFile) process.env.REGISTRY_AUTH_FILE = opts.authFile;
  const dest = new RegistryDestination(ref, { insecure, credentials: opts.credentials, certDir: opts.certDir });
  const originOf = (repository: string) => {
    const origin = parseReference(repository);
    return new RegistrySource(origin, { os: 'linux', architecture: 'amd64' }, { insecure: !!registryFor(conf, origin)?.insecure });
  };
  const source = new StoreWithOrigins(new StoreSource(store, img, name), originOf);
  const compression = opts.compressionFormat ?? 'gzip';
  if (compression === 'zstd' && opts.format === 'v2s2') throw new UsageError('--compression-format zstd needs an OCI manifest', 'leave out --format v2s2');
  try {
    const id = await copyImage(source, dest, {
      // One layer at a time: its compression already keeps every core busy (parallelGzip); more layers
      // at once only hold more memory (measured: 2 at once 142 MB and 9.9 s, 1 at once 117 MB and 10.6 s).
      concurrency: 1, compressor: compressor(compression), format: opts.format ?? (compression === 'zstd' ? 'oci' : undefined), onProgress: opts.onProgress,
    });
    const digest = dest.pushedDigest!;
    // RepoDigests holds what the registry has, as Docker records it.
    store.withLock(() => {
      const now = store.readImages().find((i) => i.id === id);
      if (now) store.addImage({ ...now, names: [], repoDigests: [`${repoName(ref)}@${digest}`] });
    });
    if (opts.digestFile) fs.writeFileSync(opts.digestFile, digest);
    (await import('./events.js')).imageEvent('push', id, formatReference(ref));
    return { id, destination: formatReference(ref), digest };
  } finally {
    await Promise.all([dest.close(), source.close()]);
  }
}

/** A push to a directory or archive (dir:, oci:, oci-archive:, docker-archive:): a save there, with push's event. */
async function pushToFiles(store: Store, img: ImageRecord, name: string, target: Exclude<Transport, { kind: 'registry' }>, spec: string, opts: PushOptions): Promise<PushReport> {
  if (target.kind === 'dir') {
    const [{ StoreSource }, { copyImage }, { compressor }, { OciLayoutDestination }] = await Promise.all([
      import('../storage/source.js'), import('../copy/copy.js'), import('../layers/compress.js'), import('../archive/oci-layout.js')]);
    await copyImage(new StoreSource(store, img, name), new OciLayoutDestination(target.path, undefined, false, 'dir'), { concurrency: 1, compressor: compressor(opts.compressionFormat ?? 'gzip'), format: opts.format ?? 'v2s2', onProgress: opts.onProgress });
  } else {
    await saveImages(store, [name, ...(target.name ? [target.name] : [])], { output: target.path, format: target.kind === 'oci' ? 'oci-dir' : target.kind, compressionFormat: opts.compressionFormat, onProgress: opts.onProgress, quietEvents: true });
  }
  (await import('./events.js')).imageEvent('push', img.id, spec);
  return { id: img.id, destination: spec, digest: '' };
}

export type SaveFormat = 'docker-archive' | 'oci-archive' | 'oci-dir' | 'docker-dir';

export interface SaveOptions {
  /** a file (or a directory for oci-dir); stdout when not given */
  output?: string;
  format?: SaveFormat;
  /** -m: every argument is an image of a multi-image docker-archive */
  multiImage?: boolean;
  /** oci formats: plain layer tars */
  uncompressed?: boolean;
  compressionFormat?: 'gzip' | 'zstd';
  /** no save event (a push to files says push) */
  quietEvents?: boolean;
  onProgress?: (e: ProgressEvent) => void;
}

/** Writes to a file (staged beside it, renamed at the end) or to stdout, waiting on back-pressure. */
export function outputSink(output: string | undefined): { write(c: Buffer): Promise<void>; done(): Promise<void>; fail(): void } {
  const file = output ? `${output}.tspod-${process.pid}.tmp` : undefined;
  // A deep buffer lets the writes (libuv's thread pool) run while the main thread reads and hashes
  // the next bodies: with the default 16 KiB the two took turns (save 1.1 s -> see README).
  // Opened here, so that a directory one can't write to is said at once, not in a stream's error.
  let fd: number | undefined;
  if (file) {
    try { fd = fs.openSync(file, 'w', 0o644); } catch (e) {
      throw new TspodError('E_SAVE', `cannot write ${output}: ${(e as Error).message.replace(/, open .*$/, '')}`, { hint: 'give -o a path in a directory you can write' });
    }
  }
  const stream = fd !== undefined ? fs.createWriteStream('', { fd, highWaterMark: 4 << 20 }) : process.stdout;
  let failed: Error | undefined;
  const waiting = new Set<(e: Error) => void>();
  stream.on('error', (e) => {
    failed = new TspodError('E_SAVE', `cannot write ${output ?? 'to stdout'}: ${e.message.replace(/, write$/, '')}`, { hint: output ? 'nothing was saved; free some space or write elsewhere' : 'what went out is incomplete; free some space or write elsewhere' });
    for (const w of waiting) w(failed);
  });
  return {
    write: (c) => new Promise((resolve, reject) => {
      if (failed) return reject(failed);
      if (stream.write(c)) return resolve();
      // A write that fails (a full disk) ends the stream with 'error' and never a 'drain'.
      const onError = (e: Error) => { waiting.delete(onError); reject(e); };
      waiting.add(onError);
      stream.once('drain', () => { waiting.delete(onError); if (failed) reject(failed); else resolve(); });
    }),
    done: () => new Promise((resolve, reject) => {
      if (!file) return resolve();
      (stream as fs.WriteStream).end(() => { if (failed) return reject(failed); fs.renameSync(file, output!); resolve(); });
    }),
    fail: () => { if (file) { (stream as fs.WriteStream).destroy(); fs.rmSync(file, { force: true }); } },
  };
}

export async function saveImages(store: Store, inputs: string[], opts: SaveOptions = {}): Promise<void> {
  const format = opts.format ?? 'docker-archive';
  if (format === 'docker-dir') throw new UsageError('--format docker-dir is not supported', 'use docker-archive, oci-archive or oci-dir');
  if (opts.multiImage && format !== 'docker-archive') throw new UsageError('--multi-image-archive (-m) is only for docker-archive');
  if (!opts.output && format === 'oci-dir') throw new UsageError('--format oci-dir needs -o DIRECTORY');
  if (!opts.output && process.stdout.isTTY) throw new UsageError('refusing to save to a terminal', 'use -o FILE, or redirect the output');
  // Without -m, further arguments are more names for the first image.
  const found = [];
  for (const input of opts.multiImage ? inputs : inputs.slice(0, 1)) {
    const img = await findImage(store, input);
    if (!img) throw new ImageNotFoundError(input, 'list the images with tspod images');
    found.push({ img, input });
  }
  const [{ StoreSource }, { copyImage }, { compressor }] = await Promise.all([import('../storage/source.js'), import('../copy/copy.js'), import('../layers/compress.js')]);
  const copyOpts = { concurrency: 1, compressor: compressor(opts.compressionFormat ?? 'gzip'), onProgress: opts.onProgress };

  if (format === 'docker-archive') {
    const { DockerArchiveWriter } = await import('../archive/docker-archive.js');
    const sink = outputSink(opts.output);
    const writer = new DockerArchiveWriter(sink.write);
    try {
      for (const [i, { img, input }] of found.entries()) {
        const name = nameGiven(img, input);
        const extra = !opts.multiImage && i === 0 ? inputs.slice(1).map(tagName) : [];
        const names = [...(name ? [name] : []), ...extra];
        await copyImage(new StoreSource(store, img, name ?? img.id), writer.image(names), { ...copyOpts, format: 'v2s2' });
      }
      await writer.finish();
      await sink.done();
    } catch (e) { sink.fail(); throw e; }
    for (const { img } of found) await saved(img.id, opts.output, opts);
    return;
  }

  const { OciLayoutDestination, tarDirectory } = await import('../archive/oci-layout.js');
  const { img, input } = found[0];
  const name = nameGiven(img, input);
  const dir = format === 'oci-dir' ? opts.output! : store.stagingDir();
  try {
    await copyImage(new StoreSource(store, img, name ?? img.id), new OciLayoutDestination(dir, name, opts.uncompressed), { ...copyOpts, format: 'oci' });
    if (format === 'oci-archive') {
      const sink = outputSink(opts.output);
      try { await tarDirectory(dir, sink.write); await sink.done(); } catch (e) { sink.fail(); throw e; }
    }
    await saved(img.id, opts.output, opts);
  } finally {
    if (format === 'oci-archive') fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The save event, as Podman's log has it: the image and where it went (stdout: "-"). */
const saved = async (id: string, output: string | undefined, o: SaveOptions) => { if (!o.quietEvents) (await import('./events.js')).imageEvent('save', id, output ?? '-'); };

export interface LoadReport { names: string[]; ids: string[] }

/** docker-archive or oci-archive from a file or stdin ('-'), compressed or not; every image in it. */
export async function loadImages(store: Store, input: string, opts: { onProgress?: (e: ProgressEvent) => void; onWarning?: (m: string) => void; pulledAs?: string } = {}): Promise<LoadReport> {
  const [{ plainArchive, TarIndex, ArchiveError }, { StoreDestination }, { copyImage }] = await Promise.all([
    import('../archive/tar-index.js'), import('../storage/destination.js'), import('../copy/copy.js'),
  ]);
  store.init();
  const tmp = store.stagingDir();
  const label = input === '-' ? 'the archive on stdin' : input;
  try {
    let index: Awaited<ReturnType<typeof TarIndex.of>>;
    try {
      const plain = await plainArchive(input, tmp);
      index = await TarIndex.of(plain.file, label);
    } catch (e) {
      if (e instanceof ArchiveError) throw new TspodError('E_ARCHIVE', `payload does not match any of the supported image formats: ${e.message}`, { hint: 'give a docker-archive or oci-archive (as tspod save writes them), gzip or zstd compressed or not; nothing was loaded' });
      throw e;
    }
    const loaded: Array<{ id: string; names: string[] }> = [];
    const normalize = (n: string) => { try { const r = parseReference(n); return formatReference(qualify(r, r.domain || 'docker.io')); } catch { return undefined; } };
    if (index.has('manifest.json')) {
      const { dockerArchiveEntries, DockerArchiveSource } = await import('../archive/docker-archive.js');
      for (const entry of dockerArchiveEntries(index)) {
        const names = (entry.RepoTags ?? []).map(normalize).filter((n): n is string => !!n);
        const id = await copyImage(new DockerArchiveSource(index, entry, names[0] ?? ''), new StoreDestination(store, opts.onWarning), { concurrency: 2, onProgress: opts.onProgress });
        loaded.push({ id, names });
      }
    } else if (index.has('index.json')) {
      const { layoutImages, OciLayoutSource } = await import('../archive/oci-layout.js');
      for (const { desc, name } of layoutImages(index)) {
        const full = name && /[/:]/.test(name) ? normalize(name) : undefined;
        const id = await copyImage(new OciLayoutSource(index, desc, full ?? ''), new StoreDestination(store, opts.onWarning), { concurrency: 2, onProgress: opts.onProgress });
        loaded.push({ id, names: full ? [full] : [] });
      }
    } else {
      throw new TspodError('E_ARCHIVE', `payload does not match any of the supported image formats: ${label} has neither manifest.json (docker-archive) nor index.json (oci-archive)`, { hint: 'nothing was loaded' });
    }
    store.withLock(() => { for (const l of loaded) for (const n of l.names.slice(1)) store.tag(l.id, n); });
    // Podman 4.3's event for the archive, without an image id (a pull of docker-archive: is a pull of it).
    (await import('./events.js')).imageEvent(opts.pulledAs ? 'pull' : 'loadfromarchive', '', opts.pulledAs ?? input);
    return { names: loaded.flatMap((l) => (l.names.length ? l.names : [`sha256:${l.id}`])), ids: loaded.map((l) => l.id) };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
