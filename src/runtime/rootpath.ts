// Resolve a path inside a container root the way the container would see it: symlinks are
// followed but never out of the root (an absolute link target restarts at the root).
import fs from 'node:fs';
import path from 'node:path';

export function resolveInRoot(root: string, p: string): string {
  const todo = p.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') { done.pop(); continue; }
    const candidate = path.join(root, ...done, part);
    let st: fs.Stats;
    try { st = fs.lstatSync(candidate); } catch { done.push(part, ...todo); break; }
    if (st.isSymbolicLink()) {
      if (++hops > 40) throw new Error(`too many levels of symbolic links in ${p}`);
      const target = fs.readlinkSync(candidate);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return path.join(root, ...done);
}

/** mkdir -p inside the root, never through a link out of it. */
export function mkdirInRoot(root: string, p: string, uid: number, gid: number): void {
  const parts = p.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const full = resolveInRoot(root, parts.slice(0, i).join('/'));
    if (!fs.existsSync(full)) { fs.mkdirSync(full, 0o755); fs.chownSync(full, uid, gid); }
  }
}

/** As Podman: a root without /etc/mtab gets one, a link to /proc/mounts, for mount(8) and df. */
export function linkMtab(root: string, uid: number, gid: number): void {
  try {
    if (fs.existsSync(resolveInRoot(root, '/etc/mtab')) || isLink(resolveInRoot(root, '/etc') + '/mtab')) return;
    mkdirInRoot(root, '/etc', uid, gid);
    const mtab = path.join(resolveInRoot(root, '/etc'), 'mtab');
    fs.symlinkSync('/proc/mounts', mtab);
    fs.lchownSync(mtab, uid, gid);
  } catch { /* an /etc that is no directory: the container does without, as before */ }
}

const isLink = (p: string) => { try { return fs.lstatSync(p).isSymbolicLink(); } catch { return false; } };
