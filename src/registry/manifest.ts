// Manifest and index parsing, media type checks and platform selection.
import { RegistryError } from '../errors.js';
import { MEDIA } from './client.js';
import { DIGEST } from '../digest.js';

export interface Descriptor { mediaType: string; digest: string; size: number; platform?: Platform; urls?: string[] }
export interface Platform { os: string; architecture: string; variant?: string }
export interface ImageManifest { schemaVersion: number; mediaType?: string; config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> }
export interface ImageIndex { schemaVersion: number; mediaType?: string; manifests: Descriptor[] }

export const LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
]);

export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

export function parsePlatform(spec: string): Platform {
  const [os, architecture, variant] = spec.split('/');
  if (!os || !architecture) throw new RegistryError(`invalid platform "${spec}"`, { code: 'E_USAGE', hint: 'use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8' });
  return { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

export function kindOf(mediaType: string, body: Buffer): 'index' | 'manifest' {
  let mt = mediaType;
  if (!mt || mt === 'application/json' || mt === 'text/plain') {
    try { mt = (JSON.parse(body.toString('utf8')) as { mediaType?: string }).mediaType ?? ''; } catch { mt = ''; }
    if (!mt) {
      const doc = JSON.parse(body.toString('utf8')) as { manifests?: unknown };
      return doc.manifests ? 'index' : 'manifest';
    }
  }
  if (mt === MEDIA.ociIndex || mt === MEDIA.dockerList) return 'index';
  if (mt === MEDIA.ociManifest || mt === MEDIA.dockerManifest) return 'manifest';
  throw new RegistryError(`unsupported manifest media type "${mediaType}"`, { code: 'E_MANIFEST_TYPE', hint: 'tspod reads OCI and Docker schema 2 images' });
}

export function selectPlatform(index: ImageIndex, want: Platform, ref: string): Descriptor {
  const matches = index.manifests.filter((m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture);
  const exact = want.variant ? matches.find((m) => m.platform?.variant === want.variant) : undefined;
  const chosen = exact ?? (want.variant ? undefined : matches[0]);
  if (!chosen) {
    const have = index.manifests.filter((m) => m.platform).map((m) => formatPlatform(m.platform!)).join(', ');
    throw new RegistryError(`${ref} has no image for ${formatPlatform(want)} (it has: ${have || 'none'})`, { code: 'E_PLATFORM', hint: 'choose one with --platform' });
  }
  return chosen;
}

export function parseManifest(body: Buffer, ref: string): ImageManifest {
  const m = JSON.parse(body.toString('utf8')) as ImageManifest;
  if (m.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw new RegistryError(`${ref}: the manifest is not a schema 2 image manifest`, { code: 'E_MANIFEST_TYPE' });
  }
  checkDescriptor(m.config, ref);
  for (const l of m.layers) {
    checkDescriptor(l, ref);
    if (!LAYER_TYPES.has(l.mediaType)) throw new RegistryError(`${ref}: unsupported layer media type "${l.mediaType}"`, { code: 'E_MANIFEST_TYPE' });
  }
  return m;
}

/** A descriptor's digest and size, before either names a file or bounds a download. */
export function checkDescriptor(d: Descriptor, ref: string): void {
  if (typeof d?.digest !== 'string' || !DIGEST.test(d.digest)) {
    throw new RegistryError(`${ref}: the manifest has a descriptor with digest ${JSON.stringify(d?.digest)}, not sha256:<64 hex digits>`, { code: 'E_MANIFEST_TYPE', hint: 'the image is malformed; rebuild or re-push it' });
  }
  if (!Number.isSafeInteger(d.size) || d.size < 0) {
    throw new RegistryError(`${ref}: the manifest declares size ${JSON.stringify(d.size)} for ${d.digest}`, { code: 'E_MANIFEST_TYPE', hint: 'the image is malformed; rebuild or re-push it' });
  }
}
