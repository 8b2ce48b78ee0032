// The base of every command: run() does the work; errors become one line, a hint and an exit code.
import { Command } from 'clipanion';
import { TspodError, UsageError, EXIT_TSPOD } from '../errors.js';

export abstract class TspodCommand extends Command {
  abstract run(): Promise<number | void>;

  /** Option validators fail here, before execute(): they are usage errors too. */
  async validateAndExecute(): Promise<number> {
    try {
      return await super.validateAndExecute();
    } catch (e) {
      return reportError(e instanceof TspodError ? e : new UsageError(firstLine(e), `see \`tspod ${this.path.join(' ')} --help\``));
    }
  }

  async execute(): Promise<number> {
    try {
      return (await this.run()) ?? 0;
    } catch (e) {
      return reportError(e);
    }
  }
}

export function reportError(e: unknown): number {
  const debug = process.env.TSPOD_LOG_LEVEL === 'debug';
  if (e instanceof TspodError) {
    process.stderr.write(`Error: ${e.message}\n${e.hint ? `Hint: ${e.hint}\n` : ''}`);
    if (debug) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  const what = err?.code && err?.path ? `${err.syscall ?? 'access'} ${err.path}: ${errnoWords(err)}` : err?.message ?? String(e);
  process.stderr.write(`Error: ${what}\n`);
  if (debug) process.stderr.write(`${err?.stack}\n`);
  else process.stderr.write('Hint: run again with --log-level debug for details\n');
  return EXIT_TSPOD;
}

/** "ENOENT: no such file or directory, open '/x'" -> "no such file or directory (ENOENT)" */
function errnoWords(err: NodeJS.ErrnoException): string {
  const words = /^[A-Z]+: ([^,]+)/.exec(err.message)?.[1];
  return words ? `${words} (${err.code})` : String(err.code);
}

/** "--tls-verify", "--tls-verify=false": undefined when not given. */
export function tlsVerifyFlag(value: string | boolean | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new TspodError('E_USAGE', `--tls-verify takes true or false, not "${value}"`);
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0].replace(/\.$/, '');

/**
 * What clipanion found wrong with the command line, as one line in Podman's words: "unknown flag:
 * --foo", "flag needs an argument: --filter". `words` are the arguments, to name the command.
 */
export function usageFailure(e: unknown, words: string[]): UsageError {
  const err = e as { name?: string; candidates?: Array<{ usage: string; reason: string | null }> };
  const command = words.filter((w) => !w.startsWith('-')).slice(0, 2).join(' ');
  const reason = err.candidates?.find((c) => c.reason)?.reason ?? '';
  const help = (c: string) => `see \`tspod ${c} --help\``;
  const named = err.candidates?.length ? /^\$ tspod ((?:[a-z]+ ?)+)/.exec(`$ ${err.candidates[0].usage}`)?.[1].trim() ?? command : command;
  let m: RegExpExecArray | null;
  if ((m = /^Unsupported option name \("(.*)"\)/.exec(reason))) return new UsageError(`unknown flag: ${m[1]}`, help(named));
  if ((m = /^Not enough arguments to option (\S+?)\.?$/.exec(reason))) return new UsageError(`flag needs an argument: ${m[1]}`, help(named));
  if ((m = /^Extraneous positional argument \("(.*)"\)/.exec(reason))) return new UsageError(`tspod ${named} takes no argument "${m[1]}"`, help(named));
  if (/^Not enough positional arguments/.test(reason)) return new UsageError(`tspod ${named} needs more arguments`, help(named));
  if (reason) return new UsageError(firstLine(reason), help(named));
  if (err.name === 'UnknownSyntaxError' || err.name === 'AmbiguousSyntaxError') {
    return new UsageError(`unrecognized command \`tspod ${words.slice(0, 2).join(' ')}\``, 'see `tspod --help` for the commands');
  }
  return new UsageError(firstLine(e), 'see `tspod --help`');
}
