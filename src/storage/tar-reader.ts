// A synchronous, push-driven tar reader: chunks go in, entries come out as calls on a sink, in the
// same turn. Layers are mostly thousands of small files; one stream and a few promises per entry
// (as a stream-per-entry extractor does) cost more than writing the files, so nothing here waits.
// Formats: POSIX ustar with pax extended headers ('x'; global 'g' ones are read and ignored), GNU
// long names ('L', 'K'), base-256 numbers, and old v7 headers.
import { TspodError } from '../errors.js';

export type EntryType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'unsupported';

export interface TarHeader {
  /** the entry's name as a byte string (latin1: one character per byte), like linkname */
  name: string;
  type: EntryType;
  /** the typeflag as found, for messages about unsupported entries */
  flag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch, possibly fractional (pax) */
  mtime: number;
  linkname: string;
  /** SCHILY.xattr.* records of a pax header: name -> raw value bytes */
  xattrs?: Map<string, Buffer>;
}

/** What receives the entries. A body is delivered only when begin() returns true. */
export interface TarSink {
  begin(header: TarHeader): boolean;
  data(chunk: Buffer): void;
  end(): void;
  /** Every byte that is not a delivered body (headers, metadata, skipped bodies, padding, the end), in order. */
  raw?(chunk: Buffer): void;
}

export class CorruptTarError extends TspodError {
  constructor(readonly why: string) {
    super('E_DIGEST', `the layer is not a valid tar archive: ${why}`, { hint: 'the image is malformed; nothing was stored' });
  }
}

const BLOCK = 512;
/** Metadata bodies (pax headers, GNU long names) are buffered; anything bigger is not metadata. */
const MAX_META = 16 << 20;

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'character-device', '4': 'block-device', '5': 'directory', '6': 'fifo',
};

/**
 * A NUL-terminated field as a byte string: one character per byte (latin1). File names are bytes,
 * not text: a name that is not UTF-8 must reach the disk byte for byte, so names stay in this form
 * until a file system call turns them back into a Buffer.
 */
function str(block: Buffer, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return block.toString('latin1', start, end);
}

/** An octal field (space or NUL terminated), or a base-256 one when its first bit is set. */
function num(block: Buffer, start: number, length: number): number {
  if (block[start] & 0x80) {
    // Base-256: big-endian two's complement; 0xff marks a negative value, never valid here.
    if (block[start] === 0xff) throw new CorruptTarError('a negative number in a header');
    let n = block[start] & 0x7f;
    for (let i = start + 1; i < start + length; i++) n = n * 256 + block[i];
    return n;
  }
  let i = start;
  const end = start + length;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let n = 0;
  for (; i < end; i++) {
    const c = block[i];
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new CorruptTarError(`a header field holds "${str(block, start, length)}" where a number belongs`);
    n = n * 8 + (c - 0x30);
  }
  return n;
}

function checksumOk(block: Buffer): boolean {
  const stored = num(block, 148, 8);
  let unsigned = 8 * 0x20, signed = 8 * 0x20; // the checksum field counts as eight spaces
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += block[i];
    signed += (block[i] << 24) >> 24; // some old tars summed signed bytes
  }
  return stored === unsigned || stored === signed;
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

interface Pax { path?: string; linkpath?: string; size?: number; uid?: number; gid?: number; mtime?: number; xattrs?: Map<string, Buffer> }

/** pax records are "LENGTH KEY=VALUE\n", LENGTH counting the whole record. */
function parsePax(body: Buffer, into: Pax): void {
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space < 0) break;
    const length = Number(body.toString('latin1', pos, space));
    if (!Number.isInteger(length) || length <= space - pos || pos + length > body.length) throw new CorruptTarError('a malformed pax extended header');
    const equals = body.indexOf(0x3d, space + 1);
    if (equals < 0 || equals >= pos + length) throw new CorruptTarError('a malformed pax record');
    const key = body.toString('utf8', space + 1, equals);
    const raw = body.subarray(equals + 1, pos + length - 1); // without the newline
    pos += length;
    if (key.startsWith('SCHILY.xattr.')) {
      (into.xattrs ??= new Map()).set(key.slice('SCHILY.xattr.'.length), Buffer.from(raw));
      continue;
    }
    // path and linkpath are UTF-8 by the standard but may be any bytes (hdrcharset=BINARY): kept as bytes.
    const value = raw.toString('latin1');
    switch (key) {
      case 'path': into.path = value; break;
      case 'linkpath': into.linkpath = value; break;
      case 'size': case 'uid': case 'gid': {
        const n = Number(value);
        if (!Number.isSafeInteger(n) || n < 0) throw new CorruptTarError(`pax ${key} "${value}" is not a number`);
        into[key] = n;
        break;
      }
      case 'mtime': { const n = Number(value); if (Number.isFinite(n)) into.mtime = n; break; }
      default: break; // atime, ctime, uname, gname, comments: nothing a layer needs
    }
  }
}

export class TarReader {
  /** bytes of a header block gathered across chunks */
  private readonly partial = Buffer.alloc(BLOCK);
  private partialLength = 0;
  /** body bytes still to come for the current entry, then its padding to the block size */
  private remaining = 0;
  private padding = 0;
  private state: 'header' | 'body' | 'meta' | 'skip' | 'done' = 'header';
  private meta: Buffer[] = [];
  private metaKind = '';
  /** what pax and GNU headers said about the next entry */
  private pending: Pax = {};
  private gnuName?: string;
  private gnuLink?: string;
  entries = 0;

  constructor(private readonly sink: TarSink) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && this.state !== 'done') {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - pos);
        const piece = chunk.subarray(pos, pos + n);
        if (this.state === 'body') this.sink.data(piece);
        else {
          this.sink.raw?.(piece);
          if (this.state === 'meta') this.meta.push(Buffer.from(piece));
        }
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.bodyDone();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - pos);
        this.sink.raw?.(chunk.subarray(pos, pos + n));
        this.padding -= n;
        pos += n;
        continue;
      }
      // A header: straight from the chunk when it holds a whole block, else gathered.
      let block: Buffer;
      if (this.partialLength === 0 && chunk.length - pos >= BLOCK) {
        block = chunk.subarray(pos, pos + BLOCK);
        pos += BLOCK;
      } else {
        const n = Math.min(BLOCK - this.partialLength, chunk.length - pos);
        chunk.copy(this.partial, this.partialLength, pos, pos + n);
        this.partialLength += n;
        pos += n;
        if (this.partialLength < BLOCK) continue;
        this.partialLength = 0;
        block = this.partial;
      }
      this.sink.raw?.(block);
      this.header(block);
    }
    // After the end-of-archive block: the rest (a second zero block, record padding) is still the layer's bytes.
    if (this.state === 'done' && pos < chunk.length) this.sink.raw?.(chunk.subarray(pos));
  }

  /** The input has ended: it must have ended between entries. */
  end(): void {
    if (this.state === 'done') return;
    if (this.remaining > 0 || this.partialLength > 0 || this.state !== 'header') throw new CorruptTarError('it ends in the middle of an entry');
    // No end-of-archive blocks: tolerated, as GNU tar does (with a warning there).
  }

  private header(block: Buffer): void {
    if (isZero(block)) { this.state = 'done'; return; }
    if (!checksumOk(block)) throw new CorruptTarError(this.entries === 0 ? 'the first header has a bad checksum (is it a tar at all?)' : `a header checksum is wrong after ${this.entries} entries`);
    const flag = String.fromCharCode(block[156]);
    let size = num(block, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META) throw new CorruptTarError(`a ${size}-byte metadata header`);
      this.metaKind = flag;
      this.startBody(size, 'meta');
      return;
    }
    const pax = this.pending;
    this.pending = {};
    const magic = block.toString('latin1', 257, 263);
    let name = str(block, 0, 100);
    // POSIX ustar splits long names into prefix/name; GNU tar uses those bytes for other things.
    if (magic === 'ustar\0' && block[345] !== 0) name = `${str(block, 345, 155)}/${name}`;
    name = pax.path ?? this.gnuName ?? name;
    const linkname = pax.linkpath ?? this.gnuLink ?? str(block, 157, 100);
    this.gnuName = this.gnuLink = undefined;
    if (pax.size !== undefined) size = pax.size;
    let type = TYPES[flag] ?? 'unsupported';
    if (type === 'file' && name.endsWith('/')) type = 'directory'; // v7 archives mark directories this way
    const header: TarHeader = {
      name, type, flag, linkname, size,
      mode: num(block, 100, 8),
      uid: pax.uid ?? num(block, 108, 8),
      gid: pax.gid ?? num(block, 116, 8),
      mtime: pax.mtime ?? num(block, 136, 12),
      xattrs: pax.xattrs,
    };
    this.entries++;
    // A directory's size is never followed by data; any other entry's is (a link's is normally 0).
    if (type === 'directory') header.size = 0;
    const wanted = this.sink.begin(header);
    this.startBody(header.size, wanted && type === 'file' ? 'body' : 'skip');
  }

  private startBody(size: number, state: 'body' | 'meta' | 'skip'): void {
    this.state = state;
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.bodyDone();
  }

  private bodyDone(): void {
    if (this.state === 'body') this.sink.end();
    else if (this.state === 'meta') {
      const body = Buffer.concat(this.meta);
      this.meta = [];
      if (this.metaKind === 'x') parsePax(body, this.pending);
      else if (this.metaKind === 'L') this.gnuName = str(body, 0, body.length);
      else if (this.metaKind === 'K') this.gnuLink = str(body, 0, body.length);
      // 'g': a global pax header applies to the whole archive; what it can carry (comments, times) doesn't matter here.
    }
    this.state = 'header';
  }
}
