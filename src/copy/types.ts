// The two ends of every image copy: pull is registry -> store, push store -> registry, save store ->
// archive, load archive -> store. A layer travels compressed or as its plain tar (digest = diff id);
// the copier compresses on the way when the destination wants it and the source has only the tar.
import type { Descriptor, ImageManifest } from '../registry/manifest.js';

export interface ResolvedManifest {
  /** the digest of the platform manifest's bytes */
  digest: string;
  mediaType: string;
  body: Buffer;
  manifest: ImageManifest;
}

export interface ImageSource {
  /** fully qualified name, e.g. docker.io/library/alpine:latest */
  readonly name: string;
  resolveManifest(): Promise<ResolvedManifest>;
  /** The blob's bytes, never more than desc.size, failing if fewer. */
  streamBlob(desc: Descriptor): AsyncIterable<Buffer>;
  /**
   * A compressed blob of this layer that the source can stream as it is (push: the blob the store
   * pulled it as, from the registry it came from), so it need not be compressed again.
   */
  compressedBlob?(diffId: string, fits: (d: Descriptor) => boolean): Promise<Descriptor | undefined>;
  /** Blobs known to hold this layer elsewhere (what the store pulled it as), for a destination to reuse. */
  knownBlobs?(diffId: string): KnownBlob[];
  /** Stop: abort whatever is in flight. */
  close(): Promise<void>;
}

/** A blob that holds a layer, and where it is known to be (a registry's "domain/path"). */
export interface KnownBlob { desc: Descriptor; repository?: string }

export interface ImageDestination {
  /** the form layers must arrive in: compressed (a registry, an OCI layout), the plain tar (docker-archive), or either (the store) */
  readonly layerForm: 'compressed' | 'tar' | 'any';
  /** The layer is there already, or can be had from a known blob without sending it: the descriptor to list. */
  reuseLayer(diffId: string, known: KnownBlob[]): Promise<Descriptor | undefined>;
  /**
   * Store one layer blob, verifying it while it streams: against desc.digest when it is known, and
   * against diffId. desc.digest is '' when the copier compressed the blob on the way (the
   * destination computes it). `open` may be called again to retry. Returns the blob as stored.
   */
  putLayer(desc: Descriptor, diffId: string, open: () => AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<Descriptor>;
  /** The copy failed: take back what this destination added that nothing else uses. */
  abandon(): void;
  commitImage(args: { name: string; manifest: ResolvedManifest; configDigest: string; config: Buffer; diffIds: string[]; created?: string }): Promise<string>;
}

export type ProgressEvent =
  | { type: 'resolved'; name: string; digest: string; layers: Descriptor[] }
  | { type: 'layer-skip'; digest: string; size: number }
  | { type: 'layer-start'; digest: string; size: number }
  | { type: 'layer-bytes'; digest: string; bytes: number; size: number }
  | { type: 'layer-done'; digest: string; size: number }
  | { type: 'done'; id: string; config: string };
