// registries.conf (v2 TOML): short-name search registries and insecure registries. The user's file
// replaces the system's, as in containers/image.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { userConfigHome } from '../paths.js';
import { TspodError } from '../errors.js';
import { DOCKER_HUB } from './reference.js';

export interface RegistriesConfig {
  searchRegistries: string[];
  insecure: Set<string>;
  blocked: Set<string>;
}

function candidates(): string[] {
  if (process.env.CONTAINERS_REGISTRIES_CONF) return [process.env.CONTAINERS_REGISTRIES_CONF];
  return [path.join(userConfigHome(), 'containers/registries.conf'), '/etc/containers/registries.conf'];
}

let cached: RegistriesConfig | undefined;

export function loadRegistriesConfig(): RegistriesConfig {
  if (cached) return cached;
  const config: RegistriesConfig = { searchRegistries: [DOCKER_HUB], insecure: new Set(), blocked: new Set() };
  for (const file of candidates()) {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    let doc: Record<string, unknown>;
    try { doc = parseToml(text) as Record<string, unknown>; } catch (e) {
      throw new TspodError('E_CONFIG', `cannot parse ${file}: ${(e as Error).message.split('\n')[0]}`, { hint: 'fix the TOML syntax of that file' });
    }
    const search = doc['unqualified-search-registries'];
    if (Array.isArray(search)) config.searchRegistries = search.map(String);
    const regs = doc['registry'];
    if (Array.isArray(regs)) {
      for (const r of regs as Record<string, unknown>[]) {
        const loc = String(r.location ?? r.prefix ?? '');
        if (!loc) continue;
        if (r.insecure === true) config.insecure.add(loc);
        if (r.blocked === true) config.blocked.add(loc);
      }
    }
    break; // the first file found wins, as with Podman
  }
  cached = config;
  return config;
}
