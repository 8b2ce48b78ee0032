// Every listing's output, as Podman writes it: `--format json`, a Go template per row, or `table`
// (a header row from the template's fields, then the rows), all through Go's tabwriter with
// Podman's settings, so "\t" aligns columns in any template. The default output is the command's
// own table template.
import { Template, TemplateError, goJson, goMap, tabwrite } from './template.js';
import { UsageError } from '../errors.js';

export interface ReportOptions<T> {
  /** the command's name in template errors ("ps", "images") */
  name: string;
  /** --format as given */
  format?: string;
  /** the default table, e.g. "{{.ID}}\t{{.Image}}" */
  defaultFormat: string;
  rows: T[];
  /** header text for a field, where Podman's is not the field name split and upper-cased */
  headers?: Record<string, string>;
  noHeading?: boolean;
  /** what `--format json` prints, when not the rows themselves */
  json?: () => unknown;
}

/** Podman's header for a field without an override: "CreatedAt" -> "CREATED AT", "ImageID" -> "IMAGE ID". */
export const headerFor = (field: string) => field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').toUpperCase();

/** The escapes a shell user types into --format ("\t", "\n") as the characters; in a table, spaces separate columns. */
function normalize(format: string, table: boolean): string {
  let f = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  if (table) f = f.replace(/ /g, '\t');
  return f.endsWith('\n') ? f : `${f}\n`;
}

/** Compile a --format template, a bad one being a usage error (exit 125) in Go's words. */
export function compileFormat(source: string, name: string): Template {
  try { return new Template(source, name); } catch (e) {
    if (e instanceof TemplateError) throw new UsageError(e.message);
    throw e;
  }
}

/** Run a template, its failure (an unknown field) being an error in Go's words. */
export function executeFormat(t: Template, data: unknown): string {
  try { return t.execute(data); } catch (e) {
    if (e instanceof TemplateError) throw new UsageError(e.message);
    throw e;
  }
}

/** The text of a report (the caller writes it). */
export function renderReport<T>(o: ReportOptions<T>): string {
  const format = o.format ?? 'table';
  if (format === 'json' || format === '{{json .}}' || format === '{{ json . }}') return `${goJson(o.json ? o.json() : o.rows, '    ')}\n`;
  const table = format === 'table' || format.startsWith('table ') || format.startsWith('table\t');
  const source = format === 'table' ? o.defaultFormat : table ? format.slice('table'.length).trimStart() : format;
  const t = compileFormat(normalize(source, table && format !== 'table'), o.name);
  let out = '';
  if (table && !o.noHeading) {
    const header = new Proxy({}, { has: () => true, get: (_x, key) => (typeof key === 'string' ? o.headers?.[key] ?? headerFor(key) : undefined) });
    try { out += t.execute(header); } catch { out += `${t.fields().map((f) => o.headers?.[f] ?? headerFor(f)).join('\t')}\n`; }
  }
  for (const row of o.rows) out += executeFormat(t, row);
  // As Podman's formatter: a table is aligned; a user's own template is printed as it says (a \t stays a tab).
  return table ? tabwrite(out) : out;
}

export function writeReport<T>(o: ReportOptions<T>): void {
  process.stdout.write(renderReport(o));
}

/** The fields that are Go maps in Podman's inspect types: a template ranges over them by key. */
const GO_MAPS = new Set(['Labels', 'Annotations', 'Networks', 'Ports', 'PortBindings', 'Options', 'ExposedPorts', 'Volumes']);

function markMaps(v: unknown, key: string): void {
  if (!v || typeof v !== 'object') return;
  if (Array.isArray(v)) { for (const x of v) markMaps(x, ''); return; }
  if (GO_MAPS.has(key)) goMap(v);
  else if ('Id' in v && !('ID' in v)) Object.defineProperty(v, 'ID', { value: (v as { Id: unknown }).Id, enumerable: false });
  for (const [k, x] of Object.entries(v)) markMaps(x, k);
}

/**
 * Go's field names where Podman's JSON keys differ ("Id" in JSON, .ID in a template): added, hidden
 * from JSON; and its maps marked as maps.
 */
function withGoNames<T extends object>(report: T): T {
  if ('Id' in report && !('ID' in report)) Object.defineProperty(report, 'ID', { value: (report as { Id: unknown }).Id, enumerable: false });
  markMaps(report, '');
  return report;
}

/** inspect's output: a JSON array (Podman's 4-space indent), or the template once per object. */
export function printReports(reports: object[], format?: string, name = 'inspect'): void {
  if (!format || format === 'json') { process.stdout.write(`${goJson(reports, '    ')}\n`); return; }
  const t = compileFormat(normalize(format, false), name);
  process.stdout.write(reports.map((r) => executeFormat(t, withGoNames(r))).join(''));
}
