// Words of a Containerfile line as Docker reads them: variable expansion ($VAR, ${VAR},
// ${VAR:-default}, ${VAR:+alternate}, the escape character keeping a `$` literal) and the
// KEY=VALUE / KEY VALUE pairs of ENV, LABEL and ARG, with quotes.

/** Expand variables from `vars` in `text`; unknown ones expand to nothing, as in Docker. */
export function expand(text: string, vars: Map<string, string>, escape = '\\'): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === escape && text[i + 1] === '$') { out += '$'; i++; continue; }
    if (c !== '$') { out += c; continue; }
    if (text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end < 0) { out += c; continue; }
      const body = text.slice(i + 2, end);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(body);
      if (!m) { out += text.slice(i, end + 1); i = end; continue; }
      const value = vars.get(m[1]);
      if (m[2] === '-') out += value ? value : expand(m[3], vars, escape);
      else if (m[2] === '+') out += value ? expand(m[3], vars, escape) : '';
      else out += value ?? '';
      i = end;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (!m) { out += c; continue; }
    out += vars.get(m[0]) ?? '';
    i += m[0].length;
  }
  return out;
}

/** Split on unquoted blanks, removing the quotes; the escape character escapes the next one (not inside single quotes). */
export function shellWords(text: string, escape = '\\'): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) { quote = undefined; continue; }
      if (c === escape && quote === '"' && i + 1 < text.length) { cur += text[++i]; continue; }
      cur += c;
      continue;
    }
    if (c === '"' || c === "'") { quote = c; inWord = true; continue; }
    if (c === escape && i + 1 < text.length) { cur += text[++i]; inWord = true; continue; }
    if (/\s/.test(c)) { if (inWord) { words.push(cur); cur = ''; inWord = false; } continue; }
    cur += c;
    inWord = true;
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * ENV/LABEL/ARG pairs: `K=V K2="v 2"` or the legacy `K the rest of the line` (one pair, ENV and
 * LABEL only). ARG also takes a bare `NAME`, whose value is undefined.
 */
export function keyValues(text: string, escape = '\\', legacy = true): Array<[string, string | undefined]> {
  const words = shellWords(text, escape);
  if (legacy && words.length && !words[0].includes('=')) {
    const m = /^\s*(\S+)\s+(.*)$/s.exec(text);
    if (m) return [[m[1], shellWords(m[2], escape).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}
