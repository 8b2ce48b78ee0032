// Bytes a directory tree holds, each hard-linked file once (the sizes df and inspect --size show).
import fs from 'node:fs';
import path from 'node:path';

export function treeBytes(dir: string): number {
  let n = 0;
  const seen = new Set<string>();
  const walk = (d: string) => {
    let names: string[];
    try { names = fs.readdirSync(d); } catch { return; }
    for (const name of names) {
      const p = path.join(d, name);
      let st: fs.Stats;
      try { st = fs.lstatSync(p); } catch { continue; }
      if (st.isDirectory()) { walk(p); continue; }
      if (st.nlink > 1) { const k = `${st.dev}:${st.ino}`; if (seen.has(k)) continue; seen.add(k); }
      n += st.size;
    }
  };
  walk(dir);
  return n;
}
