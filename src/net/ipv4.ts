// IPv4 addresses and networks as numbers: what subnet allocation and address layouts compute with.
import { isIPv4 } from 'node:net';

export const ipToInt = (ip: string) => ip.split('.').reduce((v, o) => ((v << 8) | Number(o)) >>> 0, 0);
export const intToIp = (v: number) => [24, 16, 8, 0].map((s) => (v >>> s) & 255).join('.');

/** The netmask of a prefix length, as a number. */
export const maskOf = (bits: number) => (bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0);

/** A network "A.B.C.D/N" as its first address (host bits cleared) and prefix length; undefined when it is none. */
export function parseNetworkCidr(cidr: string): { base: number; bits: number } | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || !isIPv4(m[1]) || Number(m[2]) > 32) return undefined;
  const bits = Number(m[2]);
  return { base: (ipToInt(m[1]) & maskOf(bits)) >>> 0, bits };
}

/** Two networks share addresses when one holds the other's first address. */
export const overlaps = (a: { base: number; bits: number }, b: { base: number; bits: number }) => {
  const mask = maskOf(Math.min(a.bits, b.bits));
  return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
};
