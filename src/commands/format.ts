// Output helpers: human sizes and times as Podman prints them, aligned tables, and the simple
// Go-template field paths users type ({{.Id}}, {{.State.Status}}, {{json .Config}}).

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0).replace(/\.0+$/, '')} ${units[i]}`;
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

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 2))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

function lookup(obj: unknown, pathStr: string): unknown {
  let cur = obj;
  for (const key of pathStr.split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'object') return Array.isArray(v) ? `[${v.map(show).join(' ')}]` : `map[${Object.entries(v as object).map(([k, x]) => `${k}:${show(x)}`).join(' ')}]`;
  return String(v);
}

/** Render "{{.A.B}}" and "{{json .A}}" against an object; `\n` and `\t` escapes as Podman allows. */
export function renderTemplate(template: string, obj: unknown): string {
  return template.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_m, json: string | undefined, p: string) => {
    const v = lookup(obj, p);
    return json ? JSON.stringify(v ?? null) : show(v);
  });
}

/** inspect's output: a JSON array, or one rendered template line per report. */
export function printReports(reports: object[], format?: string): void {
  if (format && format !== 'json') for (const r of reports) process.stdout.write(renderTemplate(format, r) + '\n');
  else process.stdout.write(JSON.stringify(reports, null, 4) + '\n');
}
