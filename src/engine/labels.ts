/** --label KEY=VALUE (or a bare KEY, with an empty value) into a map, as Docker reads them. */
export function parseLabels(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((l) => { const i = l.indexOf('='); return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)]; }));
}
