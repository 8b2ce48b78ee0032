// copyImage: the one pipeline behind pull, push, save and load. Layers travel concurrently, each
// reused where the destination has it, compressed on the way where the destination wants it
// compressed and the source has only the plain tar; the image is committed last, after every layer,
// with a manifest rewritten for the blobs as sent. The first failure stops the whole copy: the
// source is closed, so nothing else keeps transferring.
import { TspodError } from '../errors.js';
import { DIGEST, verifyDigest } from '../digest.js';
import type { Descriptor } from '../registry/manifest.js';
import type { ImageDestination, ImageSource, ProgressEvent } from './types.js';
import { LAYER_TYPE, buildManifest, compressionOf, formatOf, type ManifestFormat } from './media.js';

export interface Compressor {
  name: 'gzip' | 'zstd';
  compress(tar: AsyncIterable<Buffer>): AsyncIterable<Buffer>;
}

export interface CopyOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** layers in flight at once */
  concurrency?: number;
  /** how to compress a plain tar for a destination that wants layers compressed */
  compressor?: Compressor;
  /** the manifest format to write (push/save --format); default: the source's */
  format?: ManifestFormat;
}

interface ImageConfig { rootfs?: { type?: string; diff_ids?: unknown }; created?: string }

/** As containers/image bounds them: a config is small, and one that is not is no config. */
const MAX_CONFIG = 4 << 20;

/** Run fn over items, `limit` at a time. The first failure calls onFailure at once and is thrown once every started call has settled. */
async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>, onFailure: () => void): Promise<void> {
  let next = 0;
  let failed: { e: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failed) {
      const item = items[next++];
      try { await fn(item); } catch (e) { if (!failed) { failed = { e }; onFailure(); } }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.e;
}

function malformed(name: string, why: string): TspodError {
  return new TspodError('E_MANIFEST', `${name}: ${why}`, { hint: 'the image is malformed; rebuild or re-push it. Nothing was stored' });
}

export async function copyImage(source: ImageSource, dest: ImageDestination, opts: CopyOptions = {}): Promise<string> {
  const emit = opts.onProgress ?? (() => {});
  const resolved = await source.resolveManifest();
  const m = resolved.manifest;
  emit({ type: 'resolved', name: source.name, digest: resolved.digest, layers: m.layers });
  if (m.config.size > MAX_CONFIG) throw malformed(source.name, `its config is declared as ${m.config.size} bytes, more than the ${MAX_CONFIG} an image config may have`);
  const chunks: Buffer[] = [];
  for await (const c of source.streamBlob(m.config)) chunks.push(c);
  const config = Buffer.concat(chunks);
  verifyDigest(`config of ${source.name}`, config, m.config.digest);
  let parsed: ImageConfig;
  try { parsed = JSON.parse(config.toString('utf8')) as ImageConfig; } catch (e) { throw malformed(source.name, `its config is not JSON (${(e as Error).message})`); }
  const diffIds = parsed.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.some((d) => typeof d !== 'string' || !DIGEST.test(d))) throw malformed(source.name, 'its config\'s rootfs.diff_ids is not a list of sha256 digests');
  // Checked before anything is fetched or reused: layers already in the store prove nothing about this image.
  if (diffIds.length !== m.layers.length) throw malformed(source.name, `the manifest lists ${m.layers.length} layers but the config has ${diffIds.length} diff ids`);
  // A layer listed twice is fetched once; the store keeps one copy per diff id and the image lists it twice.
  const seen = new Set<string>();
  const work = m.layers.map((desc, i) => ({ desc, diffId: diffIds[i] as string })).filter(({ desc, diffId }) => {
    const key = `${desc.digest} ${diffId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const sent = new Map<string, Descriptor>();
  try {
    await runLimited(work, opts.concurrency ?? 4, async ({ desc, diffId }) => {
      const key = `${desc.digest} ${diffId}`;
      const plain = desc.digest === diffId;
      // A blob in another compression than the one asked for is not the layer as the user wants it
      // sent; the source's own plain tar stays a candidate (a destination may hold it already).
      const wanted = dest.layerForm === 'tar' ? 'tar' : dest.layerForm === 'compressed' ? opts.compressor?.name : undefined;
      const fits = (d: Descriptor) => !wanted || compressionOf(d.mediaType) === wanted;
      const known = [...(fits(desc) || plain ? [{ desc }] : []), ...(source.knownBlobs?.(diffId) ?? []).filter((k) => fits(k.desc))];
      const reused = await dest.reuseLayer(diffId, known);
      if (reused) { sent.set(key, reused); emit({ type: 'layer-skip', digest: desc.digest, size: desc.size }); return; }
      if (dest.layerForm === 'tar' && !plain) throw new TspodError('E_USAGE', `${source.name}: layer ${desc.digest} is compressed, and this destination takes plain tars`, { hint: 'save images from the store (pull them first)' });
      // The blob the layer was pulled as is sent as it is rather than compressed again (deflate is most of a push).
      const stored = dest.layerForm === 'compressed' && plain ? await source.compressedBlob?.(diffId, fits) : undefined;
      const from = stored ?? desc;
      const compress = dest.layerForm === 'compressed' && from.digest === diffId;
      if (compress && !opts.compressor) throw new TspodError('E_INTERNAL', 'no compressor for a destination that wants compressed layers');
      const out: Descriptor = compress ? { mediaType: LAYER_TYPE.oci[opts.compressor!.name], digest: '', size: -1 } : from;
      const open = () => compress ? opts.compressor!.compress(source.streamBlob(from)) : source.streamBlob(from);
      emit({ type: 'layer-start', digest: desc.digest, size: desc.size });
      let bytes = 0;
      sent.set(key, await dest.putLayer(out, diffId, open, (n) => {
        bytes += n;
        emit({ type: 'layer-bytes', digest: desc.digest, bytes, size: desc.size });
      }));
      emit({ type: 'layer-done', digest: desc.digest, size: desc.size });
    }, () => { void source.close(); });
  } catch (e) {
    dest.abandon();
    throw e;
  }
  const layers = m.layers.map((desc, i) => sent.get(`${desc.digest} ${diffIds[i] as string}`)!);
  const sourceFormat = formatOf(resolved.mediaType);
  const format = opts.format ?? sourceFormat;
  const changed = format !== sourceFormat || layers.some((l, i) => l.digest !== m.layers[i].digest || l.mediaType !== m.layers[i].mediaType);
  const manifest = changed ? buildManifest(format, m.config, layers, source.name, m.annotations) : resolved;
  const id = await dest.commitImage({ name: source.name, manifest, configDigest: m.config.digest, config, diffIds: diffIds as string[], created: parsed.created });
  emit({ type: 'done', id, config: m.config.digest });
  return id;
}
