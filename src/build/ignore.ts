// .containerignore / .dockerignore, with Docker's rules: one pattern per line, `#` comments,
// paths relative to the context (a leading `/` or `./` means nothing), `*` and `?` within a path
// element, `**` across any number of them, `!` re-including what an earlier pattern excluded. A
// pattern that matches a directory excludes what it holds; the last matching pattern decides.
import fs from 'node:fs';
import path from 'node:path';

interface Pattern { negate: boolean; re: RegExp }

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
      return { negate, re: compile(body === '.' ? '' : body) };
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

  /** Could something under directory `rel` be re-included by an exception? (Then its walk goes on.) */
  mayInclude(rel: string): boolean {
    return this.patterns.some((p) => p.negate) && !!rel;
  }
}
