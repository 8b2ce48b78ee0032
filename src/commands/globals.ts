// Podman's global flags, given before the command: each becomes an environment variable, so the
// helpers tspod starts (conmon's exit command runs tspod again) see the same choices.
import { UsageError, TspodError } from '../errors.js';
import { LEVELS } from '../log.js';

/**
 * Podman's global flags tspod takes: the variable each sets, and the help shown for it. One without
 * a variable is accepted and governs nothing tspod has; one without a description is not listed.
 */
export interface GlobalFlag { names: string[]; kind: 'boolean' | 'string' | 'array'; variable?: string; description?: string }

export const GLOBAL_FLAGS: GlobalFlag[] = [
  { names: ['--log-level'], kind: 'string', variable: 'TSPOD_LOG_LEVEL', description: `Log messages above specified level (${LEVELS.join(', ')}) (default "warn")` },
  { names: ['-D', '--debug'], kind: 'boolean', description: 'Same as --log-level debug' },
  { names: ['--noout'], kind: 'boolean', description: 'Do not output to stdout' },
  { names: ['--root'], kind: 'string', variable: 'TSPOD_STORE', description: 'Path to the store (default ~/.local/share/tspod)' },
  { names: ['--runroot'], kind: 'string', variable: 'TSPOD_RUNTIME_DIR', description: 'Path to the run state (default $XDG_RUNTIME_DIR/tspod)' },
  { names: ['--runtime'], kind: 'string', variable: 'TSPOD_RUNTIME', description: 'Path to the OCI runtime, or its name (runc, crun)' },
  { names: ['--runtime-flag'], kind: 'array', variable: 'TSPOD_RUNTIME_FLAGS', description: 'Add global flags for the container runtime' },
  { names: ['--storage-driver'], kind: 'string', variable: 'TSPOD_STORAGE_DRIVER', description: 'Select which storage driver is used: overlay (native, else through fuse-overlayfs) or vfs (copies); default: the first that works here' },
  { names: ['--storage-opt'], kind: 'array', variable: 'TSPOD_STORAGE_OPTS', description: 'Used to pass an option to the storage driver (accepted, unused)' },
  { names: ['--volumepath'], kind: 'string', variable: 'TSPOD_VOLUME_PATH', description: 'Path to the volume directory' },
  { names: ['--tmpdir'], kind: 'string', variable: 'TSPOD_TMPDIR' },
  { names: ['--events-backend'], kind: 'string', variable: 'TSPOD_EVENTS_BACKEND', description: 'file (the default: a log in the runtime directory) or none' },
  { names: ['--conmon'], kind: 'string', variable: 'TSPOD_CONMON' },
  { names: ['--default-mounts-file'], kind: 'string', variable: 'TSPOD_DEFAULT_MOUNTS_FILE', description: 'A mounts.conf of SOURCE:DESTINATION lines, bind-mounted read-only into every container' },
  ...['--config', '--cgroup-manager', '--hooks-dir', '--network-cmd-path', '--network-config-dir', '--namespace'].map((n): GlobalFlag => ({ names: [n], kind: 'string' })),
  ...['--syslog', '--trace'].map((n): GlobalFlag => ({ names: [n], kind: 'boolean' })),
];
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
    if (REMOTE.includes(name)) throw new UsageError(`${name}: tspod has no remote mode (it runs every command itself); drop the flag`);
    const flag = GLOBAL_FLAGS.find((f) => f.names.includes(name));
    if (!flag) throw new UsageError(`unknown flag: ${name}`, `See 'tspod --help'`);
    if (flag.kind === 'boolean') {
      if (name === '--noout') noout = true;
      if (name === '--debug' || name === '-D') debug = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : out.shift();
    if (value === undefined) throw new UsageError(`flag needs an argument: ${name}`, `See 'tspod --help'`);
    if (name === '--log-level') level = value;
    else if (name === '--config') process.stderr.write('Warning: The --config flag is ignored by tspod. Exists for Docker compatibility\n');
    else if (flag.variable && flag.kind === 'array') (repeated[flag.variable] ??= []).push(value);
    else if (flag.variable) process.env[flag.variable] = value;
  }
  for (const [variable, values] of Object.entries(repeated)) process.env[variable] = JSON.stringify(values);
  if (level !== undefined) {
    if (debug) throw new TspodError('E_USAGE', 'Setting --log-level and --debug is not allowed', { exitCode: 1, bare: true });
    if (!(LEVELS as readonly string[]).includes(level)) throw new TspodError('E_USAGE', `Log Level "${level}" is not supported, choose from: ${LEVELS.join(', ')}`, { exitCode: 1, bare: true });
    process.env.TSPOD_LOG_LEVEL = level;
  } else if (debug) process.env.TSPOD_LOG_LEVEL = 'debug';
  return { argv: out, noout };
}
