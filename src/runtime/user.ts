// Resolve `-u USER[:GROUP]` and the image's User through the container's /etc/passwd and /etc/group.
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../errors.js';

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string }

/** Read a file of the container root without following a symlink out of it. */
function readRootFile(rootfs: string, rel: string): string | undefined {
  const p = path.join(rootfs, rel);
  try {
    if (fs.lstatSync(p).isSymbolicLink()) return undefined;
    return fs.readFileSync(p, 'utf8');
  } catch { return undefined; }
}

function table(text: string | undefined): string[][] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

export function resolveUser(rootfs: string, spec: string | undefined): ResolvedUser {
  const [userPart, groupPart] = (spec || '0').split(':');
  const passwd = table(readRootFile(rootfs, 'etc/passwd'));
  const groups = table(readRootFile(rootfs, 'etc/group'));
  let uid: number, gid: number | undefined, home = '/', name: string | undefined;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const row = passwd.find((r) => Number(r[2]) === uid);
    if (row) { gid = Number(row[3]); home = row[5] || '/'; name = row[0]; }
  } else {
    const row = passwd.find((r) => r[0] === userPart);
    if (!row) throw new TspodError('E_USER', `unable to find user ${userPart}: no matching entries in the container's /etc/passwd`, { hint: 'use a numeric uid, or a user that exists in the image' });
    uid = Number(row[2]); gid = Number(row[3]); home = row[5] || '/'; name = row[0];
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const row = groups.find((r) => r[0] === groupPart);
      if (!row) throw new TspodError('E_USER', `unable to find group ${groupPart}: no matching entries in the container's /etc/group`, { hint: 'use a numeric gid, or a group that exists in the image' });
      gid = Number(row[2]);
    }
  }
  gid ??= 0;
  // As Podman: the primary group, then the groups that list the user as a member.
  const member = groupPart === undefined && name ? groups.filter((r) => (r[3] ?? '').split(',').includes(name!)).map((r) => Number(r[2])) : [];
  const additionalGids = [...new Set([gid, ...member])];
  if (uid > 65535 || gid > 65535) throw new TspodError('E_ID_RANGE', `user ${uid}:${gid} is beyond the 65536 ids mapped in your user namespace`, { hint: 'use an id below 65536, or give your user a larger range in /etc/subuid and /etc/subgid' });
  return { uid, gid, additionalGids, home };
}

/** --group-add: group names (looked up in the container's /etc/group) and ids, as gids. */
export function resolveGroups(rootfs: string, names: string[]): number[] {
  const groups = table(readRootFile(rootfs, 'etc/group'));
  return names.map((g) => {
    if (/^\d+$/.test(g)) return Number(g);
    const row = groups.find((r) => r[0] === g);
    if (!row) throw new TspodError('E_USER', `unable to find group ${g}: no matching entries in the container's /etc/group`, { hint: 'use a numeric gid, or a group that exists in the image' });
    return Number(row[2]);
  });
}
