// Subordinate id ranges from /etc/subuid and /etc/subgid ("name-or-id:start:count" lines).
import fs from 'node:fs';

export interface IdRange { start: number; count: number }

export function readSubIds(file: string, user: string, id: number): IdRange[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return []; }
  const ranges: IdRange[] = [];
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (!who || who.startsWith('#') || start === undefined || count === undefined) continue;
    if (who !== user && who !== String(id)) continue;
    const s = Number(start), c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0) ranges.push({ start: s, count: c });
  }
  return ranges;
}

/** newuidmap arguments: container 0 is the user, then each subordinate range follows. */
export function mappingArgs(ownId: number, ranges: IdRange[]): string[] {
  const args = ['0', String(ownId), '1'];
  let inside = 1;
  for (const r of ranges) {
    args.push(String(inside), String(r.start), String(r.count));
    inside += r.count;
  }
  return args;
}

export function mappedSize(ranges: IdRange[]): number {
  return 1 + ranges.reduce((n, r) => n + r.count, 0);
}
