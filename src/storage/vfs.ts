// A vfs container's changes as an overlay upper directory, so that commit, diff and build's RUN
// read them through the one layer writer: what differs from the image (added or changed entries,
// hard-linked in, their parent directories made with their metadata) and a whiteout for each path
// the image has and the container no longer does.
import fs from 'node:fs';
import path from 'node:path';
import { mknodChar, lgetxattr } from '../sys/index.js';

/** A path as the image shows it, through its layers (base first): whiteouts and opaque directories hide lower ones. */
export function imageView(layerDirs: string[], xattrPrefix: string): (rel: string) => fs.Stats | undefined {
  const top = [...layerDirs].reverse();
  return (rel) => {
    const parts = rel.split('/').filter(Boolean);
    for (const layer of top) {
      try {
        const st = fs.lstatSync(path.join(layer, rel));
        return st.isCharacterDevice() && st.rdev === 0 ? undefined : st;
      } catch { /* not in this layer */ }
      // An ancestor this layer whites out, replaces with a non-directory, or makes opaque hides the rest below.
      for (let i = parts.length - 1; i >= 1; i--) {
        const anc = path.join(layer, ...parts.slice(0, i));
        let ast: fs.Stats;
        try { ast = fs.lstatSync(anc); } catch { continue; }
        if (!ast.isDirectory() || lgetxattr(anc, `${xattrPrefix}opaque`)?.toString() === 'y') return undefined;
        break;
      }
    }
    return undefined;
  };
}

const same = (a: fs.Stats, b: fs.Stats) => a.mode === b.mode && a.uid === b.uid && a.gid === b.gid
  && (a.isDirectory() || (a.size === b.size && a.mtimeMs === b.mtimeMs && a.rdev === b.rdev));

/** Build the upper directory of a vfs root in `upper` (made here, empty). */
export function vfsUpper(layerDirs: string[], root: string, upper: string, xattrPrefix: string): void {
  const view = imageView(layerDirs, xattrPrefix);
  fs.mkdirSync(upper, { recursive: true });
  const made = new Set<string>(['']);
  const ensureParents = (rel: string) => {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (made.has(p)) continue;
      const st = fs.lstatSync(path.join(root, p));
      fs.mkdirSync(path.join(upper, p));
      fs.chownSync(path.join(upper, p), st.uid, st.gid);
      fs.chmodSync(path.join(upper, p), st.mode & 0o7777);
      fs.utimesSync(path.join(upper, p), st.atime, st.mtime);
      made.add(p);
    }
  };
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(root, r));
      const before = view(r);
      const changed = !before || before.isDirectory() !== st.isDirectory() || !same(st, before)
        || (st.isSymbolicLink() && fs.readlinkSync(path.join(root, r)) !== fs.readlinkSync(path.join(layerOf(layerDirs, r, view), r)));
      if (st.isDirectory()) {
        if (changed) { ensureParents(`${r}/x`); }
        walk(r);
      } else if (changed) {
        ensureParents(r);
        fs.linkSync(path.join(root, r), path.join(upper, r));
      }
    }
    // What the image has here and the container does not: whited out.
    for (const name of imageNames(layerDirs, rel, view)) {
      const r = rel ? `${rel}/${name}` : name;
      if (fs.existsSync(path.join(root, r)) || isLink(path.join(root, r))) continue;
      ensureParents(r);
      mknodChar(path.join(upper, r), 0, 0, 0);
    }
  };
  walk('');
}

const isLink = (p: string) => { try { return fs.lstatSync(p).isSymbolicLink(); } catch { return false; } };

/** The names a directory of the image holds (through its layers). */
function imageNames(layerDirs: string[], rel: string, view: (rel: string) => fs.Stats | undefined): string[] {
  const names = new Set<string>();
  for (const layer of layerDirs) { try { for (const n of fs.readdirSync(path.join(layer, rel))) names.add(n); } catch { /* not here */ } }
  return [...names].filter((n) => view(rel ? `${rel}/${n}` : n));
}

/** The topmost layer dir that holds a path the image view has. */
function layerOf(layerDirs: string[], rel: string, view: (rel: string) => fs.Stats | undefined): string {
  if (!view(rel)) return layerDirs[0];
  for (const layer of [...layerDirs].reverse()) if (fs.existsSync(path.join(layer, rel)) || isLink(path.join(layer, rel))) return layer;
  return layerDirs[0];
}
