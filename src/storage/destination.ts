// The store as an image destination: layers are verified while they stream (compressed digest and
// diff id), unpacked into staging, and renamed into place only when both digests match.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { Duplex, Readable } from 'node:stream';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { CorruptLayerError, DigestMismatchError } from '../errors.js';
import { isRootless } from '../paths.js';
import { findExecutable } from '../sys/proc.js';
import { Store } from './store.js';
import { unpackLayer } from './unpack.js';
import type { Descriptor } from '../registry/manifest.js';
import type { ImageDestination, ResolvedManifest } from '../copy/types.js';

/**
 * zstd through the `zstd` program when it is installed: it decompresses on another core while this
 * thread unpacks, as `zstd -d | tar -x` does; zstd-napi would decompress on this thread.
 */
function zstdProcess(binary: string): Duplex {
  const child = spawn(binary, ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // zstd may quit early on bad input: its exit status, not the broken pipe, says why.
  let stdinBroken = false;
  let pendingWrite: (() => void) | undefined;
  child.stdin!.on('error', () => { stdinBroken = true; pendingWrite?.(); });
  // The output ends only once zstd has exited, and with its error if it failed.
  const output = Readable.from((async function* () {
    for await (const chunk of child.stdout!) yield chunk as Buffer;
    const code = await exited;
    if (code !== 0) throw Object.assign(new Error(`zstd: ${stderr.trim().split('\n').pop() || `exited with ${code}`}`), { code: 'ZSTD_FAILED' });
  })());
  const duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (stdinBroken || child.stdin!.write(chunk)) return cb();
      pendingWrite = () => { pendingWrite = undefined; cb(); };
      child.stdin!.once('drain', () => pendingWrite?.());
    },
    final(cb) { child.stdin!.end(); cb(); },
    read() { output.resume(); },
    destroy(err, cb) { if (child.exitCode === null) child.kill(); cb(err); },
  });
  output.on('data', (d: Buffer) => { if (!duplex.push(d)) output.pause(); });
  output.on('end', () => duplex.push(null));
  output.on('error', (e) => duplex.destroy(e));
  return duplex;
}

/** Pick the decompressor from the first bytes, whatever the media type claims. */
export function decompressor(first: Buffer): Duplex | null {
  if (first[0] === 0x1f && first[1] === 0x8b) return zlib.createGunzip({ chunkSize: 256 * 1024 });
  if (first.readUInt32LE(0) === 0xfd2fb528) {
    const binary = process.env.TSPOD_ZSTD === 'napi' ? undefined : findExecutable('zstd');
    if (binary) return zstdProcess(binary);
    const { DecompressStream } = createRequire(import.meta.url)('zstd-napi');
    return new DecompressStream();
  }
  return null; // an uncompressed tar
}

async function* counted(source: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const c of source) { onBytes(c.length); yield c; }
}

export class StoreDestination implements ImageDestination {
  constructor(private readonly store: Store, private readonly onWarning: (m: string) => void = () => {}) {}

  hasLayer(diffId: string): boolean { return this.store.hasLayer(diffId); }

  async putLayer(desc: Descriptor, diffId: string, compressed: AsyncIterable<Buffer>, onBytes: (n: number) => void): Promise<void> {
    const staging = this.store.stagingDir();
    let source: Readable | undefined;
    try {
      const diff = path.join(staging, 'diff');
      fs.mkdirSync(diff, { mode: 0o755 });
      const iterator = counted(compressed, onBytes)[Symbol.asyncIterator]();
      const first = await iterator.next();
      const firstChunk = first.done ? Buffer.alloc(0) : first.value;
      // Both digests are taken inline: every stream stage costs a hop per chunk.
      const compressedHash = crypto.createHash('sha256');
      const diffHash = crypto.createHash('sha256');
      source = Readable.from((async function* () {
        if (first.done) return;
        compressedHash.update(firstChunk);
        yield firstChunk;
        for (;;) { const n = await iterator.next(); if (n.done) return; compressedHash.update(n.value); yield n.value; }
      })(), { objectMode: false });
      const dec = firstChunk.length >= 4 ? decompressor(firstChunk) : null;
      let tar: Readable = source;
      if (dec) {
        source.on('error', (e) => dec.destroy(e));
        tar = source.pipe(dec);
      }
      // Observes what unpackLayer's pipe carries; both are attached before the stream starts to flow.
      tar.on('data', (d: Buffer) => diffHash.update(d));
      const result = await unpackLayer(tar, diff, {
        overlayXattrPrefix: isRootless() ? 'user.overlay.' : 'trusted.overlay.',
        onWarning: this.onWarning,
      });
      await finished(tar);
      const gotCompressed = `sha256:${compressedHash.digest('hex')}`;
      if (gotCompressed !== desc.digest) throw new DigestMismatchError(`layer ${desc.digest}`, desc.digest, gotCompressed);
      const gotDiff = `sha256:${diffHash.digest('hex')}`;
      if (gotDiff !== diffId) throw new DigestMismatchError(`layer ${desc.digest} (uncompressed, rootfs.diff_ids)`, diffId, gotDiff);
      this.store.commitLayer(staging, diffId, result.size);
    } catch (e) {
      source?.destroy();
      this.store.discard(staging);
      const code = (e as { code?: string }).code ?? '';
      if (/^Z_|^ZSTD|^ERR_ZSTD/.test(code) || /zstd|incorrect (header|data) check|invalid (block|distance|code)|unexpected end of (file|data)/i.test((e as Error).message)) {
        throw new CorruptLayerError(desc.digest, `it does not decompress (${(e as Error).message})`);
      }
      throw e;
    }
  }

  async commitImage(args: { name: string; manifest: ResolvedManifest; configDigest: string; config: Buffer; diffIds: string[]; created?: string }): Promise<string> {
    const id = args.configDigest.slice('sha256:'.length);
    this.store.putBlob(args.configDigest, args.config);
    this.store.putBlob(args.manifest.digest, args.manifest.body);
    const repo = args.name.replace(/(:[\w][\w.-]*)?(@sha256:[a-f0-9]+)?$/, '');
    const hasTag = /:[\w][\w.-]*$/.test(args.name.replace(/@sha256:[a-f0-9]+$/, '').slice(repo.length));
    this.store.withLock(() => this.store.addImage({
      id,
      names: hasTag ? [args.name.replace(/@sha256:[a-f0-9]+$/, '')] : [],
      digest: args.manifest.digest,
      repoDigests: [`${repo}@${args.manifest.digest}`],
      layers: args.diffIds,
      created: args.created,
      size: args.diffIds.reduce((n, d) => n + this.store.layerSize(d), 0),
      manifestMediaType: args.manifest.mediaType,
      pulled: new Date().toISOString(),
    }));
    return id;
  }
}
