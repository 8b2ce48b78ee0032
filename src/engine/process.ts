// The container's process as Docker defines it: arguments from Entrypoint, Cmd and the command line,
// the environment in layers, and the executable looked up in the container's PATH before starting.
import fs from 'node:fs';
import path from 'node:path';
import { TspodError, EXIT_NOT_FOUND, EXIT_CANNOT_INVOKE } from '../errors.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ImageConfig {
  config?: { Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string; StopSignal?: string; Volumes?: Record<string, unknown> | null; ExposedPorts?: Record<string, unknown> | null };
}

/** KEY=VALUE lines; a bare KEY takes the host's value, as Docker does. */
export function parseEnv(entries: string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.includes('=')) out.push(e);
    else if (process.env[e] !== undefined) out.push(`${e}=${process.env[e]}`);
  }
  return out;
}

export function readEnvFile(file: string): string[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    throw new TspodError('E_USAGE', `cannot read env file ${file}: ${(e as NodeJS.ErrnoException).code}`, { hint: 'check the path given to --env-file' });
  }
  return parseEnv(text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
}

/** Later entries win, keeping the order in which keys first appeared. */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const map = new Map<string, string>();
  for (const e of [...base, ...overrides]) {
    const i = e.indexOf('=');
    map.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return [...map].map(([k, v]) => `${k}=${v}`);
}

/** What the container runs: Docker's rules for Entrypoint, Cmd, --entrypoint and the arguments. */
export function containerArgs(cfg: ImageConfig['config'], command: string[], entrypoint?: string[]): string[] {
  if (entrypoint !== undefined) return [...entrypoint, ...command];
  return [...(cfg?.Entrypoint ?? []), ...(command.length ? command : cfg?.Cmd ?? [])];
}

/** Find the executable as the container would, to fail with 127 or 126 as Podman does. */
export async function checkExecutable(rootfs: string, argv0: string, env: string[], cwd: string): Promise<void> {
  const { resolveInRoot } = await import('../runtime/rootpath.js');
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  const candidates = argv0.includes('/') ? [path.posix.resolve(cwd, argv0)] : pathVar.split(':').filter(Boolean).map((d) => path.posix.join(d, argv0));
  let denied: string | undefined;
  for (const c of candidates) {
    let st: fs.Stats;
    try { st = fs.statSync(resolveInRoot(rootfs, c)); } catch { continue; }
    if (st.isFile() && (st.mode & 0o111)) return;
    denied ??= c;
  }
  if (denied) throw new TspodError('E_NOT_EXECUTABLE', `cannot exec ${denied}: permission denied: it is not an executable file`, { exitCode: EXIT_CANNOT_INVOKE, hint: 'check the command and its mode in the image' });
  throw new TspodError('E_COMMAND_NOT_FOUND', argv0.includes('/') ? `${argv0}: no such file or directory in the container` : `executable file "${argv0}" not found in $PATH of the container`,
    { exitCode: EXIT_NOT_FOUND, hint: 'check the command name, or the image\'s PATH' });
}
