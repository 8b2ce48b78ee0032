// Credentials and challenges: auth.json / ~/.docker/config.json, and the WWW-Authenticate header.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOCKER_HUB } from './reference.js';

export interface Credentials { username: string; password: string }

export interface Challenge { scheme: string; params: Record<string, string> }

/** Parse `Bearer realm="https://auth",service="registry",scope="repository:a:pull"`. */
export function parseChallenge(header: string): Challenge | null {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2]))) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme: m[1].toLowerCase(), params };
}

function authFiles(): string[] {
  const files: string[] = [];
  if (process.env.REGISTRY_AUTH_FILE) files.push(process.env.REGISTRY_AUTH_FILE);
  const home = process.env.HOME || os.homedir();
  const xdgRuntime = process.env.XDG_RUNTIME_DIR;
  if (xdgRuntime) files.push(path.join(xdgRuntime, 'containers/auth.json'));
  files.push(path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), 'containers/auth.json'));
  files.push(path.join(process.env.DOCKER_CONFIG || path.join(home, '.docker'), 'config.json'));
  return files;
}

function keysFor(domain: string, repo?: string): string[] {
  const keys: string[] = [];
  // auth.json may hold a credential per repository namespace: most specific first.
  if (repo) {
    const parts = repo.split('/');
    for (let i = parts.length; i > 0; i--) keys.push(`${domain}/${parts.slice(0, i).join('/')}`);
  }
  keys.push(domain, `https://${domain}`, `http://${domain}`);
  if (domain === DOCKER_HUB) keys.push('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io');
  return keys;
}

export function findCredentials(domain: string, repo?: string, files = authFiles()): Credentials | undefined {
  for (const file of files) {
    let doc: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
    try { doc = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { continue; }
    for (const key of keysFor(domain, repo)) {
      const entry = doc.auths?.[key];
      if (!entry) continue;
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
      }
      if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    }
  }
  return undefined;
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
