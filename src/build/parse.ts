// Containerfile / Dockerfile syntax, as Docker documents it and BuildKit's syntax 1.4 reads it:
// parser directives (`# escape=`, `# syntax=`), comments, line continuations, heredocs
// (`<<EOF`, `<<-EOF`, quoted terminators that turn expansion off), leading `--flag=value`s, and
// the exec (JSON) and shell forms. Variables are left alone: the executor expands them per step,
// since their values depend on the stage's ARGs and ENVs.
import { TspodError } from '../errors.js';

export const INSTRUCTIONS = ['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'] as const;
export type Keyword = typeof INSTRUCTIONS[number];

/** Instructions whose leading `--name[=value]` words are flags. */
const FLAGGED = new Set<Keyword>(['FROM', 'RUN', 'ADD', 'COPY', 'HEALTHCHECK']);
/** Instructions that may carry heredocs. */
const HEREDOCS = new Set<Keyword>(['RUN', 'ADD', 'COPY']);

export interface Heredoc { name: string; content: string; /** the terminator was quoted: no variable expansion */ literal: boolean }

export interface Instruction {
  keyword: Keyword;
  /** 1-based line where it starts */
  line: number;
  flags: Array<{ name: string; value?: string }>;
  /** what follows the keyword and the flags, continuation lines joined */
  args: string;
  /** the exec form, when args are a JSON array of strings */
  json?: string[];
  heredocs: Heredoc[];
}

export interface Stage { from: Instruction; name?: string; index: number; instructions: Instruction[] }

export interface Containerfile {
  escape: string;
  syntax?: string;
  /** ARGs before the first FROM: visible to FROM lines only */
  globalArgs: Instruction[];
  stages: Stage[];
}

export class BuildSyntaxError extends TspodError {
  constructor(file: string, line: number, why: string) {
    super('E_BUILD_SYNTAX', `${file}:${line}: ${why}`, { hint: 'fix the Containerfile; nothing was built' });
  }
}

/** `--name=value` and `--name` words at the start of args; the rest stays as written. */
function takeFlags(args: string): { flags: Instruction['flags']; rest: string } {
  const flags: Instruction['flags'] = [];
  let rest = args;
  for (;;) {
    const m = /^--([A-Za-z][\w-]*)(?:=("(?:[^"\\]|\\.)*"|\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    flags.push({ name: m[1], value: m[2] === undefined ? undefined : m[2].replace(/^"(.*)"$/s, '$1') });
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

function execForm(args: string): string[] | undefined {
  const t = args.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch { return undefined; }
}

export function parseContainerfile(text: string, file = 'Containerfile'): Containerfile {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let escape = '\\';
  let syntax: string | undefined;
  let i = 0;
  // Parser directives: only at the very top, before any comment, blank line or instruction.
  for (; i < lines.length; i++) {
    const m = /^\s*#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$/.exec(lines[i]);
    if (!m) break;
    const key = m[1].toLowerCase();
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new BuildSyntaxError(file, i + 1, `invalid escape character "${m[2]}": use \\ or \``);
      escape = m[2];
    } else if (key === 'syntax') syntax = m[2];
    else break; // not a directive: an ordinary comment
  }
  const out: Instruction[] = [];
  const isComment = (l: string) => /^\s*#/.test(l);
  while (i < lines.length) {
    const start = i;
    let line = lines[i++];
    if (!line.trim() || isComment(line)) continue;
    // Join continuation lines; comment lines and empty lines inside a continuation are dropped.
    let joined = '';
    for (;;) {
      const trimmed = line.replace(/\s+$/, '');
      if (trimmed.endsWith(escape)) {
        joined += trimmed.slice(0, -1);
        while (i < lines.length && (isComment(lines[i]) || !lines[i].trim())) i++;
        if (i >= lines.length) break;
        line = lines[i++];
        continue;
      }
      joined += line;
      break;
    }
    const m = /^\s*(\S+)\s*(.*)$/s.exec(joined);
    if (!m) continue;
    const keyword = m[1].toUpperCase() as Keyword;
    if (!(INSTRUCTIONS as readonly string[]).includes(keyword)) throw new BuildSyntaxError(file, start + 1, `unknown instruction: ${m[1]}`);
    let args = m[2].trim();
    let flags: Instruction['flags'] = [];
    if (FLAGGED.has(keyword)) ({ flags, rest: args } = takeFlags(args));
    const heredocs: Heredoc[] = [];
    if (HEREDOCS.has(keyword)) {
      // Each <<[-]WORD (WORD possibly quoted) takes the lines after the instruction up to WORD alone.
      for (const h of args.matchAll(/<<(-?)(["']?)([A-Za-z_][\w]*)\2/g)) {
        const strip = h[1] === '-';
        const body: string[] = [];
        for (;;) {
          if (i >= lines.length) throw new BuildSyntaxError(file, start + 1, `the heredoc <<${h[3]} is never ended by a line "${h[3]}"`);
          const l = lines[i++];
          if ((strip ? l.replace(/^\t+/, '') : l) === h[3]) break;
          body.push(strip ? l.replace(/^\t+/, '') : l);
        }
        heredocs.push({ name: h[3], content: body.length ? `${body.join('\n')}\n` : '', literal: h[2] !== '' });
      }
    }
    if (!args && !heredocs.length) throw new BuildSyntaxError(file, start + 1, `${keyword} needs an argument`);
    out.push({ keyword, line: start + 1, flags, args, json: heredocs.length ? undefined : execForm(args), heredocs });
  }
  if (!out.length) throw new BuildSyntaxError(file, 1, 'the file has no instructions');
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of out) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(ins.args);
      if (!m) throw new BuildSyntaxError(file, ins.line, `FROM takes IMAGE [AS NAME], not "${ins.args}"`);
      stages.push({ from: ins, name: m[2]?.toLowerCase(), index: stages.length, instructions: [] });
    } else if (!stages.length) {
      if (ins.keyword !== 'ARG') throw new BuildSyntaxError(file, ins.line, `${ins.keyword} before the first FROM: only ARG may come before it`);
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  if (!stages.length) throw new BuildSyntaxError(file, out[out.length - 1].line, 'no FROM: every build starts FROM an image (or scratch)');
  return { escape, syntax, globalArgs, stages };
}
