// Layers as a container with a user namespace of its own (--userns keep-id, nomap, auto, --uidmap)
// must see them: each file owned by the id the container knows it by. Overlay mounts can't be
// idmapped (the kernel refuses MOUNT_ATTR_IDMAP on overlayfs), nor may a rootless user idmap the
// host file system under the layers, so each layer is copied once per mapping with its owners
// shifted, as containers/storage does rootless without fuse-overlayfs. The copy lives in the layer's
// own directory (layers/HEX/mapped/KEY, so removing the layer removes it) and is shared by every
// container with that mapping.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { TspodError } from '../errors.js';
import { shortLayerName, type Store, type IdMap } from './store.js';

/** The id the parent namespace (tspod's) stores for an id the container sees; unmapped ones stay. */
export function toHost(maps: IdMap[], id: number): number {
  const m = maps.find((r) => id >= r.container && id < r.container + r.size);
  return m ? m.host + (id - m.container) : id;
}

/** The id a container with these maps sees for an id tspod's namespace stores (the inverse of toHost); unmapped ones stay. */
export function toContainer(maps: IdMap[], id: number): number {
  const m = maps.find((r) => id >= r.host && id < r.host + r.size);
  return m ? m.container + (id - m.host) : id;
}

const mappingKey = (uidMap: IdMap[], gidMap: IdMap[]) => crypto.createHash('sha256').update(JSON.stringify([uidMap, gidMap])).digest('hex').slice(0, 12);

/**
 * The overlay lowerdirs (relative to the store root, top first) for these layers under this mapping,
 * copying each layer the first time it is asked for.
 */
function mappedLowers(store: Store, lowers: string[], uidMap: IdMap[], gidMap: IdMap[]): string[] {
  const key = mappingKey(uidMap, gidMap);
  return lowers.map((diffId) => {
    const dir = path.join(store.layerDir(diffId), 'mapped', key);
    const link = path.join(store.root, 'm', `${key}-${shortLayerName(diffId)}`);
    if (!fs.existsSync(path.join(dir, 'done'))) copyShifted(store, diffId, dir, uidMap, gidMap);
    if (!fs.existsSync(link)) {
      fs.mkdirSync(path.dirname(link), { recursive: true, mode: 0o711 });
      try { fs.symlinkSync(path.relative(path.dirname(link), path.join(dir, 'diff')), link); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
    }
    return `m/${key}-${shortLayerName(diffId)}`;
  });
}

/** A copy of the layer (cp -a keeps links, devices, xattrs and times), then each entry chowned by the mapping; renamed into place when whole. */
function copyShifted(store: Store, diffId: string, dir: string, uidMap: IdMap[], gidMap: IdMap[]): void {
  const staging = path.join(store.root, 'tmp', `${process.pid}-map-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(staging, { recursive: true });
  try {
    const r = spawnSync('cp', ['-a', '--reflink=auto', store.diffDir(diffId), path.join(staging, 'diff')], { encoding: 'utf8' });
    if (r.status !== 0) throw new TspodError('E_STORAGE', `cannot copy layer ${diffId.slice(7, 19)} for the container's user namespace: ${(r.stderr || '').trim()}`, { hint: 'check the free space under the store' });
    const seen = new Set<number>();
    const walk = (p: string) => {
      const st = fs.lstatSync(p);
      if (!seen.has(st.ino)) {
        seen.add(st.ino);
        fs.lchownSync(p, toHost(uidMap, st.uid), toHost(gidMap, st.gid));
        // chown clears setuid and setgid: put them back.
        if (!st.isSymbolicLink() && st.mode & 0o6000) fs.chmodSync(p, st.mode & 0o7777);
      }
      if (st.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
    };
    walk(path.join(staging, 'diff'));
    fs.writeFileSync(path.join(staging, 'done'), '');
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    try { fs.renameSync(staging, dir); } catch (e) {
      // Another start made the same copy meanwhile: keep that one.
      if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The lowerdir stack for an image's layers (base first): top first, as overlay wants it, and a layer
 * the image lists twice only at its topmost place. Overlay refuses the same directory twice (ELOOP),
 * and a lower copy adds nothing: every path it has, the upper copy has too, with the same whiteouts.
 */
export function overlayLowers(layers: string[]): string[] {
  return [...new Set([...layers].reverse())];
}

/** The overlay lowerdirs (relative to the store root, top first) of a container's root: the layers themselves, or their copies for its own user namespace. */
export function containerLowers(store: Store, layers: string[], maps?: { uidMap?: IdMap[]; gidMap?: IdMap[] }): string[] {
  const top = overlayLowers(layers);
  if (maps?.uidMap && maps.gidMap) return mappedLowers(store, top, maps.uidMap, maps.gidMap);
  return top.map((l) => `l/${shortLayerName(l)}`);
}
