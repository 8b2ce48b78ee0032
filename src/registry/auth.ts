// Credentials and challenges: auth.json / ~/.docker/config.json, and the WWW-Authenticate header.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
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

/** The host user's id (inside tspod's user namespace this process is uid 0). */
const hostUid = () => process.env.TSPOD_HOST_UID ?? String(process.getuid?.() ?? 0);

/**
 * Where login writes: REGISTRY_AUTH_FILE, else the runtime dir's containers/auth.json; with no
 * runtime dir (a `su` session) where Podman puts it then, /tmp/podman-run-UID/containers/auth.json.
 */
export function loginAuthFile(given?: string): string {
  if (given) return given;
  if (process.env.REGISTRY_AUTH_FILE) return process.env.REGISTRY_AUTH_FILE;
  const xdgRuntime = process.env.XDG_RUNTIME_DIR;
  if (xdgRuntime && fs.existsSync(xdgRuntime)) return path.join(xdgRuntime, 'containers/auth.json');
  return `/tmp/podman-run-${hostUid()}/containers/auth.json`;
}

function authFiles(): string[] {
  const files: string[] = [];
  if (process.env.REGISTRY_AUTH_FILE) files.push(process.env.REGISTRY_AUTH_FILE);
  const home = process.env.HOME || os.homedir();
  const xdgRuntime = process.env.XDG_RUNTIME_DIR;
  if (xdgRuntime) files.push(path.join(xdgRuntime, 'containers/auth.json'));
  else files.push(`/tmp/podman-run-${hostUid()}/containers/auth.json`);
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

interface AuthDoc { auths?: Record<string, { auth?: string; username?: string; password?: string }>; credHelpers?: Record<string, string>; credsStore?: string }

/** A docker-credential-NAME helper's answer for the registry, if it has one. */
function fromHelper(helper: string, domain: string): Credentials | undefined {
  const r = spawnSync(`docker-credential-${helper}`, ['get'], { input: domain, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0 || !r.stdout) return undefined;
  try {
    const got = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
    return got.Username && got.Secret ? { username: got.Username, password: got.Secret } : undefined;
  } catch { return undefined; }
}

export function findCredentials(domain: string, repo?: string, files = authFiles()): Credentials | undefined {
  for (const file of files) {
    let doc: AuthDoc;
    try { doc = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { continue; }
    const helper = doc.credHelpers?.[domain] ?? doc.credsStore;
    if (helper) { const c = fromHelper(helper, domain); if (c) return c; }
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

/** The auth file's document; a missing file is an empty one. */
function readDoc(file: string): AuthDoc {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) as AuthDoc; } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw Object.assign(new Error(`${file} is not JSON: ${(e as Error).message}`), { code: 'E_AUTH_FILE' });
  }
}

/** Write the whole file again: mode 0600 in a 0700 directory, replaced by rename. */
function writeDoc(file: string, doc: AuthDoc): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function storeCredentials(file: string, key: string, c: Credentials): void {
  const doc = readDoc(file);
  doc.auths = { ...(doc.auths ?? {}), [key]: { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') } };
  writeDoc(file, doc);
}

/** The user stored for `key` in `file` (login --get-login). */
export function storedLogin(file: string, key: string): string | undefined {
  const entry = readDoc(file).auths?.[key];
  if (!entry?.auth) return entry?.username;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  return decoded.slice(0, Math.max(0, decoded.indexOf(':')));
}

/** Remove `key`'s credentials (every one with `all`); false if there were none. */
export function removeCredentials(file: string, key: string | undefined): boolean {
  const doc = readDoc(file);
  if (!doc.auths) return false;
  if (key === undefined) { const had = Object.keys(doc.auths).length > 0; doc.auths = {}; writeDoc(file, doc); return had; }
  if (!doc.auths[key]) return false;
  delete doc.auths[key];
  writeDoc(file, doc);
  return true;
}
