// The store as a whole: what it holds and what could go (system df), pruning images (image prune,
// system prune), and emptying it (system reset).
import fs from 'node:fs';
import { treeBytes } from '../storage/usage.js';
import { Store, type ImageRecord, type ContainerRecord } from '../storage/store.js';
import { containerSizes, removeContainer, pruneContainers } from './lifecycle.js';
import { removeImages } from './images.js';
import { listVolumes, volumeUsage, volumeDataDir, removeVolume, pruneVolumes, type VolumeRecord } from './volumes.js';

export interface DiskUsage {
  images: Array<{ img: ImageRecord; containers: number; shared: number; unique: number }>;
  containers: Array<{ rec: ContainerRecord; size: number; volumes: number }>;
  volumes: Array<{ v: VolumeRecord; links: number; size: number }>;
  summary: Array<{ Type: string; Total: number; Active: number; Size: number; Reclaimable: number }>;
}

export function diskUsage(store: Store): DiskUsage {
  const images = store.readImages();
  const records = store.listContainers();
  const usedBy = new Map<string, number>();
  for (const c of records) usedBy.set(c.imageId, (usedBy.get(c.imageId) ?? 0) + 1);
  // A layer two images hold is shared; its size counts once in the total.
  const holders = new Map<string, number>();
  for (const img of images) for (const l of new Set(img.layers)) holders.set(l, (holders.get(l) ?? 0) + 1);
  const imageRows = images.map((img) => {
    let shared = 0, unique = 0;
    for (const l of new Set(img.layers)) { const s = store.layerSize(l); if ((holders.get(l) ?? 0) > 1) shared += s; else unique += s; }
    return { img, containers: usedBy.get(img.id) ?? 0, shared, unique };
  });
  const layerTotal = [...holders.keys()].reduce((n, l) => n + store.layerSize(l), 0);
  const activeLayers = new Set(images.filter((i) => usedBy.has(i.id)).flatMap((i) => i.layers));
  const reclaimImages = [...holders.keys()].filter((l) => !activeLayers.has(l)).reduce((n, l) => n + store.layerSize(l), 0);
  const usage = volumeUsage(store);
  const containerRows = records.map((rec) => ({ rec, size: containerSizes(store, rec, images).rw, volumes: (rec.config?.volumes ?? []).filter((v) => v.type === 'volume').length }));
  const volumes = listVolumes(store).map((v) => ({ v, links: usage.get(v.name)?.length ?? 0, size: treeBytes(volumeDataDir(store, v.name, v)) }));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    images: imageRows, containers: containerRows, volumes,
    summary: [
      { Type: 'Images', Total: images.length, Active: images.filter((i) => usedBy.has(i.id)).length, Size: layerTotal, Reclaimable: reclaimImages },
      { Type: 'Containers', Total: records.length, Active: records.filter((r) => r.state === 'running').length, Size: sum(containerRows.map((c) => c.size)), Reclaimable: sum(containerRows.filter((c) => c.rec.state !== 'running').map((c) => c.size)) },
      { Type: 'Local Volumes', Total: volumes.length, Active: volumes.filter((v) => v.links > 0).length, Size: sum(volumes.map((v) => v.size)), Reclaimable: sum(volumes.filter((v) => v.links === 0).map((v) => v.size)) },
    ],
  };
}

/** Images no container uses: those without a name, or (all) every one. Returns the ids removed. */
export async function pruneImages(store: Store, o: { all?: boolean } = {}): Promise<string[]> {
  const used = new Set(store.listContainers().map((c) => c.imageId));
  const doomed = store.readImages().filter((i) => !used.has(i.id) && (o.all || i.names.length === 0));
  if (!doomed.length) return [];
  return (await removeImages(store, doomed.map((i) => i.id), { force: false, ignoreMissing: true })).deleted;
}

/** What went; errors: the containers that could not (a pod's infra, a service container). */
export interface SystemPruneReport { pods: string[]; containers: string[]; networks: string[]; volumes: string[]; images: string[]; bytes: number; errors: string[] }

export async function pruneSystem(store: Store, o: { all?: boolean; volumes?: boolean } = {}): Promise<SystemPruneReport> {
  const before = diskUsage(store).summary.reduce((n, s) => n + s.Size, 0);
  // Pods first, as Podman: a stopped pod's infra goes with it.
  const pods = await (await import('./pods.js')).prunePods(store);
  const { deleted: containers, errors } = await pruneContainers(store);
  const { pruneNetworks } = await import('./networks.js');
  const networks = await pruneNetworks(store);
  const volumes = o.volumes ? pruneVolumes(store) : [];
  const images = await pruneImages(store, { all: o.all });
  const after = diskUsage(store).summary.reduce((n, s) => n + s.Size, 0);
  return { pods, containers, networks, volumes, images, bytes: Math.max(0, before - after), errors };
}

/** Everything goes: containers (stopped first), networks, volumes, images, and the store itself. */
export async function resetSystem(store: Store): Promise<void> {
  for (const rec of store.listContainers()) await removeContainer(store, rec, { force: true, timeoutSec: 0 }).catch(() => undefined);
  const { listNetworks, removeNetwork } = await import('./networks.js');
  for (const n of listNetworks(store).filter((x) => x.name !== 'podman')) await removeNetwork(store, n.name, { force: true }).catch(() => undefined);
  for (const v of listVolumes(store)) { try { removeVolume(store, v.name, { force: true }); } catch { /* goes with the store */ } }
  fs.rmSync(store.root, { recursive: true, force: true });
}
