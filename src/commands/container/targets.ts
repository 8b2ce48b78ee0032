// The containers a command acts on, as Podman's commands pick them: names or ids, --all,
// --latest, --filter; --ignore skips names that are not there. And the rule for what they print:
// the name as the user gave it, or the full id when tspod chose the containers.
import fs from 'node:fs';
import { UsageError, TspodError } from '../../errors.js';
import type { Store, ContainerRecord } from '../../storage/store.js';

export interface TargetFlags {
  names: string[];
  all?: boolean;
  latest?: boolean;
  filter?: string[];
  ignore?: boolean;
}

export interface Target { rec: ContainerRecord; shown: string }

/** Podman's checks (validate.CheckAllLatestAndIDFile), in its words. */
export function checkTargetFlags(f: TargetFlags): void {
  // --filter narrows the named containers (start), or picks from all of them: nothing to check.
  if (f.filter?.length) return;
  if (f.all && f.latest) throw new UsageError('--all and --latest cannot be used together');
  if (f.names.length && f.all) throw new UsageError('no arguments are needed with --all');
  if (f.names.length && f.latest) throw new UsageError('--latest and containers cannot be used together');
  if (!f.names.length && !f.all && !f.latest) throw new UsageError('you must provide at least one name or id');
}

/** The containers named, or all of them, or the newest; those not found are an error unless --ignore. */
export async function resolveTargets(store: Store, f: TargetFlags, opts: { running?: boolean } = {}): Promise<Target[]> {
  const { findContainer, listContainers } = await import('../../engine/containers.js');
  if (f.all || f.latest || (f.filter?.length && !f.names.length)) {
    const list = await listContainers(store, { all: !opts.running, filters: f.filter });
    const chosen = f.latest ? list.slice(-1) : list;
    return chosen.map((rec) => ({ rec, shown: rec.id }));
  }
  const out: Target[] = [];
  const narrowed = f.filter?.length ? new Set((await listContainers(store, { all: true, filters: f.filter })).map((c) => c.id)) : undefined;
  for (const name of f.names) {
    try {
      const rec = findContainer(store, name);
      if (!narrowed || narrowed.has(rec.id)) out.push({ rec, shown: name });
    } catch (e) {
      if (f.ignore && e instanceof TspodError && e.code === 'E_NO_CONTAINER') continue;
      throw e;
    }
  }
  return out;
}

/** --cidfile FILE (stop, rm): the ids those files hold; a missing file is skipped with --ignore, else an error. */
export function idsFromCidFiles(files: string[], ignore: boolean): string[] {
  return files.flatMap((f) => {
    try { return [fs.readFileSync(f, 'utf8').trim()].filter(Boolean); } catch (e) {
      if (ignore && (e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new TspodError('E_USAGE', `reading CIDFile ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
  });
}
