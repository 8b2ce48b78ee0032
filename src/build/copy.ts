// COPY and ADD: what a step copies, as one layer tar written straight from the sources (no
// container), with Docker's destination rules, and the digest of what it copies for the cache key
// (names, types, modes, owners and contents; never mtimes, so `touch` keeps the cache).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../errors.js';
import { resolveInRoot } from '../runtime/rootpath.js';
import { pathEntries, type LayerWriteOptions } from '../layers/writer.js';
import { tarHeader, TAR_END } from '../layers/tar-writer.js';
import type { IgnoreRules } from './ignore.js';

/** One source of a COPY: a path on this machine and the name it is known by (for errors and ignore rules). */
export interface Source { full: string; rel: string; ignore?: IgnoreRules }

export interface CopyPlan {
  sources: Source[];
  /** the destination inside the image, absolute */
  dest: string;
  /** the destination is a directory: several sources, a trailing "/", or a directory already in the image */
  destIsDir: boolean;
  owner: { uid: number; gid: number };
  chmod?: number;
  /** the image has dest already (as a directory): its own mode and owner stay */
  destExists: boolean;
  /** directories above dest that the image lacks and the layer must create */
  missingParents: string[];
  /** ADD of a local archive: sources whose contents (already extracted there) keep their own owners */
  keepOwners?: boolean;
}

const GLOB = /[*?[]/;

function globToRe(part: string): RegExp {
  return new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

/** The context paths a COPY source names (globs expanded), each kept inside the context. */
export function resolveSources(context: string, given: string, ignore: IgnoreRules): Source[] {
  const clean = path.posix.normalize(`/${given}`).slice(1).replace(/\/+$/, '');
  let found: string[] = [''];
  for (const part of clean ? clean.split('/') : []) {
    const next: string[] = [];
    for (const dir of found) {
      if (!GLOB.test(part)) { next.push(dir ? `${dir}/${part}` : part); continue; }
      let names: string[] = [];
      try { names = fs.readdirSync(path.join(context, dir)); } catch { /* no such directory: no match */ }
      const re = globToRe(part);
      for (const n of names.sort()) if (re.test(n)) next.push(dir ? `${dir}/${n}` : n);
    }
    found = next;
  }
  // A symlink among the sources is followed, but never out of the context (or the image's root).
  const out = found.filter((rel) => !ignore.ignored(rel)).map((rel) => ({ full: resolveInRoot(context, `/${rel}`), rel, ignore }))
    .filter((s) => fs.existsSync(s.full));
  if (!out.length) {
    throw new TspodError('E_BUILD_COPY', `no source files were specified: "${given}" ${GLOB.test(given) ? 'matches nothing' : 'does not exist'} in the build context ${context}${ignore.empty ? '' : ' (or is left out by its ignore file)'}: no such file or directory`);
  }
  return out;
}

/** Each source's entries under the destination, as Docker places them. */
async function* entries(plan: CopyPlan, o: LayerWriteOptions, links: Map<string, string>): AsyncGenerator<Buffer> {
  const destRel = plan.dest.replace(/^\/+/, '').replace(/\/+$/, '');
  for (const parent of plan.missingParents) {
    yield tarHeader({ name: `${parent}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: Math.floor(Date.now() / 1000) });
  }
  for (const s of plan.sources) {
    const st = fs.statSync(s.full);
    const skip = s.ignore && !s.ignore.empty ? s.ignore.skipper(s.rel) : undefined;
    const opts: LayerWriteOptions = { ...o, skip };
    if (st.isDirectory()) {
      // A directory's contents go into the destination, which is created (as the source directory) if the image lacks it.
      yield* pathEntries(s.full, destRel, { ...opts, skip: (rel, est) => (rel === '' ? plan.destExists : skip?.(rel, est) ?? false) }, links);
    } else {
      const name = plan.destIsDir ? (destRel ? `${destRel}/${path.basename(s.full)}` : path.basename(s.full)) : destRel;
      yield* pathEntries(s.full, name, { ...o }, links);
    }
  }
}

/** The layer tar of a COPY. */
export async function* copyLayer(plan: CopyPlan): AsyncGenerator<Buffer> {
  const o: LayerWriteOptions = plan.keepOwners ? { chmod: plan.chmod } : { owner: plan.owner, chmod: plan.chmod };
  yield* entries(plan, o, new Map());
  yield TAR_END;
}

/** What the copy holds, for the cache key: the layer's bytes with every mtime zero. */
export async function copyDigest(plan: CopyPlan): Promise<string> {
  const hash = crypto.createHash('sha256');
  const o: LayerWriteOptions = { ...(plan.keepOwners ? {} : { owner: plan.owner }), chmod: plan.chmod, mtime: 0 };
  for await (const chunk of entries({ ...plan, missingParents: [] }, o, new Map())) hash.update(chunk);
  return hash.digest('hex');
}
