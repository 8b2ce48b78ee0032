// An archive (docker-archive, oci-archive) read once to learn where each member lies, then read by
// member: configs whole, layers as streams of their byte range. Compressed archives and stdin are
// first spooled into a plain file, since the members are needed out of order.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TspodError } from '../errors.js';
import { TarReader, CorruptTarError, type TarHeader, type TarSink } from '../storage/tar-reader.js';
import { compressionOfBytes, decompressor } from '../storage/layer-stream.js';

export interface Member { offset: number; size: number; type: TarHeader['type']; linkname: string }

export class ArchiveError extends TspodError {
  constructor(archive: string, why: string) {
    super('E_ARCHIVE', `${archive}: ${why}`, { hint: 'the archive is damaged or not an image archive; nothing was loaded' });
  }
}

/** The members' places, by cleaned name ("a/b", no "./"). */
export class TarIndex {
  private constructor(readonly file: string, readonly label: string, private readonly members: Map<string, Member>) {}

  static async of(file: string, label: string): Promise<TarIndex> {
    const members = new Map<string, Member>();
    let offset = 0;
    const sink: TarSink = {
      begin(h) {
        const name = h.name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
        members.set(name, { offset, size: h.type === 'file' ? h.size : 0, type: h.type, linkname: h.linkname });
        return h.type === 'file';
      },
      data(chunk) { offset += chunk.length; },
      end() { /* nothing */ },
      raw(chunk) { offset += chunk.length; },
    };
    const reader = new TarReader(sink);
    try {
      for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) reader.push(chunk as Buffer);
      reader.end();
    } catch (e) {
      if (e instanceof CorruptTarError) throw new ArchiveError(label, reader.entries === 0 ? 'it is not a tar archive' : `it is truncated or corrupt (${e.why})`);
      throw e;
    }
    if (!members.size) throw new ArchiveError(label, 'it is an empty archive');
    return new TarIndex(file, label, members);
  }

  /** A member, through symlinks and hard links within the archive. */
  find(name: string, depth = 0): Member | undefined {
    const m = this.members.get(name.replace(/^(\.\/)+/, '').replace(/^\/+/, ''));
    if (!m || depth > 8) return m;
    if (m.type === 'symlink') return this.find(path.posix.join(path.posix.dirname(name), m.linkname), depth + 1);
    if (m.type === 'link') return this.find(m.linkname, depth + 1);
    return m;
  }

  has(name: string): boolean { return this.find(name)?.type === 'file'; }

  private need(name: string): Member {
    const m = this.find(name);
    if (!m || m.type !== 'file') throw new ArchiveError(this.label, `it has no file ${name}`);
    return m;
  }

  read(name: string, max = 16 << 20): Buffer {
    const m = this.need(name);
    if (m.size > max) throw new ArchiveError(this.label, `${name} is ${m.size} bytes, too large for what it should be`);
    const buf = Buffer.alloc(m.size);
    const fd = fs.openSync(this.file, 'r');
    try { fs.readSync(fd, buf, 0, m.size, m.offset); } finally { fs.closeSync(fd); }
    return buf;
  }

  json<T>(name: string): T {
    try { return JSON.parse(this.read(name).toString('utf8')) as T; } catch (e) {
      if (e instanceof TspodError) throw e;
      throw new ArchiveError(this.label, `${name} is not JSON (${(e as Error).message})`);
    }
  }

  size(name: string): number { return this.need(name).size; }

  stream(name: string): AsyncIterable<Buffer> {
    const m = this.need(name);
    if (m.size === 0) return (async function* () { /* empty */ })();
    return fs.createReadStream(this.file, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
  }
}

/**
 * A plain tar file of the input: the file itself when it is one, else a copy in `tmpDir`,
 * decompressed (gzip, zstd) on the way. `cleanup` removes any copy.
 */
export async function plainArchive(input: string, tmpDir: string): Promise<{ file: string; cleanup(): void }> {
  if (/^https?:\/\//.test(input)) input = await download(input, path.join(tmpDir, `download-${process.pid}`));
  const label = input === '-' ? 'the archive on stdin' : input;
  let fd: number;
  try { fd = input === '-' ? 0 : fs.openSync(input, 'r'); } catch (e) {
    throw new TspodError('E_ARCHIVE', `cannot open ${input}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { hint: 'check the archive\'s path (load -i, or the FILE of docker-archive:FILE and oci-archive:FILE)' });
  }
  const regular = fs.fstatSync(fd).isFile();
  const head = Buffer.alloc(4);
  const got = regular ? fs.readSync(fd, head, 0, 4, 0) : 0;
  // A plain tar in a file (stdin redirected from one too) is read where it is.
  if (regular && got === 4 && !compressionOfBytes(head)) { if (fd !== 0) fs.closeSync(fd); return { file: fd === 0 ? '/proc/self/fd/0' : input, cleanup: () => {} }; }
  const copy = path.join(tmpDir, `archive-${process.pid}.tar`);
  const cleanup = () => fs.rmSync(copy, { force: true });
  try {
    // stdin may be a non-blocking pipe, which fs reads fail on with EAGAIN: process.stdin waits for it.
    const source = fd === 0 && !regular ? process.stdin : fs.createReadStream('', { fd, start: regular ? 0 : undefined, highWaterMark: 1 << 20 });
    const it = source[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new ArchiveError(label, 'it is empty');
    const firstChunk = first.value as Buffer;
    const dec = decompressor(firstChunk);
    const all = Readable.from((async function* () { yield firstChunk; for (;;) { const n = await it.next(); if (n.done) return; yield n.value as Buffer; } })(), { objectMode: false });
    try {
      await (dec ? pipeline(all, dec, fs.createWriteStream(copy)) : pipeline(all, fs.createWriteStream(copy)));
    } catch (e) {
      if (e instanceof TspodError) throw e;
      throw new ArchiveError(label, `it does not decompress (${(e as Error).message})`);
    }
    return { file: copy, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** An http(s) URL's body into `file` (load -i URL, import URL). */
async function download(url: string, file: string): Promise<string> {
  const { getUrl } = await import('../registry/client.js');
  let res: Awaited<ReturnType<typeof getUrl>>;
  try { res = await getUrl(url); } catch (e) {
    throw new TspodError('E_ARCHIVE', `cannot fetch ${url}: ${(e as Error).message}`, { hint: 'check the URL' });
  }
  if (res.statusCode !== 200) { await res.body.dump(); throw new TspodError('E_ARCHIVE', `${url} answered ${res.statusCode}`, { hint: 'check the URL' }); }
  // Written as it comes, never paused: undici 7 crashes when a server closes the connection after
  // the body (HTTP/1.0's way, Python's http.server) while the body is paused by back-pressure
  // (nodejs/undici#5360, fixed in undici 8, which needs Node 22).
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    await new Promise<void>((resolve, reject) => {
      res.body.on('data', (c: Buffer) => { try { fs.writeSync(fd, c); } catch (e) { res.body.destroy(e as Error); } });
      res.body.on('end', resolve);
      res.body.on('error', (e) => reject(new TspodError('E_ARCHIVE', `cannot fetch ${url}: ${e.message}`, { hint: 'check the URL and the network; nothing was loaded' })));
    });
  } finally { fs.closeSync(fd); }
  return file;
}
