// Sizes, durations and times as Podman prints them.

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0).replace(/\.0+$/, '')} ${units[i]}`;
}

export { humanDuration } from '../units.js';

/** Go's time.Time.String() for an ISO time in UTC: "2026-12-02 10:40:50.123 +0000 UTC". */
export function goTime(iso: string | undefined): string {
  if (!iso) return '0001-01-01 00:00:00 +0000 UTC';
  const d = new Date(iso);
  const frac = /\.(\d+)/.exec(iso)?.[1]?.replace(/0+$/, '');
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}${frac ? `.${frac}` : ''} +0000 UTC`;
}

export function timeAgo(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'unknown';
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  const steps: Array<[number, string]> = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day'], [4.35, 'week'], [12, 'month'], [Infinity, 'year']];
  let v = s;
  for (const [size, unit] of steps) {
    if (v < size) {
      const n = Math.floor(v);
      if (unit === 'second' && n < 1) return 'Less than a second ago';
      return `${n === 1 ? (unit === 'hour' ? 'An' : 'A') : n} ${unit}${n === 1 ? '' : 's'} ago`;
    }
    v /= size;
  }
  return 'long ago';
}
