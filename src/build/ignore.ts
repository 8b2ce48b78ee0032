// .containerignore / .dockerignore, with Docker's rules: one pattern per line, `#` comments,
// paths relative to the context (a leading `/` or `./` means nothing), `*` and `?` within a path
// element, `**` across any number of them, `!` re-including what an earlier pattern excluded. A
// pattern that matches a directory excludes what it holds; the last matching pattern decides.
import fs from 'node:fs';
import path from 'node:path';

interface Pattern { negate: boolean; re: RegExp; text: string }

function compile(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more directories; a trailing `**` anything.
      if (glob[i + 2] === '/') { re += '(?:.*/)?'; i += 2; } else { re += '.*'; i++; }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else { re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`; i = end; }
    } else if (c === '\\' && i + 1 < glob.length) re += `\\${glob[++i]}`;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export class IgnoreRules {
  private readonly patterns: Pattern[];

  constructor(lines: string[]) {
    this.patterns = lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
      const negate = l.startsWith('!');
      const body = path.posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: compile(body === '.' ? '' : body), text: body };
    });
  }

  static none(): IgnoreRules { return new IgnoreRules([]); }

  /** The context's rules: an explicit file, else .containerignore, else .dockerignore. */
  static forContext(context: string, file?: string): IgnoreRules {
    for (const f of file ? [file] : [path.join(context, '.containerignore'), path.join(context, '.dockerignore')]) {
      let text: string;
      try { text = fs.readFileSync(f, 'utf8'); } catch (e) {
        if (file) throw e;
        continue;
      }
      return new IgnoreRules(text.split('\n'));
    }
    return IgnoreRules.none();
  }

  get empty(): boolean { return this.patterns.length === 0; }

  /** Is `rel` (relative to the context, "/"-separated) left out? */
  ignored(rel: string): boolean {
    if (!this.patterns.length || !rel) return false;
    const parts = rel.split('/');
    let out = false;
    for (const p of this.patterns) {
      // The path itself or one of its parent directories.
      let hit = false;
      for (let n = parts.length; n >= 1 && !hit; n--) hit = p.re.test(parts.slice(0, n).join('/'));
      if (hit) out = !p.negate;
    }
    return out;
  }

  /**
   * Should the walk go into `rel`, an ignored directory? Only when an exception pattern is written
   * as a path under it (`!dir/keep`): Docker does not look inside otherwise, so `!*\/x` re-includes
   * nothing in an ignored directory.
   */
  descendInto(rel: string): boolean {
    return this.patterns.some((p) => p.negate && `${p.text}/`.startsWith(`${rel}/`));
  }

  /** A skip function for the layer writer over a walk of context directory `base`: ignored paths, and all under an ignored directory not worth entering. */
  skipper(base: string): (rel: string, st: fs.Stats) => boolean {
    const pruned: string[] = [];
    return (rel, st) => {
      if (!rel) return false;
      const full = base ? `${base}/${rel}` : rel;
      if (pruned.some((d) => full.startsWith(`${d}/`))) return true;
      if (!this.ignored(full)) return false;
      if (st.isDirectory() && !this.descendInto(full)) pruned.push(full);
      return true;
    };
  }
}
