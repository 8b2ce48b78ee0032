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
  | { kind: 'rest'; required: number }
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
  Rest: (opts: { required?: number } = {}): string[] => flag({ kind: 'rest', required: opts.required ?? 0 }),
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
export function parseInto(cmd: Command, args: string[]): void {
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

  const set = (f: Field, name: string, value: string | undefined, takeNext: () => string | undefined): void => {
    const s = f.spec;
    if (s.kind === 'boolean') {
      if (value === undefined) { values.set(f.key, true); return; }
      if (value !== 'true' && value !== 'false') throw new UsageError(`invalid argument "${value}" for ${name}: it takes true or false`, `see \`${who} --help\``);
      values.set(f.key, value === 'true');
      return;
    }
    if (s.kind === 'string' && s.tolerateBoolean && value === undefined) { values.set(f.key, true); return; }
    const v = value ?? takeNext();
    if (v === undefined) throw new UsageError(`flag needs an argument: ${name}`, `see \`${who} --help\``);
    if (s.kind === 'array') (values.get(f.key) as string[]).push(v);
    else values.set(f.key, v);
  };
  const positional = (arg: string): void => {
    if (nextPositional < positionals.length) values.set(positionals[nextPositional++].key, arg);
    else if (proxy) (values.get(proxy.key) as string[]).push(arg);
    else if (rest) (values.get(rest.key) as string[]).push(arg);
    else throw new UsageError(`${who} takes no argument "${arg}"`, `see \`${who} --help\``);
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const takeNext = () => (i + 1 < args.length ? args[++i] : undefined);
    // After the last positional (the image, the container), everything is the proxy's, as written.
    if (proxy && positionals.length && nextPositional === positionals.length) { (values.get(proxy.key) as string[]).push(...args.slice(i)); break; }
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
      throw new UsageError(`unknown flag: ${name}`, `see \`${who} --help\``);
    }
    // A cluster of short flags: -it, -dit, -t10, -e=A=1
    for (let k = 1; k < arg.length; k++) {
      const name = `-${arg[k]}`;
      const f = byName.get(name);
      if (!f) throw new UsageError(`unknown shorthand flag: '${arg[k]}' in ${arg}`, `see \`${who} --help\``);
      if (f.spec.kind === 'boolean') { set(f, name, undefined, takeNext); continue; }
      const attached = arg.slice(k + 1);
      set(f, name, attached === '' ? undefined : attached.replace(/^=/, ''), takeNext);
      break;
    }
  }
  if (nextPositional < positionals.length) {
    const missing = positionals.slice(nextPositional).map((f) => (f.spec as { name: string }).name).join(' ');
    throw new UsageError(`${who} needs ${missing}`, `see \`${who} --help\``);
  }
  if (rest && (values.get(rest.key) as string[]).length < (rest.spec as { required: number }).required) {
    throw new UsageError(`${who} needs at least ${(rest.spec as { required: number }).required} argument`, `see \`${who} --help\``);
  }
  for (const [key, v] of values) (cmd as unknown as Record<string, unknown>)[key] = v;
}

/** How a command is written, for its help: `tspod run [flags] IMAGE [COMMAND...]`. */
function synopsis(c: CommandClass): string {
  const fields = fieldsOf(new c());
  const words = fields.map((f) => f.spec.kind === 'positional' ? f.spec.name : f.spec.kind === 'rest' ? (f.spec.required ? 'ARG...' : '[ARG...]') : f.spec.kind === 'proxy' ? '[COMMAND [ARG...]]' : undefined).filter(Boolean);
  return `tspod ${c.paths[0].join(' ')}${fields.some((f) => 'names' in f.spec) ? ' [flags]' : ''}${words.length ? ` ${words.join(' ')}` : ''}`;
}

export class Cli {
  private readonly commands: CommandClass[] = [];
  constructor(private readonly opts: { name: string; version: string }) {}

  register(c: CommandClass): void { this.commands.push(c); }

  /** The command argv names, ready to run; help and version are commands too. Throws UsageError. */
  process(argv: string[]): Command {
    if (argv[0] === '--version' || argv[0] === '-v') return this.printing(`${this.opts.name} version ${this.opts.version}\n`);
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
      if (argv.length === 0 || wantsHelp()) return this.printing(this.overview());
      throw new UsageError(`unrecognized command \`${this.opts.name} ${argv.slice(0, 2).join(' ')}\``, `see \`${this.opts.name} --help\` for the commands`);
    }
    if (wantsHelp(best.c)) return this.printing(this.usage(best.c));
    const cmd = new best.c();
    cmd.path = best.path;
    parseInto(cmd, argv.slice(best.path.length));
    return cmd;
  }

  private printing(text: string): Command {
    return new (class extends Command { async execute() { process.stdout.write(text); return 0; } })();
  }

  /** Every command, by category. */
  overview(): string {
    const byCategory = new Map<string, string[]>();
    for (const c of this.commands) {
      const cat = c.usage?.category ?? 'Other';
      byCategory.set(cat, [...(byCategory.get(cat) ?? []), `  ${synopsis(c).padEnd(48)}  ${c.usage?.description ?? ''}`]);
    }
    return `${this.opts.name} ${this.opts.version}: daemonless, rootless containers\n\nUsage: ${this.opts.name} [--log-level debug] COMMAND [flags] [ARG...]\n\n`
      + [...byCategory].map(([cat, lines]) => `${cat}\n${lines.join('\n')}\n`).join('\n')
      + `\nRun \`${this.opts.name} COMMAND --help\` for a command's flags and examples.\n`;
  }

  /** One command's help: what it does, its flags, examples. */
  usage(c: CommandClass): string {
    const u = c.usage;
    const flags = fieldsOf(new c()).filter((f) => 'names' in f.spec).map((f) => {
      const s = f.spec as Extract<Spec, { names: string[] }>;
      const names = s.names.join(', ') + (s.kind === 'boolean' ? '' : s.kind === 'array' ? ' VALUE (repeatable)' : ' VALUE');
      const initial = s.kind === 'string' && s.initial !== undefined ? ` (default ${s.initial})` : s.kind === 'boolean' && s.initial ? ' (default true)' : '';
      return `  ${names.padEnd(30)}  ${s.description ?? ''}${initial}`;
    });
    const details = u?.details?.trim().split('\n').map((l) => l.trim()).join('\n');
    const aliases = c.paths.slice(1).map((p) => `${this.opts.name} ${p.join(' ')}`);
    return [
      `${synopsis(c)}`, '', u?.description ?? '', ...(details ? ['', details] : []),
      ...(aliases.length ? ['', `Also: ${aliases.join(', ')}`] : []),
      ...(flags.length ? ['', 'Flags', ...flags] : []),
      ...(u?.examples?.length ? ['', 'Examples', ...u.examples.flatMap(([label, line]) => [`  ${label}`, `    $ ${line.replace(/\$0/g, this.opts.name)}`])] : []),
      '',
    ].join('\n');
  }
}
