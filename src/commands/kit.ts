// tspod's command-line kit: one class per command with its options declared as fields (the shape
// of clipanion's API, which the commands were first written against), parsed in one pass over
// argv the way Podman's flags are (`-it`, `--name=x`, `--name x`, `-t10`, `--flag=false`, `--`).
// Nothing is compiled up front: clipanion built a state machine for the command line at every
// start, 9 ms of a 90 ms `run`. Usage errors are UsageErrors in Podman's words.
import { UsageError } from '../errors.js';

type Spec =
  | { kind: 'string'; names: string[]; initial?: string; tolerateBoolean?: boolean; description?: string }
  | { kind: 'boolean'; names: string[]; initial: boolean; description?: string }
  | { kind: 'array'; names: string[]; initial: string[]; description?: string }
  | { kind: 'positional'; name: string }
  | { kind: 'rest'; required: number; name?: string; /** the words help shows, when they are not NAME [NAME...] */ synopsis?: string }
  | { kind: 'proxy' };

/** What an option field holds until the command line is parsed. */
class Declared { constructor(readonly spec: Spec) {} }

interface FlagOptions { description?: string; tolerateBoolean?: boolean }

function flag<T>(spec: Spec): T { return new Declared(spec) as unknown as T; }
const namesOf = (descriptor: string) => descriptor.split(',').map((n) => n.trim());

function stringOption(positional: { name: string }): string;
function stringOption(names: string, opts?: FlagOptions & { tolerateBoolean?: false }): string | undefined;
function stringOption(names: string, opts: FlagOptions & { tolerateBoolean: true }): string | boolean | undefined;
function stringOption(names: string, initial: string, opts?: FlagOptions): string;
function stringOption(a: string | { name: string }, b?: string | FlagOptions, c?: FlagOptions): unknown {
  if (typeof a !== 'string') return flag({ kind: 'positional', name: a.name });
  const opts = (typeof b === 'string' ? c : b) ?? {};
  return flag({ kind: 'string', names: namesOf(a), initial: typeof b === 'string' ? b : undefined, tolerateBoolean: opts.tolerateBoolean, description: opts.description });
}

export const Option = {
  String: stringOption,
  Boolean: (names: string, initial = false, opts: FlagOptions = {}): boolean => flag({ kind: 'boolean', names: namesOf(names), initial, description: opts.description }),
  Array: (names: string, initial: string[] = [], opts: FlagOptions = {}): string[] => flag({ kind: 'array', names: namesOf(names), initial, description: opts.description }),
  /** every further positional argument; flags may stand between them */
  Rest: (opts: { required?: number; name?: string; synopsis?: string } = {}): string[] => flag({ kind: 'rest', required: opts.required ?? 0, name: opts.name, synopsis: opts.synopsis }),
  /** everything after the last positional, verbatim, flags included: a container's command */
  Proxy: (): string[] => flag({ kind: 'proxy' }),
};

export interface Usage {
  category?: string;
  description: string;
  details?: string;
  examples?: Array<[string, string]>;
}

export abstract class Command {
  static paths: string[][] = [];
  static usage?: Usage;
  static Usage(usage: Usage): Usage { return usage; }
  /** the words that named the command, e.g. ["container", "rm"] */
  path: string[] = [];
  abstract execute(): Promise<number>;
}

export type CommandClass = (new () => Command) & { paths: string[][]; usage?: Usage };

interface Field { key: string; spec: Spec }

/** The declared options of a command instance, in field order. */
function fieldsOf(cmd: Command): Field[] {
  return Object.entries(cmd).filter(([, v]) => v instanceof Declared).map(([key, v]) => ({ key, spec: (v as Declared).spec }));
}

/** Parse `args` (what follows the command's path) into the command's fields. */
/**
 * takeGlobal: a global flag (--log-level, --root, ...) among the command's own options, as Podman
 * takes them anywhere before the arguments: how many words it took (0 when it is none).
 */
export function parseInto(cmd: Command, args: string[], takeGlobal?: (words: string[]) => number): void {
  const fields = fieldsOf(cmd);
  const who = `tspod ${cmd.path.join(' ')}`;
  const byName = new Map<string, Field>();
  const values = new Map<string, unknown>();
  for (const f of fields) {
    if (f.spec.kind === 'string' || f.spec.kind === 'boolean' || f.spec.kind === 'array') for (const n of f.spec.names) byName.set(n, f);
    values.set(f.key, f.spec.kind === 'array' ? [...f.spec.initial] : f.spec.kind === 'rest' || f.spec.kind === 'proxy' ? [] : 'initial' in f.spec ? f.spec.initial : undefined);
  }
  const positionals = fields.filter((f) => f.spec.kind === 'positional');
  const rest = fields.find((f) => f.spec.kind === 'rest');
  const proxy = fields.find((f) => f.spec.kind === 'proxy');
  let nextPositional = 0;
  let optionsEnded = false;

  // `shown`: how an error names the flag; Podman says "'h' in -h" for a short one.
  const set = (f: Field, name: string, value: string | undefined, takeNext: () => string | undefined, shown = name): void => {
    const s = f.spec;
    if (s.kind === 'boolean') {
      if (value === undefined) { values.set(f.key, true); return; }
      if (value !== 'true' && value !== 'false') throw new UsageError(`invalid argument "${value}" for ${name}: it takes true or false`, `See '${who} --help'`);
      values.set(f.key, value === 'true');
      return;
    }
    if (s.kind === 'string' && s.tolerateBoolean && value === undefined) { values.set(f.key, true); return; }
    const v = value ?? takeNext();
    if (v === undefined) throw new UsageError(`flag needs an argument: ${shown}`, `See '${who} --help'`);
    if (s.kind === 'array') (values.get(f.key) as string[]).push(v);
    else values.set(f.key, v);
  };
  const positional = (arg: string): void => {
    if (nextPositional < positionals.length) values.set(positionals[nextPositional++].key, arg);
    else if (proxy) (values.get(proxy.key) as string[]).push(arg);
    else if (rest) (values.get(rest.key) as string[]).push(arg);
    else if (positionals.length) throw new UsageError(`\`${who}\` accepts at most ${positionals.length} arg(s), received ${positionals.length + 1}`, `See '${who} --help'`);
    else throw new UsageError(`\`${who}\` takes no arguments`, `See '${who} --help'`);
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const takeNext = () => (i + 1 < args.length ? args[++i] : undefined);
    // After the last positional (the image, the container), everything is the proxy's, as written.
    // (With no positionals, the command's first word starts it.)
    if (proxy && nextPositional === positionals.length && (positionals.length || (values.get(proxy.key) as string[]).length)) { (values.get(proxy.key) as string[]).push(...args.slice(i)); break; }
    if (optionsEnded || arg === '-' || !arg.startsWith('-')) { positional(arg); continue; }
    if (arg === '--') { optionsEnded = true; continue; }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const value = eq < 0 ? undefined : arg.slice(eq + 1);
      const f = byName.get(name);
      if (f) { set(f, name, value, takeNext); continue; }
      // --no-FLAG turns a boolean off, unless --no-FLAG is itself an option.
      const negated = name.startsWith('--no-') ? byName.get(`--${name.slice(5)}`) : undefined;
      if (negated?.spec.kind === 'boolean' && value === undefined) { values.set(negated.key, false); continue; }
      const taken = takeGlobal?.(args.slice(i, i + 2)) ?? 0;
      if (taken) { i += taken - 1; continue; }
      throw new UsageError(`unknown flag: ${name}`, `See '${who} --help'`);
    }
    // A cluster of short flags: -it, -dit, -t10, -e=A=1
    for (let k = 1; k < arg.length; k++) {
      const name = `-${arg[k]}`;
      const f = byName.get(name);
      if (!f) throw new UsageError(`unknown shorthand flag: '${arg[k]}' in ${arg}`, `See '${who} --help'`);
      // -i=false, as pflag reads it: the rest of the word is the boolean's value.
      if (f.spec.kind === 'boolean' && arg[k + 1] === '=') { set(f, name, arg.slice(k + 2), takeNext); break; }
      if (f.spec.kind === 'boolean') { set(f, name, undefined, takeNext); continue; }
      const attached = arg.slice(k + 1);
      set(f, name, attached === '' ? undefined : attached.replace(/^=/, ''), takeNext, `'${arg[k]}' in ${arg}`);
      break;
    }
  }
  if (nextPositional < positionals.length) {
    const missing = positionals.slice(nextPositional).map((f) => (f.spec as { name: string }).name).join(' ');
    throw new UsageError(`\`${who}\` requires ${missing}`, `See '${who} --help'`);
  }
  if (rest && (values.get(rest.key) as string[]).length < (rest.spec as { required: number }).required) {
    throw new UsageError(`\`${who}\` requires at least ${(rest.spec as { required: number }).required} arg(s)`, `See '${who} --help'`);
  }
  for (const [key, v] of values) (cmd as unknown as Record<string, unknown>)[key] = v;
}

/** How a command is written, for its help: `tspod run [options] IMAGE [COMMAND [ARG...]]`. */
function synopsis(c: CommandClass, path = c.paths[0]): string {
  const fields = fieldsOf(new c());
  const words = fields.map((f) => f.spec.kind === 'positional' ? f.spec.name : f.spec.kind === 'rest' ? f.spec.synopsis ?? (f.spec.required ? `${f.spec.name ?? 'ARG'} [${f.spec.name ?? 'ARG'}...]` : `[${f.spec.name ?? 'ARG'}...]`) : f.spec.kind === 'proxy' ? '[COMMAND [ARG...]]' : undefined).filter(Boolean);
  return `tspod ${path.join(' ')}${fields.some((f) => 'names' in f.spec) ? ' [options]' : ''}${words.length ? ` ${words.join(' ')}` : ''}`;
}

/** What an options table shows of a flag. */
export interface OptionHelp { names: string[]; kind: 'boolean' | 'string' | 'array'; description?: string; initial?: string }

/** "Options:" lines as Podman's help writes them: "  -a, --all              Show all" / "      --format string  ...". */
function optionTable(options: OptionHelp[]): string[] {
  const rows = options.map((o) => {
    const short = o.names.find((n) => /^-[^-]$/.test(n));
    const long = o.names.filter((n) => n.startsWith('--'));
    const kind = o.kind === 'boolean' ? '' : o.kind === 'array' ? ' stringArray' : ' string';
    const initial = o.kind === 'string' && o.initial !== undefined ? ` (default "${o.initial}")` : '';
    return [`${short ? `${short}, ` : '    '}${long.join(', ')}${kind}`, `${o.description ?? ''}${initial}`];
  });
  const width = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(width)}   ${b}`.trimEnd());
}

function optionLines(c: CommandClass): string[] {
  return optionTable(fieldsOf(new c()).filter((f) => 'names' in f.spec).map((f) => {
    const s = f.spec as Extract<Spec, { names: string[] }>;
    return { names: s.names, kind: s.kind, description: s.description, initial: s.kind === 'string' ? s.initial : undefined };
  }));
}

/** What a command group (container, image, volume, system) is for. */
const GROUPS: Record<string, string> = {
  container: 'Manage containers', image: 'Manage images', network: 'Manage networks', volume: 'Manage volumes', system: 'Manage tspod',
};

export class Cli {
  private readonly commands: CommandClass[] = [];
  constructor(private readonly opts: { name: string; version: string; globalOptions?: OptionHelp[]; takeGlobal?: (words: string[]) => number }) {}

  register(c: CommandClass): void { this.commands.push(c); }

  /** The command argv names, ready to run; help and version are commands too. Throws UsageError. */
  process(argv: string[]): Command {
    if (argv[0] === '--version' || argv[0] === '-v') return this.printing(`${this.opts.name} version ${this.opts.version}\n`);
    if (argv[0] === 'help') return this.help(argv.slice(1).filter((a) => !a.startsWith('-')));
    let best: { c: CommandClass; path: string[] } | undefined;
    for (const c of this.commands) {
      for (const p of c.paths) if (p.every((w, i) => argv[i] === w) && (!best || p.length > best.path.length)) best = { c, path: p };
    }
    const wantsHelp = (c?: CommandClass) => {
      const own = c ? fieldsOf(new c()).some((f) => 'names' in f.spec && f.spec.names.includes('-h')) : false;
      const end = argv.indexOf('--');
      const before = end < 0 ? argv : argv.slice(0, end);
      return before.includes('--help') || (!own && before.includes('-h'));
    };
    if (!best) {
      const group = argv[0] in GROUPS ? [argv[0]] : [];
      if (argv.length === 0 || (wantsHelp() && !group.length)) return this.printing(this.overview([]));
      if (group.length && (argv.length === 1 || wantsHelp())) {
        if (wantsHelp()) return this.printing(this.overview(group));
        process.stdout.write(this.overview(group));
        throw new UsageError(`missing command '${this.opts.name} ${group[0]} COMMAND'`);
      }
      // As Podman's parser: a flag it does not know is reported before the command it does not know.
      const flag = argv.slice(group.length).find((a) => a.startsWith('-') && a !== '-' && a !== '--');
      if (flag) throw new UsageError(`unknown flag: ${flag.split('=')[0]}`, `See '${[this.opts.name, ...group].join(' ')} --help'`);
      const where = [this.opts.name, ...group].join(' ');
      throw new UsageError(`unrecognized command \`${where} ${argv[group.length]}\``, `Try '${where} --help' for more information`);
    }
    if (wantsHelp(best.c)) return this.printing(this.usage(best.c, best.path));
    const cmd = new best.c();
    cmd.path = best.path;
    parseInto(cmd, argv.slice(best.path.length), this.opts.takeGlobal);
    return cmd;
  }

  private printing(text: string): Command {
    return new (class extends Command { async execute() { process.stdout.write(text); return 0; } })();
  }

  /** `tspod help [GROUP]`: the overview of everything, or of one group. */
  private help(words: string[]): Command {
    if (words.length === 0) return this.printing(this.overview([]));
    if (words.length === 1 && words[0] in GROUPS) return this.printing(this.overview(words));
    const found = this.commands.flatMap((c) => c.paths.map((p) => ({ c, p }))).find(({ p }) => p.join(' ') === words.join(' '));
    if (!found) throw new UsageError(`unrecognized command \`${this.opts.name} ${words.join(' ')}\``, `Try '${this.opts.name} --help' for more information`);
    return this.printing(this.usage(found.c, found.p));
  }

  /** The commands at one level (top, or a group), Podman's layout: Usage, Available Commands, Options. */
  overview(group: string[]): string {
    const entries = new Map<string, string>();
    if (!group.length) for (const [g, d] of Object.entries(GROUPS)) entries.set(g, d);
    for (const c of this.commands) {
      for (const p of c.paths) {
        if (group.length ? p.length === 2 && p[0] === group[0] : p.length === 1) { if (!entries.has(p.at(-1)!)) entries.set(p.at(-1)!, c.usage?.description ?? ''); break; }
      }
    }
    const names = [...entries.keys()].sort();
    const width = Math.max(11, ...names.map((n) => n.length + 1));
    const who = [this.opts.name, ...group].join(' ');
    const title = group.length ? GROUPS[group[0]] : 'Manage pods, containers and images';
    return [title, '', 'Usage:', `  ${who} [options] [command]`, '', 'Available Commands:', ...names.map((n) => `  ${n.padEnd(width)}${entries.get(n)}`), '',
      ...(group.length ? [] : ['Options:', ...optionTable(this.opts.globalOptions ?? []), '']),
      `Run '${who} COMMAND --help' for more information on a command.`, ''].join('\n');
  }

  /** One command's help: what it does, how it is written, its options and examples. */
  usage(c: CommandClass, path = c.paths[0]): string {
    const u = c.usage;
    const options = optionLines(c);
    const details = u?.details?.trim().split('\n').map((l) => `  ${l.trim()}`).join('\n');
    const aliases = c.paths.filter((p) => p !== path).map((p) => p.join(' '));
    return [
      u?.description ?? '', '', ...(details ? ['Description:', details, ''] : []),
      'Usage:', `  ${synopsis(c, path)}`, '',
      ...(aliases.length ? ['Aliases:', `  ${[path.join(' '), ...aliases].join(', ')}`, ''] : []),
      ...(u?.examples?.length ? ['Examples:', ...u.examples.map(([, line]) => `  ${line.replace(/\$0/g, this.opts.name)}`), ''] : []),
      ...(options.length ? ['Options:', ...options, ''] : []),
    ].join('\n');
  }
}
