// Podman's global flags, given before the command: each becomes an environment variable, so the
// helpers tspod starts (conmon's exit command runs tspod again) see the same choices.
import { UsageError, TspodError } from '../errors.js';
import { LEVELS } from '../log.js';

/** flag -> the variable it sets; "" = accepted and not used by tspod (what it governs, tspod does not have) */
const VALUED: Record<string, string> = {
  '--root': 'TSPOD_STORE', '--runroot': 'TSPOD_RUNTIME_DIR', '--runtime': 'TSPOD_RUNTIME', '--storage-driver': 'TSPOD_STORAGE_DRIVER',
  '--volumepath': 'TSPOD_VOLUME_PATH', '--tmpdir': 'TSPOD_TMPDIR', '--conmon': 'TSPOD_CONMON', '--log-level': 'TSPOD_LOG_LEVEL',
  '--config': '', '--cgroup-manager': '', '--events-backend': '', '--hooks-dir': '', '--network-cmd-path': '', '--network-config-dir': '', '--namespace': '',
};
const REPEATED: Record<string, string> = { '--storage-opt': 'TSPOD_STORAGE_OPTS', '--runtime-flag': 'TSPOD_RUNTIME_FLAGS' };
const SWITCHES = ['--noout', '--debug', '-D', '--syslog', '--trace'];
const REMOTE = ['--remote', '-r', '--url', '--connection', '-c', '--identity'];

export interface Globals { argv: string[]; noout: boolean }

/** Take the global flags off the front of argv, into the environment. Throws UsageError, or a TspodError that exits 1 as Podman's does. */
export function takeGlobalFlags(argv: string[]): Globals {
  const out = [...argv];
  let noout = false, debug = false, level: string | undefined;
  const repeated: Record<string, string[]> = {};
  while (out.length && out[0].startsWith('-') && out[0] !== '-' && out[0] !== '--') {
    const arg = out.shift()!;
    if (arg === '--help' || arg === '-h' || arg === '--version' || arg === '-v') { out.unshift(arg); break; }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (SWITCHES.includes(name)) {
      if (name === '--noout') noout = true;
      if (name === '--debug' || name === '-D') debug = true;
      continue;
    }
    if (REMOTE.includes(name)) throw new UsageError(`${name}: tspod has no remote mode (it runs every command itself); drop the flag`);
    const variable = VALUED[name] ?? REPEATED[name];
    if (variable === undefined) throw new UsageError(`unknown flag: ${name}`, `See 'tspod --help'`);
    const value = eq > 0 ? arg.slice(eq + 1) : out.shift();
    if (value === undefined) throw new UsageError(`flag needs an argument: ${name}`, `See 'tspod --help'`);
    if (name === '--log-level') level = value;
    else if (name === '--config') process.stderr.write('Warning: The --config flag is ignored by tspod. Exists for Docker compatibility\n');
    else if (name in REPEATED) (repeated[variable] ??= []).push(value);
    else if (variable) process.env[variable] = value;
  }
  for (const [variable, values] of Object.entries(repeated)) process.env[variable] = JSON.stringify(values);
  if (level !== undefined) {
    if (debug) throw new TspodError('E_USAGE', 'Setting --log-level and --debug is not allowed', { exitCode: 1, bare: true });
    if (!(LEVELS as readonly string[]).includes(level)) throw new TspodError('E_USAGE', `Log Level "${level}" is not supported, choose from: ${LEVELS.join(', ')}`, { exitCode: 1, bare: true });
    process.env.TSPOD_LOG_LEVEL = level;
  } else if (debug) process.env.TSPOD_LOG_LEVEL = 'debug';
  return { argv: out, noout };
}
