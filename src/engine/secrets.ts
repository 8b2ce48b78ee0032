// Secrets, as Podman's file driver keeps them: a record per secret (secrets/secrets.json) and its
// data alone in a file only you can read (secrets/data/ID). A container given --secret gets a copy
// at start, bound read-only at /run/secrets/NAME (or TARGET), or the data in an environment variable.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { TspodError } from '../errors.js';
import type { Store, SecretUse } from '../storage/store.js';
import { parseLabels } from './labels.js';
import { byNameOrId } from './filters.js';

export interface SecretRecord { id: string; name: string; driver: string; created: string; labels: Record<string, string> }


const dir = (store: Store) => path.join(store.root, 'secrets');
const indexFile = (store: Store) => path.join(dir(store), 'secrets.json');
const dataFile = (store: Store, id: string) => path.join(dir(store), 'data', id);
const MAX_SIZE = 512 * 1024;

export function listSecrets(store: Store): SecretRecord[] {
  try { return (JSON.parse(fs.readFileSync(indexFile(store), 'utf8')) as { secrets: SecretRecord[] }).secrets; } catch { return []; }
}

function writeIndex(store: Store, secrets: SecretRecord[]): void {
  fs.mkdirSync(path.join(dir(store), 'data'), { recursive: true, mode: 0o700 });
  store.writeAtomic(indexFile(store), JSON.stringify({ secrets }, null, 1));
}

/** A secret by name, full id or unique id prefix; 125 naming it when there is none. */
export function findSecret(store: Store, ref: string): SecretRecord {
  const hit = byNameOrId(listSecrets(store), ref);
  if (!hit) throw new TspodError('E_NO_SECRET', `${ref}: no such secret`, { hint: 'see tspod secret ls, or create it: tspod secret create NAME FILE' });
  return hit;
}

export function createSecret(store: Store, name: string, data: Buffer, o: { driver?: string; labels?: string[]; replace?: boolean } = {}): SecretRecord {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) || name.length > 253) throw new TspodError('E_USAGE', `invalid secret name "${name}"`, { hint: 'names use [a-zA-Z0-9][a-zA-Z0-9_.-]*' });
  if ((o.driver ?? 'file') !== 'file') throw new TspodError('E_USAGE', `secret driver "${o.driver}" is not known: tspod has the file driver`);
  if (data.length === 0) throw new TspodError('E_USAGE', 'secret data must be larger than 0 bytes', { hint: 'give a file with the secret in it, or - to read it from stdin' });
  if (data.length > MAX_SIZE) throw new TspodError('E_USAGE', `secret data must be smaller than ${MAX_SIZE} bytes`);
  return store.withLock(() => {
    const all = listSecrets(store);
    const taken = all.find((s) => s.name === name);
    if (taken && !o.replace) throw new TspodError('E_SECRET_EXISTS', `${name}: secret name in use`, { hint: 'remove it first (tspod secret rm), or choose another name' });
    const rec: SecretRecord = { id: crypto.randomBytes(13).toString('hex').slice(0, 25), name, driver: 'file', created: new Date().toISOString(), labels: parseLabels(o.labels ?? []) };
    fs.mkdirSync(path.join(dir(store), 'data'), { recursive: true, mode: 0o700 });
    // The data lands whole before the record names it.
    const tmp = `${dataFile(store, rec.id)}.tmp`;
    fs.writeFileSync(tmp, data, { mode: 0o600 });
    fs.renameSync(tmp, dataFile(store, rec.id));
    writeIndex(store, [...all.filter((s) => s !== taken), rec]);
    if (taken) fs.rmSync(dataFile(store, taken.id), { force: true });
    return rec;
  });
}

export function removeSecret(store: Store, rec: SecretRecord): void {
  store.withLock(() => {
    writeIndex(store, listSecrets(store).filter((s) => s.id !== rec.id));
    fs.rmSync(dataFile(store, rec.id), { force: true });
  });
}

export const secretData = (store: Store, rec: { id: string; name: string }): Buffer => {
  try { return fs.readFileSync(dataFile(store, rec.id)); } catch {
    throw new TspodError('E_NO_SECRET', `the data of secret ${rec.name} is gone`, { hint: 'create the secret again' });
  }
};

/** Podman's inspect shape. */
export function inspectSecret(store: Store, s: SecretRecord): object {
  return { ID: s.id, CreatedAt: s.created, UpdatedAt: s.created, Spec: { Name: s.name, Driver: { Name: s.driver, Options: { path: dir(store) } }, Labels: s.labels } };
}

/** --secret flags as create records them: each secret found now (a missing one is 125). */
export function parseSecretFlags(store: Store, flags: string[]): SecretUse[] {
  return flags.map((f) => {
    const [name, ...opts] = f.split(',');
    const rec = findSecret(store, name);
    const use: SecretUse = { name: rec.name, id: rec.id, type: 'mount', target: '', uid: 0, gid: 0, mode: 0o444 };
    for (const o of opts) {
      const [k, v = ''] = o.split('=');
      if (k === 'type' && (v === 'mount' || v === 'env')) use.type = v;
      else if (k === 'target' && v) use.target = v;
      else if ((k === 'uid' || k === 'gid') && /^\d+$/.test(v)) use[k] = Number(v);
      else if (k === 'mode' && /^[0-7]{1,4}$/.test(v)) use.mode = parseInt(v, 8);
      else throw new TspodError('E_USAGE', `invalid --secret option "${o}" in "${f}"`, { hint: 'use NAME[,type=mount|env][,target=PATH][,uid=N,gid=N,mode=0400]' });
    }
    if (use.type === 'env' && (use.uid || use.gid || use.mode !== 0o444)) throw new TspodError('E_USAGE', `--secret ${f}: uid, gid and mode are for type=mount`);
    use.target ||= use.type === 'env' ? rec.name : `/run/secrets/${rec.name}`;
    if (use.type === 'mount' && !use.target.startsWith('/')) use.target = `/run/secrets/${use.target}`;
    return use;
  });
}
