// registries.conf (v2 TOML): short-name search registries and insecure registries. The user's file
// replaces the system's, as in containers/image.
import fs from 'node:fs';
import path from 'node:path';
import { parseToml } from '../toml.js';
import { userConfigHome } from '../paths.js';
import { TspodError } from '../errors.js';
import { DOCKER_HUB, formatReference, parseReference, type Reference } from './reference.js';

/** One [[registry]] table: names under `prefix` are pulled from `location` (or first from its mirrors). */
export interface RegistryEntry {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: Array<{ location: string; insecure: boolean }>;
}

export interface RegistriesConfig {
  searchRegistries: string[];
  registries: RegistryEntry[];
  /** "enforcing" | "permissive" | "disabled" */
  shortNameMode: string;
  /** short name -> fully qualified name, from [aliases] here and in registries.conf.d */
  aliases: Map<string, string>;
}

/** Where an image is pulled from: the rewritten reference, and whether plain HTTP may be used. */
export interface PullEndpoint { ref: Reference; insecure: boolean }

function candidates(): string[] {
  if (process.env.CONTAINERS_REGISTRIES_CONF) return [process.env.CONTAINERS_REGISTRIES_CONF];
  return [path.join(userConfigHome(), 'containers/registries.conf'), '/etc/containers/registries.conf'];
}

function readToml(file: string): Record<string, unknown> | undefined {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return undefined; }
  try { return parseToml(text); } catch (e) {
    throw new TspodError('E_CONFIG', `cannot parse ${file}: ${(e as Error).message.split('\n')[0]}: fix the TOML syntax of that file`);
  }
}

function entryOf(r: Record<string, unknown>, file: string): RegistryEntry | undefined {
  const location = String(r.location ?? '');
  const prefix = String(r.prefix ?? location);
  if (!prefix) return undefined;
  if (!location && r.blocked !== true) throw new TspodError('E_CONFIG', `${file}: a [[registry]] with prefix "${prefix}" has no location: give it one, or blocked = true`);
  const mirrors = Array.isArray(r.mirror) ? (r.mirror as Record<string, unknown>[]).map((m) => ({ location: String(m.location ?? ''), insecure: m.insecure === true })).filter((m) => m.location) : [];
  return { prefix, location: location || prefix, insecure: r.insecure === true, blocked: r.blocked === true, mirrors };
}

let cached: RegistriesConfig | undefined;

export function loadRegistriesConfig(): RegistriesConfig {
  if (cached) return cached;
  const config: RegistriesConfig = { searchRegistries: [DOCKER_HUB], registries: [], shortNameMode: 'permissive', aliases: new Map() };
  const apply = (doc: Record<string, unknown>, file: string) => {
    const search = doc['unqualified-search-registries'];
    if (Array.isArray(search)) config.searchRegistries = search.map(String);
    if (Array.isArray(doc['registry'])) {
      // A later file's entry for the same prefix replaces the earlier one.
      for (const r of doc['registry'] as Record<string, unknown>[]) {
        const e = entryOf(r, file);
        if (e) config.registries = [...config.registries.filter((o) => o.prefix !== e.prefix), e];
      }
    }
    if (typeof doc['short-name-mode'] === 'string') config.shortNameMode = doc['short-name-mode'];
    const aliases = doc['aliases'];
    if (aliases && typeof aliases === 'object') for (const [k, v] of Object.entries(aliases)) config.aliases.set(k, String(v));
  };
  for (const file of candidates()) {
    const doc = readToml(file);
    if (!doc) continue;
    apply(doc, file);
    // Drop-in files override it, in name order, as containers/image reads them: with the system's
    // file, its registries.conf.d and the user's; with CONTAINERS_REGISTRIES_CONF, FILE.d; with the
    // user's own file, none.
    const system = file === '/etc/containers/registries.conf';
    const dropins = process.env.CONTAINERS_REGISTRIES_CONF ? [`${file}.d`] : system ? ['/etc/containers/registries.conf.d', path.join(userConfigHome(), 'containers/registries.conf.d')] : [];
    for (const dir of dropins) {
      let names: string[] = [];
      try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort(); } catch { continue; }
      for (const n of names) { const d = readToml(path.join(dir, n)); if (d) apply(d, path.join(dir, n)); }
    }
    break; // the first file found wins, as with Podman
  }
  cached = config;
  return config;
}

/** Does a [[registry]] prefix cover this name? "a.io/x" covers a.io/x, a.io/x/y, a.io/x:tag; "*.a.io" covers any host under a.io. */
function covers(prefix: string, name: string): boolean {
  if (prefix.startsWith('*.')) {
    const host = name.split('/')[0];
    return host.endsWith(prefix.slice(1));
  }
  return name === prefix || (name.startsWith(prefix) && '/:@'.includes(name[prefix.length]));
}

/** The [[registry]] table that governs a reference: the longest prefix that covers it. */
export function registryFor(conf: RegistriesConfig, ref: Reference): RegistryEntry | undefined {
  const name = formatReference(ref);
  let best: RegistryEntry | undefined;
  for (const e of conf.registries) if (covers(e.prefix, name) && (!best || e.prefix.length > best.prefix.length)) best = e;
  return best;
}

/** Where to pull a reference from, in order: the mirrors of its [[registry]], then its location. */
export function pullEndpoints(conf: RegistriesConfig, ref: Reference): PullEndpoint[] {
  const e = registryFor(conf, ref);
  if (!e) return [{ ref, insecure: false }];
  const name = formatReference(ref);
  const rewrite = (location: string) => (e.prefix.startsWith('*.') ? ref : parseReference(`${location}${name.slice(e.prefix.length)}`));
  return [...e.mirrors.map((m) => ({ ref: rewrite(m.location), insecure: m.insecure })), { ref: rewrite(e.location), insecure: e.insecure }];
}
