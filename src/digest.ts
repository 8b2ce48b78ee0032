// Content digests, shared by every module that checks bytes against a descriptor.
import crypto from 'node:crypto';
import { DigestMismatchError } from './errors.js';

export function sha256(data: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}

export function verifyDigest(what: string, data: Buffer, expected: string): void {
  const algo = expected.split(':')[0];
  const actual = `${algo}:${crypto.createHash(algo).update(data).digest('hex')}`;
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
}
