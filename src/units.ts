// Sizes as docker/go-units writes them (decimal units, %.Ng), which Podman prints: images with 3
// significant digits and a space ("9.78 MB"), a log size with 4 and none ("3.045MB").
export function humanSizeWithPrecision(bytes: number, precision: number, separator = ''): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(precision))}${separator}${units[i]}`;
}

/**
 * A size as Docker's RAMInBytes reads --memory and --shm-size: a number with an optional b, k, m,
 * g, t or p (binary units, any case, an optional trailing b); undefined when it is not one.
 */
export function parseRamSize(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * 1024 ** ' kmgtp'.indexOf(m[2].toLowerCase() || ' '));
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

/** An ISO time as Unix seconds, as Docker's API gives times; 0 when there is none. */
export const unixSeconds = (iso: string | undefined): number => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);
