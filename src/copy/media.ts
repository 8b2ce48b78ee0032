// The media types images are written with, and the manifest over a config and its layer blobs in
// either format: the one place sources and the copier build manifests.
import { sha256 } from '../digest.js';
import { TspodError } from '../errors.js';
import type { Descriptor, ImageManifest } from '../registry/manifest.js';
import type { ResolvedManifest } from './types.js';

export type ManifestFormat = 'oci' | 'v2s2';

export const MANIFEST_TYPE = { oci: 'application/vnd.oci.image.manifest.v1+json', v2s2: 'application/vnd.docker.distribution.manifest.v2+json' } as const;
export const CONFIG_TYPE = { oci: 'application/vnd.oci.image.config.v1+json', v2s2: 'application/vnd.docker.container.image.v1+json' } as const;
export const LAYER_TYPE = {
  oci: { tar: 'application/vnd.oci.image.layer.v1.tar', gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' },
  v2s2: { tar: 'application/vnd.docker.image.rootfs.diff.tar', gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip', zstd: '' },
} as const;

/** What a layer media type says of its compression. */
export function compressionOf(mediaType: string): 'tar' | 'gzip' | 'zstd' {
  if (/zstd$/.test(mediaType)) return 'zstd';
  if (/gzip$/.test(mediaType)) return 'gzip';
  return 'tar';
}

/** The format a manifest's media type is in. */
export const formatOf = (mediaType: string): ManifestFormat => (mediaType === MANIFEST_TYPE.v2s2 ? 'v2s2' : 'oci');

/** A manifest over `config` and `layers`, each layer's media type said in `format`'s words; annotations only in OCI (v2s2 has none). */
export function buildManifest(format: ManifestFormat, config: { digest: string; size: number }, layers: Descriptor[], name: string, annotations?: Record<string, string>): ResolvedManifest {
  const manifest: ImageManifest = {
    schemaVersion: 2, mediaType: MANIFEST_TYPE[format],
    config: { mediaType: CONFIG_TYPE[format], digest: config.digest, size: config.size },
    layers: layers.map((l) => {
      const mediaType = LAYER_TYPE[format][compressionOf(l.mediaType)];
      if (!mediaType) throw new TspodError('E_USAGE', `${name}: a zstd-compressed layer can't be listed in a Docker v2s2 manifest`, { hint: 'use --format oci, or --compression-format gzip' });
      return { mediaType, digest: l.digest, size: l.size };
    }),
    ...(format === 'oci' && annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
  const body = Buffer.from(JSON.stringify(manifest));
  return { digest: sha256(body), mediaType: MANIFEST_TYPE[format], body, manifest };
}
