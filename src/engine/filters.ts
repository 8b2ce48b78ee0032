// What every listing shares: --filter KEY=VALUE as Podman reads it (the same key given twice
// matches either value, different keys must all match), and its order.
import { TspodError } from '../errors.js';

/** A record by name, full id or unique id prefix (pods, secrets); undefined when none or ambiguous. */
export function byNameOrId<T extends { id: string; name: string }>(all: T[], ref: string): T | undefined {
  const exact = all.find((x) => x.name === ref || x.id === ref);
  if (exact) return exact;
  const prefixed = all.filter((x) => x.id.startsWith(ref));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

export function parseFilters(filters: string[], keys: string[], what: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    if (i < 0) throw new TspodError('E_USAGE', `invalid filter "${f}": use KEY=VALUE (${what} filters on ${keys.join(', ')})`);
    const key = f.slice(0, i);
    if (!keys.includes(key)) throw new TspodError('E_USAGE', `invalid filter "${key}": ${what} filters on ${keys.join(', ')}`);
    out.set(key, [...(out.get(key) ?? []), f.slice(i + 1)]);
  }
  return out;
}

/** True when every filter key has a value the test accepts. */
export function matchesAll(filters: Map<string, string[]>, test: (key: string, value: string) => boolean): boolean {
  for (const [key, values] of filters) if (!values.some((v) => test(key, v))) return false;
  return true;
}

/** label=KEY or label=KEY=VALUE against a label map. */
export function matchesLabel(labels: Record<string, string> | undefined | null, value: string): boolean {
  const j = value.indexOf('=');
  const k = j < 0 ? value : value.slice(0, j);
  return !!labels && k in labels && (j < 0 || labels[k] === value.slice(j + 1));
}

/** Go's path.Match: `*` and `?` stay within one path element, `[...]` classes; the whole name must match. */
export function globMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return false;
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(name);
}

/** Byte order, as Go sorts strings (and ISO times sort as times); localeCompare costs ~30 µs a call here. */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
