// copyImage: the one pipeline behind pull (and later push, load, save). Layers are fetched,
// decompressed and unpacked concurrently; the image is committed last, after every layer.
import { TspodError } from '../errors.js';
import { verifyDigest } from '../digest.js';
import type { ImageDestination, ImageSource, ProgressEvent } from './types.js';

export interface CopyOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** layers in flight at once */
  concurrency?: number;
}

interface ImageConfig { rootfs?: { type?: string; diff_ids?: string[] }; created?: string }

async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++];
      try { await fn(item); } catch (e) { failed ??= e; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

export async function copyImage(source: ImageSource, dest: ImageDestination, opts: CopyOptions = {}): Promise<string> {
  const emit = opts.onProgress ?? (() => {});
  const resolved = await source.resolveManifest();
  const m = resolved.manifest;
  emit({ type: 'resolved', name: source.name, digest: resolved.digest, layers: m.layers });
  const config = await source.getBlob(m.config.digest);
  verifyDigest(`config of ${source.name}`, config, m.config.digest);
  const parsed = JSON.parse(config.toString('utf8')) as ImageConfig;
  const diffIds = parsed.rootfs?.diff_ids ?? [];
  if (diffIds.length !== m.layers.length) {
    throw new TspodError('E_MANIFEST', `${source.name}: the manifest lists ${m.layers.length} layers but the config has ${diffIds.length} diff ids`, { hint: 'the image is malformed; rebuild or re-push it' });
  }
  const work = m.layers.map((desc, i) => ({ desc, diffId: diffIds[i] }));
  await runLimited(work, opts.concurrency ?? 4, async ({ desc, diffId }) => {
    if (dest.hasLayer(diffId)) { emit({ type: 'layer-skip', digest: desc.digest, size: desc.size }); return; }
    emit({ type: 'layer-start', digest: desc.digest, size: desc.size });
    let bytes = 0;
    await dest.putLayer(desc, diffId, source.streamBlob(desc), (n) => {
      bytes += n;
      emit({ type: 'layer-bytes', digest: desc.digest, bytes, size: desc.size });
    });
    emit({ type: 'layer-done', digest: desc.digest, size: desc.size });
  });
  const id = await dest.commitImage({ name: source.name, manifest: resolved, configDigest: m.config.digest, config, diffIds, created: parsed.created });
  emit({ type: 'done', id });
  return id;
}
