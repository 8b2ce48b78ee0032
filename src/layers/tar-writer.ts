// Tar headers, as GNU tar and Go's archive/tar write them: ustar, with a pax extended header for
// what ustar can't hold (names over its limits or not ASCII, sizes and ids too large, xattrs).
// Names are byte strings (latin1: one character per byte) as tar-reader.ts reads them, so a name
// that is not UTF-8 goes out byte for byte. One writer for layers and for archives around them.

export type WriteType = 'file' | 'link' | 'symlink' | 'directory' | 'fifo' | 'character-device' | 'block-device';

export interface WriteEntry {
  /** a byte string; a directory's ends with "/" */
  name: string;
  type: WriteType;
  mode: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** seconds since the epoch */
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** name -> raw value, as SCHILY.xattr records */
  xattrs?: Map<string, Buffer>;
}

const BLOCK = 512;
const FLAGS: Record<WriteType, string> = { file: '0', link: '1', symlink: '2', 'character-device': '3', 'block-device': '4', directory: '5', fifo: '6' };
const MAX_OCTAL = (digits: number) => 8 ** digits - 1;

function octal(block: Buffer, at: number, length: number, n: number): void {
  block.write(`${Math.floor(n).toString(8).padStart(length - 1, '0')}\0`, at, length, 'latin1');
}

/** A pax record: "LENGTH KEY=VALUE\n", LENGTH counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

function splitUstar(name: string): { prefix: string; name: string } | undefined {
  if (name.length <= 100) return { prefix: '', name };
  for (let i = name.lastIndexOf('/', 155); i > 0; i = name.lastIndexOf('/', i - 1)) {
    if (name.length - i - 1 <= 100 && i <= 155) return { prefix: name.slice(0, i), name: name.slice(i + 1) };
  }
  return undefined;
}

function ustar(e: WriteEntry, name: string, prefix: string, linkname: string, size: number, flag: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'latin1');
  octal(block, 100, 8, e.mode & 0o7777);
  octal(block, 108, 8, Math.min(e.uid ?? 0, MAX_OCTAL(7)));
  octal(block, 116, 8, Math.min(e.gid ?? 0, MAX_OCTAL(7)));
  octal(block, 124, 12, Math.min(size, MAX_OCTAL(11)));
  octal(block, 136, 12, Math.max(0, Math.min(e.mtime ?? 0, MAX_OCTAL(11))));
  block.write('        ', 148, 8, 'latin1');
  block.write(flag, 156, 1, 'latin1');
  block.write(linkname, 157, 100, 'latin1');
  block.write('ustar\x0000', 257, 8, 'latin1');
  octal(block, 329, 8, e.devmajor ?? 0);
  octal(block, 337, 8, e.devminor ?? 0);
  block.write(prefix, 345, 155, 'latin1');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i];
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

const ascii = (s: string) => /^[\x01-\x7f]*$/.test(s);

/** The header blocks of one entry (a pax header first when needed); its body and padding follow. */
export function tarHeader(e: WriteEntry): Buffer {
  const size = e.type === 'file' ? e.size ?? 0 : 0;
  const pax: Buffer[] = [];
  const split = ascii(e.name) ? splitUstar(e.name) : undefined;
  if (!split) pax.push(paxRecord('path', Buffer.from(e.name, 'latin1')));
  const linkname = e.linkname ?? '';
  if (linkname.length > 100 || !ascii(linkname)) pax.push(paxRecord('linkpath', Buffer.from(linkname, 'latin1')));
  if (size > MAX_OCTAL(11)) pax.push(paxRecord('size', Buffer.from(String(size))));
  if ((e.uid ?? 0) > MAX_OCTAL(7)) pax.push(paxRecord('uid', Buffer.from(String(e.uid))));
  if ((e.gid ?? 0) > MAX_OCTAL(7)) pax.push(paxRecord('gid', Buffer.from(String(e.gid))));
  if ((e.mtime ?? 0) % 1 !== 0) pax.push(paxRecord('mtime', Buffer.from((e.mtime ?? 0).toFixed(9).replace(/0+$/, ''))));
  for (const [k, v] of [...(e.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : 1))) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const head = ustar(e, split ? split.name : e.name.slice(0, 100), split ? split.prefix : '', linkname.slice(0, 100), size, FLAGS[e.type]);
  if (!pax.length) return head;
  const body = Buffer.concat(pax);
  const paxName = `PaxHeaders.0/${(split?.name ?? e.name).slice(-80)}`.replace(/[^\x01-\x7f]/g, '_');
  const paxHead = ustar({ name: paxName, type: 'file', mode: 0o644 }, paxName.slice(0, 100), '', '', body.length, 'x');
  return Buffer.concat([paxHead, body, padding(body.length), head]);
}

/** Zeros up to the next block boundary after `size` bytes of a body. */
export function padding(size: number): Buffer {
  return ZEROS.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK);
}

/** Shared, never written to: every consumer copies what it keeps. */
const ZEROS = Buffer.alloc(BLOCK);

/** The end of an archive: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * BLOCK);
