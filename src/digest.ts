// Content digests, shared by every module that checks bytes against a descriptor.
import crypto from 'node:crypto';
import { DigestMismatchError } from './errors.js';

/** sha256 is what every registry and store uses; a digest names a file in the store, so nothing else passes. */
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function sha256(data: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}

export function verifyDigest(what: string, data: Buffer, expected: string): void {
  const algo = expected.split(':')[0];
  const actual = `${algo}:${crypto.createHash(algo).update(data).digest('hex')}`;
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
}
