// Images out of the store and into it by other ends than a pull: push (store -> registry), and the
// transports' names ("docker://", "oci:", "oci-archive:", "docker-archive:") as Podman spells them.
import fs from 'node:fs';
import { ImageNotFoundError, TspodError, UsageError } from '../errors.js';
import { Store } from '../storage/store.js';
import { parseReference, qualify, formatReference, repoName, type Reference } from '../registry/reference.js';
import type { ProgressEvent } from '../copy/types.js';
import { findImage } from './images.js';

export interface PushOptions {
  tlsVerify?: boolean;
  /** manifest format: oci or v2s2 (default: the image's own) */
  format?: 'oci' | 'v2s2';
  compressionFormat?: 'gzip' | 'zstd';
  digestFile?: string;
  authFile?: string;
  credentials?: { username: string; password: string };
  onProgress?: (e: ProgressEvent) => void;
}

export interface PushReport { id: string; destination: string; digest: string }

export type Transport = { kind: 'registry'; ref: Reference } | { kind: 'oci' | 'oci-archive' | 'docker-archive'; path: string; name?: string };

/** "docker://REF", "oci:DIR[:NAME]", "oci-archive:FILE[:NAME]", "docker-archive:FILE[:NAME]", or a plain reference. */
export function parseTransport(spec: string): Transport {
  const m = /^(docker|oci|oci-archive|docker-archive):(.*)$/.exec(spec);
  if (!m) return { kind: 'registry', ref: qualified(spec) };
  if (m[1] === 'docker') {
    if (!m[2].startsWith('//')) throw new UsageError(`"${spec}": a docker transport is docker://REFERENCE`, 'e.g. docker://localhost:5000/app:1');
    return { kind: 'registry', ref: qualified(m[2].slice(2)) };
  }
  const [file, ...name] = m[2].split(':');
  if (!file) throw new UsageError(`"${spec}": no path after ${m[1]}:`, `e.g. ${m[1]}:/tmp/image.tar`);
  return { kind: m[1] as 'oci' | 'oci-archive' | 'docker-archive', path: file, name: name.length ? name.join(':') : undefined };
}

function qualified(input: string): Reference {
  const ref = parseReference(input);
  if (!ref.domain) throw new UsageError(`"${input}" names no registry to push to`, `give one, e.g. localhost:5000/${ref.path}:${ref.tag ?? 'latest'}`);
  return qualify(ref, ref.domain);
}

/** The image as the user named it, or its first name (an id names none). */
function sourceName(img: { names: string[] }, input: string): string {
  return img.names.find((n) => n === input || n.endsWith(`/${input}`) || n.endsWith(`/${input}:latest`)) ?? img.names[0] ?? input;
}

export async function pushImage(store: Store, input: string, destination: string | undefined, opts: PushOptions = {}): Promise<PushReport> {
  const img = await findImage(store, input);
  if (!img) throw new ImageNotFoundError(input, 'list the images with tspod images');
  const name = sourceName(img, input);
  const target = parseTransport(destination ?? name);
  if (target.kind !== 'registry') throw new TspodError('E_USAGE', `pushing to ${target.kind}: is not supported yet`, { hint: 'use tspod save, or push to a registry' });
  const [{ StoreSource }, { RegistryDestination }, { copyImage }, { compressor }, { loadRegistriesConfig, registryFor }] = await Promise.all([
    import('../storage/source.js'), import('../registry/destination.js'), import('../copy/copy.js'), import('../layers/compress.js'), import('../registry/config.js'),
  ]);
  const ref = target.ref;
  const insecure = opts.tlsVerify === false || (opts.tlsVerify === undefined && !!registryFor(loadRegistriesConfig(), ref)?.insecure);
  if (opts.authFile) process.env.REGISTRY_AUTH_FILE = opts.authFile;
  const dest = new RegistryDestination(ref, { insecure, credentials: opts.credentials });
  const compression = opts.compressionFormat ?? 'gzip';
  if (compression === 'zstd' && opts.format === 'v2s2') throw new UsageError('--compression-format zstd needs an OCI manifest', 'leave out --format v2s2');
  try {
    const id = await copyImage(new StoreSource(store, img, name), dest, {
      compressor: compressor(compression), format: opts.format ?? (compression === 'zstd' ? 'oci' : undefined), onProgress: opts.onProgress,
    });
    const digest = dest.pushedDigest!;
    // RepoDigests holds what the registry has, as Docker records it.
    store.withLock(() => {
      const now = store.readImages().find((i) => i.id === id);
      if (now) store.addImage({ ...now, names: [], repoDigests: [`${repoName(ref)}@${digest}`] });
    });
    if (opts.digestFile) fs.writeFileSync(opts.digestFile, digest);
    return { id, destination: formatReference(ref), digest };
  } finally {
    await dest.close();
  }
}
