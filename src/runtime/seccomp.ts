// The seccomp filter containers run under: Podman's profile (containers-common's seccomp.json, in
// Docker's profile format) turned into the OCI spec's `linux.seccomp` for this machine, keeping
// the rules for its architecture and for the capabilities the container has.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { TspodError } from '../errors.js';
import { runtimeDir } from '../paths.js';
import { x32Syscalls } from '../sys/index.js';
import { builtinProfile } from './seccomp-builtin.js';
import { containersConf } from '../config.js';

/** containers-common's profile, which Podman uses; where it is missing, seccomp-builtin.ts has the same rules. */
export const DEFAULT_SECCOMP_PROFILE = '/usr/share/containers/seccomp.json';

interface Rule { names?: string[]; name?: string; action: string; args?: unknown[]; errnoRet?: number; includes?: { caps?: string[]; arches?: string[]; minKernel?: string }; excludes?: { caps?: string[]; arches?: string[] } }
interface Profile { defaultAction: string; defaultErrnoRet?: number; archMap?: Array<{ architecture: string; subArchitectures?: string[] }>; architectures?: string[]; syscalls?: Rule[] }

/** This machine's architecture as the profile's rules name it, and as libseccomp does. */
const ARCH = process.arch === 'x64' ? { rule: 'amd64', scmp: 'SCMP_ARCH_X86_64' } : process.arch === 'arm64' ? { rule: 'arm64', scmp: 'SCMP_ARCH_AARCH64' } : { rule: process.arch, scmp: `SCMP_ARCH_${process.arch.toUpperCase()}` };

function kernelAtLeast(min: string): boolean {
  const [a, b] = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').split('.').map((n) => parseInt(n, 10));
  const [x, y] = min.split('.').map((n) => parseInt(n, 10));
  return a > x || (a === x && b >= (y ?? 0));
}

/**
 * `linux.seccomp` for a container with these capabilities: from `--security-opt seccomp=` (a file,
 * or "unconfined" for none), else the default profile; undefined means no filter. The translation
 * is kept in the runtime directory, keyed by the profile's content, the capabilities and the kernel:
 * each start reads one small file.
 */
export function seccompFor(option: string | undefined, caps: string[]): object | undefined {
  if (option === 'unconfined') return undefined;
  const file = option ?? containersConf().seccompProfile ?? DEFAULT_SECCOMP_PROFILE;
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    // No containers-common here: the same rules, built in.
    if (!option && file === DEFAULT_SECCOMP_PROFILE && (e as NodeJS.ErrnoException).code === 'ENOENT') text = JSON.stringify(builtinProfile());
    else {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory' : (e as Error).message;
      throw new TspodError('E_SECCOMP', `seccomp profile ${file}: ${why}`, { hint: 'give a profile in Docker\'s seccomp.json format, or seccomp=unconfined' });
    }
  }
  const key = crypto.createHash('sha256').update(JSON.stringify([text, [...caps].sort(), fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8')])).digest('hex').slice(0, 32);
  const cached = path.join(runtimeDir(), 'seccomp', `${key}.json`);
  try { return JSON.parse(fs.readFileSync(cached, 'utf8')) as object; } catch { /* not yet */ }
  const spec = translate(file, text, caps);
  try {
    fs.mkdirSync(path.dirname(cached), { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${cached}.${process.pid}`, JSON.stringify(spec));
    fs.renameSync(`${cached}.${process.pid}`, cached);
  } catch { /* translate again next time */ }
  return spec;
}

function translate(file: string, text: string, caps: string[]): object {
  let profile: Profile;
  try { profile = JSON.parse(text) as Profile; } catch (e) {
    throw new TspodError('E_SECCOMP', `seccomp profile ${file}: ${(e as Error).message}`, { hint: 'give a profile in Docker\'s seccomp.json format, or seccomp=unconfined' });
  }
  if (typeof profile.defaultAction !== 'string') throw new TspodError('E_SECCOMP', `seccomp profile ${file} has no defaultAction: it is not a seccomp profile`, { hint: 'give a profile in Docker\'s seccomp.json format' });
  const has = new Set(caps);
  const arches = profile.archMap?.find((a) => a.architecture === ARCH.scmp);
  const syscalls = (profile.syscalls ?? []).filter((r) => {
    const inc = r.includes ?? {}, exc = r.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(ARCH.rule)) return false;
    if (exc.arches?.length && exc.arches.includes(ARCH.rule)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => has.has(c))) return false;
    if (exc.caps?.length && exc.caps.some((c) => has.has(c))) return false;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel)) return false;
    return true;
  }).map((r) => ({
    names: r.names ?? (r.name ? [r.name] : []), action: r.action,
    ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}), ...(r.args?.length ? { args: r.args } : {}),
  }));
  // A kernel without the x32 ABI runs no x32 system call whatever the filter says: rules for it
  // would only cost the runtime their compilation (a third of the filter) at every start.
  const sub = (arches?.subArchitectures ?? []).filter((a) => a !== 'SCMP_ARCH_X32' || x32Syscalls());
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures: arches ? [arches.architecture, ...sub] : profile.architectures ?? [ARCH.scmp],
    syscalls,
  };
}

export interface SecurityOpts { seccomp?: string; noNewPrivileges: boolean; mask: string[]; unmask: string[] }

/**
 * --security-opt values, the last of each kind winning (mask and unmask add up); anything tspod
 * does not know fails (create calls it before the container exists, start to build the spec).
 */
export function parseSecurityOpts(opts: string[]): SecurityOpts {
  const out: SecurityOpts = { noNewPrivileges: false, mask: [], unmask: [] };
  for (const o of opts) {
    const key = o.split(/[=:]/)[0];
    const value = o.slice(key.length + 1);
    if (key === 'seccomp') { seccompFor(value, []); out.seccomp = value; continue; }
    if (key === 'no-new-privileges' && ['', 'true', 'false'].includes(value)) { out.noNewPrivileges = value !== 'false'; continue; }
    if (key === 'label') continue; // no SELinux here: accepted, as Podman does without it
    if ((key === 'mask' || key === 'unmask') && value) {
      const paths = value.split(':');
      if (paths.some((p) => !(p.startsWith('/') || (key === 'unmask' && p === 'ALL')))) throw new TspodError('E_USAGE', `invalid --security-opt "${o}": ${key} takes absolute paths separated by ':'`, { hint: key === 'unmask' ? 'e.g. unmask=/proc/kcore:/sys/firmware, unmask=/proc/* or unmask=ALL' : 'e.g. mask=/proc/cpuinfo:/etc/hostname' });
      out[key].push(...paths);
      continue;
    }
    throw new TspodError('E_USAGE', `invalid --security-opt "${o}"`, { hint: 'tspod takes seccomp=unconfined|PROFILE, no-new-privileges[=true|false], mask=PATHS, unmask=ALL|PATHS and label=...' });
  }
  return out;
}

const RLIMITS = ['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

/** --ulimit NAME=SOFT[:HARD] (-1 for unlimited) as the spec's rlimits. */
export function parseUlimits(list: string[]): Array<{ type: string; soft: number; hard: number }> {
  return list.map((u) => {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u);
    if (!m || !RLIMITS.includes(m[1])) throw new TspodError('E_USAGE', `invalid --ulimit "${u}"`, { hint: `use NAME=SOFT[:HARD] with NAME one of ${RLIMITS.join(', ')}` });
    // Unlimited (-1) is RLIM_INFINITY, 2^64-1, which JSON numbers cannot carry exactly; and rootless it can only be had where it already is.
    if (Number(m[2]) < 0 || Number(m[3] ?? 0) < 0) throw new TspodError('E_USAGE', `invalid --ulimit "${u}": unlimited (-1) is not supported yet`, { hint: 'give numbers' });
    const soft = Number(m[2]), hard = Number(m[3] ?? m[2]);
    if (soft > hard) throw new TspodError('E_USAGE', `invalid --ulimit "${u}": the soft limit is above the hard one`);
    return { type: `RLIMIT_${m[1].toUpperCase()}`, soft, hard };
  });
}
