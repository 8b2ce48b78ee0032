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

/** A host account's /etc/passwd fields by uid (inside the user namespace os.userInfo() is root). */
export function accountEntry(uid: number): string[] | undefined {
  try { return fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(uid)); } catch { return undefined; }
}

/** The name of a host account by uid. */
export function accountName(uid: number): string {
  return accountEntry(uid)?.[0] ?? process.env.USER ?? String(uid);
}

/**
 * The exact command that gives `user` 65536 subordinate uids and gids: the first range above every
 * one /etc/subuid and /etc/subgid hand out already (100000 on a machine that has none).
 */
export function addSubidsCommand(user: string): string {
  let next = 100000;
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    try {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const [, start, count] = line.trim().split(':').map(Number);
        if (Number.isInteger(start) && Number.isInteger(count)) next = Math.max(next, start + count);
      }
    } catch { /* none yet */ }
  }
  return `sudo usermod --add-subuids ${next}-${next + 65535} --add-subgids ${next}-${next + 65535} ${user}`;
}
