// The two ends of every image copy: pull is registry -> store; push, load and save are other pairs.
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
  /** Stop: abort whatever is in flight. */
  close(): Promise<void>;
}

export interface ImageConfigSummary { diffIds: string[]; created?: string }

export interface ImageDestination {
  hasLayer(diffId: string): boolean;
  /** Verify `compressed` against desc.digest and the unpacked stream against diffId while they stream; commit last. */
  putLayer(desc: Descriptor, diffId: string, compressed: AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<void>;
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
  | { type: 'done'; id: string };
