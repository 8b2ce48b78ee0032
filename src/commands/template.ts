// Go's text/template, the language of every --format: text and {{actions}} with trim markers,
// pipelines, fields, variables, if/else if/else, range (with else, break and continue), with,
// parenthesized pipelines, Go's builtin functions and Podman's (json, lower, upper, title, join,
// split, truncate, pad). Values print as Go's fmt prints them (%v). Objects are Go structs: an
// unknown field fails, as in Go; objects marked with goMap() are maps: a missing key prints
// "<no value>". A function-valued field is a method, called when it is reached.

export class TemplateError extends Error {}

const MAP = Symbol('go map');
const TYPE = Symbol('go type');

/** Mark an object as a Go map (missing keys print "<no value>"; %v prints map[k:v]). */
export function goMap<T extends object>(o: T): T {
  Object.defineProperty(o, MAP, { value: true, enumerable: false });
  return o;
}

/** Name the Go type an object stands for, for error messages. */
export function goType<T extends object>(o: T, name: string): T {
  Object.defineProperty(o, TYPE, { value: name, enumerable: false });
  return o;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[MAP] === true;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// Lexer

type Tok =
  | { t: 'field'; names: string[]; at: At } | { t: 'dot' } | { t: 'var'; name: string; names: string[] }
  | { t: 'ident'; name: string } | { t: 'string'; v: string } | { t: 'number'; v: number }
  | { t: 'bool'; v: boolean } | { t: 'nil' } | { t: 'pipe' } | { t: 'lparen' } | { t: 'rparen'; names: string[] }
  | { t: 'declare' } | { t: 'assign' } | { t: 'comma' };

type Piece = { kind: 'text'; text: string } | { kind: 'action'; toks: Tok[]; line: number; col: number; src: string };

function lex(src: string, name: string): Piece[] {
  const pieces: Piece[] = [];
  let pos = 0;
  let trimNext = false;
  const lineAt = (p: number) => src.slice(0, p).split('\n').length;
  const fail = (p: number, msg: string): never => { throw new TemplateError(`template: ${name}:${lineAt(p)}: ${msg}`); };
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    let text = src.slice(pos, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) { if (text) pieces.push({ kind: 'text', text }); break; }
    let p = open + 2;
    if (src[p] === '-' && /\s/.test(src[p + 1] ?? '')) { text = text.replace(/\s+$/, ''); p += 2; }
    if (text) pieces.push({ kind: 'text', text });
    // A comment: {{/* ... */}}
    const afterSpace = src.slice(p).match(/^\s*/)![0].length;
    if (src.startsWith('/*', p + afterSpace)) {
      const end = src.indexOf('*/', p + afterSpace);
      if (end < 0) fail(open, 'unclosed comment');
      let q = end + 2;
      const trimmed = src.slice(q).match(/^\s+-}}/);
      if (trimmed) { trimNext = true; q += trimmed[0].length; } else if (src.startsWith('}}', q)) q += 2; else fail(open, 'comment ends before closing delimiter');
      pos = q;
      continue;
    }
    const toks: Tok[] = [];
    const start = p;
    for (;;) {
      const spaced = p < src.length && /\s/.test(src[p]);
      while (p < src.length && /\s/.test(src[p])) p++;
      if (p >= src.length) fail(open, 'unclosed action');
      // " -}}" closes the action and trims the whitespace after it
      if (spaced && src.startsWith('-}}', p)) { trimNext = true; p += 3; break; }
      if (src.startsWith('}}', p)) { p += 2; break; }
      const c = src[p];
      if (c === '|') { toks.push({ t: 'pipe' }); p++; continue; }
      if (c === '(') { toks.push({ t: 'lparen' }); p++; continue; }
      if (c === ')') {
        p++;
        const names: string[] = [];
        while (src[p] === '.' && /[A-Za-z_]/.test(src[p + 1] ?? '')) { const m = /^\.([A-Za-z_]\w*)/.exec(src.slice(p))!; names.push(m[1]); p += m[0].length; }
        toks.push({ t: 'rparen', names });
        continue;
      }
      if (c === ',') { toks.push({ t: 'comma' }); p++; continue; }
      if (src.startsWith(':=', p)) { toks.push({ t: 'declare' }); p += 2; continue; }
      if (c === '=') { toks.push({ t: 'assign' }); p++; continue; }
      if (c === '"') {
        let q = p + 1, v = '';
        for (; q < src.length && src[q] !== '"'; q++) {
          if (src[q] === '\n') fail(p, 'unterminated quoted string');
          if (src[q] === '\\') {
            const e = src[++q];
            const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };
            if (e in simple) v += simple[e];
            else if (e === 'x') { v += String.fromCharCode(parseInt(src.slice(q + 1, q + 3), 16)); q += 2; }
            else if (e === 'u') { v += String.fromCharCode(parseInt(src.slice(q + 1, q + 5), 16)); q += 4; }
            else fail(p, `unknown escape sequence: \\${e}`);
          } else v += src[q];
        }
        if (q >= src.length) fail(p, 'unterminated quoted string');
        toks.push({ t: 'string', v });
        p = q + 1;
        continue;
      }
      if (c === '`') {
        const end = src.indexOf('`', p + 1);
        if (end < 0) fail(p, 'unterminated raw quoted string');
        toks.push({ t: 'string', v: src.slice(p + 1, end) });
        p = end + 1;
        continue;
      }
      if (c === "'") {
        const m = /^'(\\.|[^'\\])'/.exec(src.slice(p));
        if (!m) fail(p, 'malformed character constant');
        const ch = m![1].length === 2 ? ({ n: '\n', t: '\t', '\\': '\\', "'": "'" } as Record<string, string>)[m![1][1]] ?? m![1][1] : m![1];
        toks.push({ t: 'number', v: ch.codePointAt(0)! });
        p += m![0].length;
        continue;
      }
      const num = /^[-+]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][-+]?\d+)?)/.exec(src.slice(p));
      if (num && num[0] && /[\d]/.test(num[0]) && !/^[-+]?\.$/.test(num[0])) {
        const text = num[0].replace(/_/g, '');
        const v = /^[-+]?0[xXbBoO]/.test(text) ? Number(text.replace(/^([-+]?)0([xXbBoO])/, (_, s, k) => `${s}0${k.toLowerCase()}`)) : Number(text);
        if (Number.isNaN(v)) fail(p, `bad number syntax: "${num[0]}"`);
        toks.push({ t: 'number', v });
        p += num[0].length;
        continue;
      }
      if (c === '.') {
        const m = /^(\.[A-Za-z_]\w*)+/.exec(src.slice(p));
        if (m) {
          // Go places a chain of fields (.A.B) at its second field, and names the node in errors.
          const names = m[0].slice(1).split('.');
          const where = names.length > 1 ? p + names[0].length + 1 : p;
          toks.push({ t: 'field', names, at: { line: lineAt(where), col: where - src.lastIndexOf('\n', where - 1) - 1, src: m[0] } });
          p += m[0].length;
          continue;
        }
        toks.push({ t: 'dot' });
        p++;
        continue;
      }
      if (c === '$') {
        const m = /^\$(\w*)((\.[A-Za-z_]\w*)*)/.exec(src.slice(p))!;
        toks.push({ t: 'var', name: `$${m[1]}`, names: m[2] ? m[2].slice(1).split('.') : [] });
        p += m[0].length;
        continue;
      }
      const id = /^[A-Za-z_]\w*/.exec(src.slice(p));
      if (id) {
        const w = id[0];
        if (w === 'true' || w === 'false') toks.push({ t: 'bool', v: w === 'true' });
        else if (w === 'nil') toks.push({ t: 'nil' });
        else toks.push({ t: 'ident', name: w });
        p += w.length;
        // a field chain straight after an identifier is not allowed in Go either
        continue;
      }
      fail(p, `unexpected "${c}" in command`);
    }
    pieces.push({ kind: 'action', toks, line: lineAt(open), col: open + 2 - src.lastIndexOf('\n', open - 1) - 1, src: src.slice(start, p - 2).replace(/\s*-$/, '').trim() });
    pos = p;
  }
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// Parser

type Arg =
  | { a: 'field'; names: string[]; at: At } | { a: 'dot' } | { a: 'var'; name: string; names: string[] }
  | { a: 'const'; v: unknown } | { a: 'ident'; name: string } | { a: 'sub'; pipe: Pipe; names: string[] };
interface Cmd { args: Arg[] }
interface Pipe { decl: string[]; assign: boolean; cmds: Cmd[] }
interface At { line: number; col: number; src: string }

type Node =
  | { n: 'text'; text: string }
  | { n: 'action'; pipe: Pipe; at: At }
  | { n: 'if' | 'with'; pipe: Pipe; body: Node[]; otherwise: Node[]; at: At }
  | { n: 'range'; pipe: Pipe; body: Node[]; otherwise: Node[]; at: At }
  | { n: 'break' | 'continue'; at: At };

const FUNCS_KNOWN = new Set<string>();

class Parser {
  private i = 0;
  constructor(private readonly pieces: Piece[], private readonly name: string, private readonly funcs: Record<string, Fn>) {}

  private fail(at: { line: number }, msg: string): never { throw new TemplateError(`template: ${this.name}:${at.line}: ${msg}`); }

  parse(): Node[] {
    const { nodes, end } = this.list(0);
    if (end) this.fail(end, `unexpected {{${end.src}}}`);
    return nodes;
  }

  /** Nodes up to an {{else...}} or {{end}} (returned as `end`), or the end of input. */
  private list(depth: number, inRange = false): { nodes: Node[]; end?: Piece & { kind: 'action' } } {
    const nodes: Node[] = [];
    while (this.i < this.pieces.length) {
      const p = this.pieces[this.i++];
      if (p.kind === 'text') { nodes.push({ n: 'text', text: p.text }); continue; }
      const first = p.toks[0];
      const kw = first?.t === 'ident' ? first.name : '';
      const at = { line: p.line, col: p.col, src: p.src };
      if (kw === 'end' || kw === 'else') {
        if (depth === 0) this.fail(p, `unexpected {{${kw}}}`);
        return { nodes, end: p };
      }
      if (kw === 'if' || kw === 'with' || kw === 'range') {
        nodes.push(this.block(kw, p.toks.slice(1), p, depth, inRange));
        continue;
      }
      if (kw === 'break' || kw === 'continue') {
        if (!inRange) this.fail(p, `{{${kw}}} outside {{range}}`);
        nodes.push({ n: kw, at });
        continue;
      }
      if (kw === 'define' || kw === 'template' || kw === 'block') this.fail(p, `{{${kw}}} is not supported in --format`);
      if (p.toks.length === 0) this.fail(p, 'missing value for command');
      nodes.push({ n: 'action', pipe: this.pipe(p.toks, p, false), at });
    }
    return { nodes };
  }

  /** if/with/range up to its {{end}}; {{else if ...}} and {{else with ...}} nest and share that {{end}}. */
  private block(kw: 'if' | 'with' | 'range', toks: Tok[], p: Piece & { kind: 'action' }, depth: number, inRange: boolean): Node {
    const at = { line: p.line, col: p.col, src: p.src };
    const isWord = (t: Tok | undefined, w: string) => t?.t === 'ident' && t.name === w;
    const pipe = this.pipe(toks, p, kw === 'range');
    const body = this.list(depth + 1, inRange || kw === 'range');
    if (!body.end) this.fail(p, 'unexpected EOF');
    const close = body.end!.toks;
    let otherwise: Node[] = [];
    if (isWord(close[0], 'else')) {
      if (close.length > 1) {
        const next = close[1];
        if (!(isWord(next, 'if') || isWord(next, 'with'))) this.fail(body.end!, 'unexpected tokens after else');
        otherwise = [this.block((next as { name: 'if' | 'with' }).name, close.slice(2), body.end!, depth, inRange)];
        return { n: kw, pipe, body: body.nodes, otherwise, at } as Node;
      }
      const rest = this.list(depth + 1, inRange);
      if (!rest.end || !isWord(rest.end.toks[0], 'end')) this.fail(rest.end ?? p, rest.end ? 'expected end; found else' : 'unexpected EOF');
      otherwise = rest.nodes;
    } else if (!isWord(close[0], 'end') || close.length > 1) this.fail(body.end!, 'unexpected tokens after end');
    return { n: kw, pipe, body: body.nodes, otherwise, at } as Node;
  }

  private pipe(toks: Tok[], at: { line: number }, isRange: boolean): Pipe {
    let decl: string[] = [];
    let assign = false;
    // $x := ..., $i, $e := ... (range), $x = ...
    const di = toks.findIndex((t) => t.t === 'declare' || t.t === 'assign');
    if (di > 0 && toks.slice(0, di).every((t, k) => (k % 2 === 0 ? t.t === 'var' && t.names.length === 0 : t.t === 'comma'))) {
      decl = toks.slice(0, di).filter((t) => t.t === 'var').map((t) => (t as { name: string }).name);
      if (decl.length > (isRange ? 2 : 1)) this.fail(at, 'too many declarations');
      assign = toks[di].t === 'assign';
      toks = toks.slice(di + 1);
    }
    const cmds: Cmd[] = [];
    let pos = 0;
    const parseCmd = (): Cmd => {
      const args: Arg[] = [];
      while (pos < toks.length && toks[pos].t !== 'pipe' && toks[pos].t !== 'rparen') {
        const t = toks[pos++];
        switch (t.t) {
          case 'field': args.push({ a: 'field', names: t.names, at: t.at }); break;
          case 'dot': args.push({ a: 'dot' }); break;
          case 'var': args.push({ a: 'var', name: t.name, names: t.names }); break;
          case 'string': args.push({ a: 'const', v: t.v }); break;
          case 'number': args.push({ a: 'const', v: t.v }); break;
          case 'bool': args.push({ a: 'const', v: t.v }); break;
          case 'nil': args.push({ a: 'const', v: null }); break;
          case 'ident':
            if (!(t.name in this.funcs)) this.fail(at, `function "${t.name}" not defined`);
            args.push({ a: 'ident', name: t.name });
            break;
          case 'lparen': {
            const sub = parseSub();
            args.push(sub);
            break;
          }
          default: this.fail(at, `unexpected ${t.t} in operand`);
        }
      }
      if (args.length === 0) this.fail(at, 'missing value for command');
      return { args };
    };
    const parseSub = (): Arg => {
      const subCmds: Cmd[] = [];
      for (;;) {
        subCmds.push(parseCmd());
        if (pos >= toks.length) this.fail(at, 'unclosed left paren');
        const t = toks[pos++];
        if (t.t === 'rparen') return { a: 'sub', pipe: { decl: [], assign: false, cmds: subCmds }, names: t.names };
      }
    };
    for (;;) {
      cmds.push(parseCmd());
      if (pos >= toks.length) break;
      const t = toks[pos++];
      if (t.t === 'rparen') this.fail(at, 'unexpected right paren');
    }
    if (cmds.length === 0) this.fail(at, 'missing value for command');
    return { decl, assign, cmds };
  }
}

// ---------------------------------------------------------------------------------------------
// Values as Go prints and compares them

/** fmt's %v. */
export function formatValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${formatValue(v[k])}`).join(' ')}]`;
  if (typeof v === 'object') return `{${Object.values(v as object).filter((x) => typeof x !== 'function').map(formatValue).join(' ')}}`;
  return String(v);
}

function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const s = String(n);
  return s.replace(/e\+?(-?)(\d)$/, 'e+$10$2').replace('e+-', 'e-');
}

export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  const named = (v as Record<symbol, unknown>)[TYPE];
  if (typeof named === 'string') return named;
  return isMap(v) ? 'map[string]interface {}' : 'struct';
}

// ---------------------------------------------------------------------------------------------
// Functions

export type Fn = (...args: unknown[]) => unknown;

/** fmt.Sprintf for the verbs a format uses: %v %s %d %q %t %x %X %o %b %e %f %g %c %%, width, precision, flags. */
export function sprintf(format: string, ...args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])/g, (whole, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (width === '*') width = String(args[i++]);
    if (prec === '*') prec = String(args[i++]);
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const v = args[i++];
    if (v === null && verb !== 'v') return `%!${verb}(<nil>)`;
    let s: string;
    switch (verb) {
      case 'v': s = flags.includes('+') && isObject(v) ? `{${Object.entries(v).map(([k, x]) => `${k}:${formatValue(x)}`).join(' ')}}` : formatValue(v); break;
      case 's': s = typeof v === 'string' ? v : formatValue(v); if (prec !== undefined) s = [...s].slice(0, Number(prec)).join(''); break;
      case 'q': s = typeof v === 'number' ? `'${String.fromCodePoint(v)}'` : JSON.stringify(typeof v === 'string' ? v : formatValue(v)); break;
      case 'd': s = typeof v === 'number' ? String(Math.trunc(v)) : `%!d(${typeName(v)}=${formatValue(v)})`; if (flags.includes('+') && typeof v === 'number' && v >= 0) s = `+${s}`; break;
      case 't': s = typeof v === 'boolean' ? String(v) : `%!t(${typeName(v)}=${formatValue(v)})`; break;
      case 'x': case 'X': s = typeof v === 'number' ? Math.trunc(v).toString(16) : Buffer.from(String(v)).toString('hex'); if (verb === 'X') s = s.toUpperCase(); break;
      case 'o': s = typeof v === 'number' ? Math.trunc(v).toString(8) : formatValue(v); break;
      case 'b': s = typeof v === 'number' ? Math.trunc(v).toString(2) : formatValue(v); break;
      case 'c': s = typeof v === 'number' ? String.fromCodePoint(v) : formatValue(v); break;
      case 'e': case 'E': s = typeof v === 'number' ? v.toExponential(prec === undefined ? 6 : Number(prec)).replace(/e([+-])(\d)$/, 'e$10$2') : formatValue(v); if (verb === 'E') s = s.toUpperCase(); break;
      case 'f': case 'F': s = typeof v === 'number' ? v.toFixed(prec === undefined ? 6 : Number(prec)) : formatValue(v); break;
      case 'g': case 'G': s = typeof v === 'number' ? (prec === undefined ? goNumber(v) : String(Number(v.toPrecision(Number(prec))))) : formatValue(v); break;
      default: return `%!${verb}(${typeName(v)}=${formatValue(v)})`;
    }
    const w = width === undefined ? 0 : Number(width);
    const len = [...s].length;
    if (len < w) {
      if (flags.includes('-')) s = s + ' '.repeat(w - len);
      else if (flags.includes('0') && /[dxXobeEfFgG]/.test(verb)) s = (s.startsWith('-') ? '-' + s.slice(1).padStart(w - 1, '0') : s.padStart(w, '0'));
      else s = ' '.repeat(w - len) + s;
    }
    return s;
  }) + (i < args.length ? `%!(EXTRA ${args.slice(i).map((a) => `${typeName(a)}=${formatValue(a)}`).join(', ')})` : '');
}

function compareBasic(fn: string, a: unknown, b: unknown): number {
  const kind = (v: unknown) => (typeof v === 'number' ? 'number' : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : 'other');
  if (kind(a) !== kind(b) || kind(a) === 'other') throw new TemplateError(`error calling ${fn}: incompatible types for comparison`);
  if (kind(a) === 'bool' && fn !== 'eq' && fn !== 'ne') throw new TemplateError(`error calling ${fn}: invalid type for comparison`);
  return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
}

const strArg = (fn: string, v: unknown): string => {
  if (typeof v !== 'string') throw new TemplateError(`wrong type for value; expected string; got ${typeName(v)}`);
  return v;
};

/** JSON as Go's encoder writes it with HTML escaping off (what Podman's json function uses): compact, one line. */
export function goJson(v: unknown, indent?: string): string {
  // Fields left undefined are left out, as Go's `omitempty` leaves them.
  return JSON.stringify(v === undefined ? null : v, undefined, indent) ?? 'null';
}

export const BUILTINS: Record<string, Fn> = {
  and: (...a) => { for (const x of a) if (!truthy(x)) return x; return a[a.length - 1]; },
  or: (...a) => { for (const x of a) if (truthy(x)) return x; return a[a.length - 1]; },
  not: (a) => !truthy(a),
  len: (a) => {
    if (typeof a === 'string') return Buffer.byteLength(a);
    if (Array.isArray(a)) return a.length;
    if (isMap(a)) return Object.keys(a).length;
    throw new TemplateError(`error calling len: len of type ${typeName(a)}`);
  },
  index: (a, ...keys) => {
    let v = a;
    for (const k of keys) {
      if (Array.isArray(v) || typeof v === 'string') {
        if (typeof k !== 'number') throw new TemplateError(`error calling index: cannot index slice/array with type ${typeName(k)}`);
        if (k < 0 || k >= v.length) throw new TemplateError(`error calling index: index out of range: ${k}`);
        v = typeof v === 'string' ? v.charCodeAt(k) : v[k];
      } else if (isObject(v)) {
        v = v[String(k)];
      } else if (v === null || v === undefined) {
        throw new TemplateError('error calling index: index of untyped nil');
      } else throw new TemplateError(`error calling index: can't index item of type ${typeName(v)}`);
    }
    return v;
  },
  slice: (a, ...idx) => {
    if (typeof a !== 'string' && !Array.isArray(a)) throw new TemplateError(`error calling slice: can't slice item of type ${typeName(a)}`);
    const [from = 0, to = a.length] = idx as number[];
    return a.slice(from, to);
  },
  print: (...a) => a.map((x, k) => (k > 0 && typeof x !== 'string' && typeof a[k - 1] !== 'string' ? ' ' : '') + formatValue(x)).join(''),
  println: (...a) => `${a.map(formatValue).join(' ')}\n`,
  printf: (f, ...a) => sprintf(strArg('printf', f), ...a),
  eq: (a, ...bs) => {
    if (bs.length === 0) throw new TemplateError('error calling eq: missing argument for comparison');
    return bs.some((b) => (a === null || b === null ? a === b : compareBasic('eq', a, b) === 0));
  },
  ne: (a, b) => (a === null || b === null ? a !== b : compareBasic('ne', a, b) !== 0),
  lt: (a, b) => compareBasic('lt', a, b) < 0,
  le: (a, b) => compareBasic('le', a, b) <= 0,
  gt: (a, b) => compareBasic('gt', a, b) > 0,
  ge: (a, b) => compareBasic('ge', a, b) >= 0,
  html: (...a) => BUILTINS.print(...a) as string === undefined ? '' : (BUILTINS.print(...a) as string).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!),
  js: (...a) => (BUILTINS.print(...a) as string).replace(/[\\'"<>&=]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`),
  urlquery: (...a) => encodeURIComponent(BUILTINS.print(...a) as string),
  // Podman's own (containers/common's report functions)
  json: (v) => goJson(v),
  lower: (s) => strArg('lower', s).toLowerCase(),
  upper: (s) => strArg('upper', s).toUpperCase(),
  title: (s) => strArg('title', s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, ch: string) => pre + ch.toUpperCase()),
  join: (a, sep) => {
    if (!Array.isArray(a)) throw new TemplateError(`wrong type for value; expected []string; got ${typeName(a)}`);
    return a.map((x) => (typeof x === 'string' ? x : formatValue(x))).join(strArg('join', sep));
  },
  split: (s, sep) => strArg('split', s).split(strArg('split', sep)),
  truncate: (s, n) => { const str = strArg('truncate', s); return typeof n === 'number' && [...str].length > n ? [...str].slice(0, n).join('') : str; },
  pad: (s, n, ch) => { const str = strArg('pad', s); const w = Number(n); const c = typeof ch === 'string' && ch ? ch : ' '; return [...str].length >= w ? str : str + c.repeat(w - [...str].length); },
};
for (const k of Object.keys(BUILTINS)) FUNCS_KNOWN.add(k);

// ---------------------------------------------------------------------------------------------
// Execution

class Break {}
class Continue {}

interface Scope { vars: Array<[string, unknown]> }

export class Template {
  private readonly nodes: Node[];
  private readonly funcs: Record<string, Fn>;

  /** Text and plain field actions only ({{.ID}}\t{{.Names}}, every table's default): executed without the general walk. */
  private readonly plain?: Array<string | { names: string[]; at: At }>;

  constructor(readonly source: string, readonly name = 'template', funcs: Record<string, Fn> = {}) {
    this.funcs = { ...BUILTINS, ...funcs };
    this.nodes = new Parser(lex(source, name), name, this.funcs).parse();
    const plain = this.nodes.map((n) => {
      if (n.n === 'text') return n.text;
      if (n.n !== 'action' || n.pipe.decl.length || n.pipe.cmds.length !== 1 || n.pipe.cmds[0].args.length !== 1) return undefined;
      const a = n.pipe.cmds[0].args[0];
      return a.a === 'field' ? { names: a.names, at: a.at } : undefined;
    });
    if (plain.every((x) => x !== undefined)) this.plain = plain as Array<string | { names: string[]; at: At }>;
  }

  /** The names of the top-level fields the template reads ({{.A}} and {{.A.B}} give "A"), in order: table headers. */
  fields(): string[] {
    const out: string[] = [];
    const walkPipe = (p: Pipe) => { for (const c of p.cmds) for (const a of c.args) { if (a.a === 'field') out.push(a.names[0]); if (a.a === 'sub') walkPipe(a.pipe); } };
    const walk = (ns: Node[]) => { for (const n of ns) { if ('pipe' in n) walkPipe(n.pipe); if ('body' in n) { walk(n.body); walk(n.otherwise); } } };
    walk(this.nodes);
    return out;
  }

  execute(data: unknown): string {
    if (this.plain) {
      let text = '';
      for (const p of this.plain) text += typeof p === 'string' ? p : formatValue(this.fieldChain(data, p.names, p.at));
      return text;
    }
    const out: string[] = [];
    const scope: Scope = { vars: [['$', data]] };
    this.run(this.nodes, data, scope, out);
    return out.join('');
  }

  private fail(at: At, msg: string): never {
    throw new TemplateError(`template: ${this.name}:${at.line}:${at.col}: executing "${this.name}" at <${at.src}>: ${msg}`);
  }

  private run(nodes: Node[], dot: unknown, scope: Scope, out: string[]): void {
    for (const n of nodes) {
      switch (n.n) {
        case 'text': out.push(n.text); break;
        case 'action': {
          const v = this.pipe(n.pipe, dot, scope, n.at);
          if (n.pipe.decl.length === 0) out.push(formatValue(v));
          break;
        }
        case 'if': case 'with': {
          const mark = scope.vars.length;
          const v = this.pipe(n.pipe, dot, scope, n.at);
          if (truthy(v)) this.run(n.body, n.n === 'with' ? v : dot, scope, out);
          else this.run(n.otherwise, dot, scope, out);
          scope.vars.length = mark;
          break;
        }
        case 'range': {
          const mark = scope.vars.length;
          const v = this.pipe({ ...n.pipe, decl: [] }, dot, scope, n.at);
          let entries: Array<[unknown, unknown]>;
          if (Array.isArray(v)) entries = v.map((x, k) => [k, x]);
          else if (isObject(v) && isMap(v)) entries = Object.keys(v).sort().map((k) => [k, v[k]]);
          else if (typeof v === 'number' && Number.isInteger(v)) entries = Array.from({ length: Math.max(0, v) }, (_x, k) => [k, k]);
          else if (v === null || v === undefined) entries = [];
          else this.fail(n.at, `range can't iterate over ${formatValue(v)}`);
          if (entries!.length === 0) { this.run(n.otherwise, dot, scope, out); scope.vars.length = mark; break; }
          for (const [k, x] of entries!) {
            scope.vars.length = mark;
            if (n.pipe.decl.length === 1) scope.vars.push([n.pipe.decl[0], x]);
            if (n.pipe.decl.length === 2) scope.vars.push([n.pipe.decl[0], k], [n.pipe.decl[1], x]);
            try { this.run(n.body, x, scope, out); } catch (e) {
              if (e instanceof Break) break;
              if (e instanceof Continue) continue;
              throw e;
            }
          }
          scope.vars.length = mark;
          break;
        }
        case 'break': throw new Break();
        case 'continue': throw new Continue();
      }
    }
  }

  private pipe(p: Pipe, dot: unknown, scope: Scope, at: At): unknown {
    let value: unknown;
    let have = false;
    for (const cmd of p.cmds) {
      value = this.command(cmd, dot, scope, at, have ? [value] : []);
      have = true;
    }
    if (p.decl.length === 1) {
      if (p.assign) {
        const slot = [...scope.vars].reverse().find(([name]) => name === p.decl[0]);
        if (!slot) this.fail(at, `undefined variable: ${p.decl[0]}`);
        slot![1] = value;
      } else scope.vars.push([p.decl[0], value]);
    }
    return value;
  }

  private command(cmd: Cmd, dot: unknown, scope: Scope, at: At, piped: unknown[]): unknown {
    const [first, ...rest] = cmd.args;
    if (first.a === 'ident') {
      const fn = this.funcs[first.name];
      // and/or stop at the first operand that decides (Go 1.18+)
      const args = [...rest.map((a) => this.arg(a, dot, scope, at)), ...piped];
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof TemplateError) this.fail(at, e.message.startsWith('error calling') ? e.message : `error calling ${first.name}: ${e.message}`);
        throw e;
      }
    }
    if (rest.length > 0 || piped.length > 0) {
      if (first.a === 'field') this.fail(at, `can't evaluate field ${first.names[first.names.length - 1]}: it is not a method taking arguments`);
      this.fail(at, `can't give argument to non-function ${at.src}`);
    }
    return this.arg(first, dot, scope, at);
  }

  private arg(a: Arg, dot: unknown, scope: Scope, at: At): unknown {
    switch (a.a) {
      case 'const': return a.v;
      case 'dot': return dot;
      case 'field': return this.fieldChain(dot, a.names, a.at);
      case 'var': {
        const slot = [...scope.vars].reverse().find(([name]) => name === a.name);
        if (!slot) this.fail(at, `undefined variable: ${a.name}`);
        return this.fieldChain(slot![1], a.names, at);
      }
      case 'sub': return this.fieldChain(this.pipe(a.pipe, dot, scope, at), a.names, at);
      case 'ident': return this.command({ args: [a] }, dot, scope, at, []);
    }
  }

  private fieldChain(v: unknown, names: string[], at: At): unknown {
    for (const name of names) {
      if (v === undefined || v === null) this.fail(at, `nil pointer evaluating ${typeName(v)}.${name}`);
      if (isMap(v)) { v = v[name]; continue; }
      if (typeof v !== 'object' || Array.isArray(v)) this.fail(at, `can't evaluate field ${name} in type ${typeName(v)}`);
      const o = v as Record<string, unknown>;
      if (!(name in o)) this.fail(at, `can't evaluate field ${name} in type ${typeName(v)}`);
      const x = o[name];
      v = typeof x === 'function' ? (x as () => unknown).call(o) : x;
    }
    return v;
  }
}

// ---------------------------------------------------------------------------------------------
// Go's text/tabwriter, as Podman configures it (minwidth 12, tabwidth 2, padding 2, spaces)

export function tabwrite(text: string, minwidth = 12, padding = 2): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  // Go counts runes: code points, which is .length unless there are surrogate pairs.
  const width = (s: string) => (/[\uD800-\uDFFF]/.test(s) ? [...s].length : s.length);
  const out: string[] = [];
  const widths: number[] = [];
  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        const c = cells[j];
        if (j < cells.length - 1 && j < widths.length) s += c + ' '.repeat(Math.max(0, widths[j] - width(c)));
        else s += c;
      }
      out.push(s);
    }
  };
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i].length - 1) continue;
      writeLines(line0, i);
      line0 = i;
      let w = minwidth;
      for (; i < line1; i++) {
        if (column >= lines[i].length - 1) break;
        w = Math.max(w, width(lines[i][column]) + padding);
      }
      widths.push(w);
      format(line0, i);
      widths.pop();
      line0 = i;
      i--; // the for loop's i++ lands on the line that ended the block
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}
