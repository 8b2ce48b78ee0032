// Sizes as docker/go-units writes them (decimal units, %.Ng), which Podman prints: images with 3
// significant digits and a space ("9.78 MB"), a log size with 4 and none ("3.045MB").
export function humanSizeWithPrecision(bytes: number, precision: number, separator = ''): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(precision))}${separator}${units[i]}`;
}
