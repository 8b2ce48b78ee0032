// --change INSTRUCTION (commit, import): the Dockerfile instructions that only set config fields.
import { UsageError } from '../errors.js';

type Config = Record<string, unknown> & { Env?: string[]; Labels?: Record<string, string>; ExposedPorts?: Record<string, object>; Volumes?: Record<string, object>; OnBuild?: string[] };

/** JSON form (["a","b"]) or shell form (a b → /bin/sh -c "a b"). */
function command(arg: string): string[] {
  if (arg.trim().startsWith('[')) {
    try {
      const v = JSON.parse(arg) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch { /* shell form after all */ }
  }
  return ['/bin/sh', '-c', arg];
}

/** KEY=VALUE pairs (values may be quoted), or the old "KEY VALUE" form. */
function pairs(arg: string, what: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!/^[^\s=]+=/.test(arg.trim())) {
    const m = /^(\S+)\s+(.*)$/s.exec(arg.trim());
    if (!m) throw new UsageError(`${what} ${arg}: give KEY=VALUE`);
    return [[m[1], m[2]]];
  }
  const re = /([^\s=]+)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(arg))) out.push([m[1], m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4] ?? m[5] ?? '']);
  return out;
}

export function applyChanges(base: Config, changes: string[]): Config {
  const c: Config = { ...base };
  for (const change of changes) {
    const m = /^\s*(\w+)(?:\s+|=)(.*)$/s.exec(change);
    if (!m) throw new UsageError(`--change "${change}": give an instruction and its argument, e.g. CMD ["sh"]`);
    const arg = m[2].trim();
    switch (m[1].toUpperCase()) {
      case 'CMD': c.Cmd = command(arg); break;
      case 'ENTRYPOINT': c.Entrypoint = command(arg); break;
      case 'ENV': {
        const env = new Map((c.Env ?? []).map((e) => [e.split('=')[0], e] as [string, string]));
        for (const [k, v] of pairs(arg, 'ENV')) env.set(k, `${k}=${v}`);
        c.Env = [...env.values()];
        break;
      }
      case 'LABEL': c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(arg, 'LABEL')) }; break;
      case 'EXPOSE': c.ExposedPorts = { ...(c.ExposedPorts ?? {}), ...Object.fromEntries(arg.split(/\s+/).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) }; break;
      case 'VOLUME': {
        const list = arg.startsWith('[') ? (JSON.parse(arg) as string[]) : arg.split(/\s+/);
        c.Volumes = { ...(c.Volumes ?? {}), ...Object.fromEntries(list.map((v) => [v, {}])) };
        break;
      }
      case 'USER': c.User = arg; break;
      case 'WORKDIR': c.WorkingDir = arg; break;
      case 'STOPSIGNAL': c.StopSignal = arg; break;
      case 'ONBUILD': c.OnBuild = [...(c.OnBuild ?? []), arg]; break;
      default: throw new UsageError(`--change "${change}": ${m[1]} can't be changed this way`, 'use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR');
    }
  }
  return c;
}
