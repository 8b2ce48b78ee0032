// The base of every command: run() does the work; errors become one line, a hint and an exit code.
import fs from 'node:fs';
import { Command } from './kit.js';
import { TspodError, UsageError, EXIT_TSPOD } from '../errors.js';

export abstract class TspodCommand extends Command {
  abstract run(): Promise<number | void>;

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
    // One line, what went wrong and what to do; a usage error adds Podman's "See 'tspod CMD --help'".
    const line = e.bare ? e.message : `Error: ${e.message}`;
    const hint = !e.hint ? '' : e instanceof UsageError ? `\n${e.hint}` : `; ${e.hint}`;
    process.stderr.write(`${line}${hint}\n`);
    if (debug) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  const what = err?.code && err?.path ? `${err.syscall ?? 'access'} ${err.path}: ${errnoWords(err)}` : err?.message ?? String(e);
  process.stderr.write(`Error: ${what}${debug ? '' : '; run again with --log-level debug for details'}\n`);
  if (debug) process.stderr.write(`${err?.stack}\n`);
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

/** Ask on stderr and read one answer line from stdin, as Podman's prune does; anything but y/yes (or no input at all) is no. */
export function confirm(question: string): boolean {
  process.stderr.write(`${question} [y/N] `);
  let answer = '';
  const byte = Buffer.alloc(1);
  try {
    while (fs.readSync(0, byte, 0, 1, null) === 1 && byte[0] !== 10) answer += String.fromCharCode(byte[0]);
  } catch { /* no stdin: no */ }
  return /^y(es)?$/i.test(answer.trim());
}
