// Sizes, durations and times as Podman prints them.

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0).replace(/\.0+$/, '')} ${units[i]}`;
}

/** docker/go-units' HumanDuration, which Podman's ps and images use: "Less than a second", "About a minute", "3 hours". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(seconds / 3600 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(seconds / 3600 / 24 / 365)} years`;
}

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
