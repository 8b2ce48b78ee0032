// The container's root: an overlay of the image's layers (lowest last in lowerdir), with the
// container's own upper and work dirs. Layers are named by short symlinks and the mount runs with
// the store as its working directory, so 100 layers still fit overlay's one-page option limit.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { RuntimeError } from '../errors.js';
import type { IdMap } from '../storage/store.js';
import { mount, unmountLazy, lgetxattr, SysError, errnoName, MS_NOSUID, MS_NODEV, MS_NOEXEC } from '../sys/index.js';

export interface OverlayOptions {
  /** lowers: paths relative to storeRoot, top first; idMaps: owners to shift (fuse-overlayfs) */
  idMaps?: { uid: IdMap[]; gid: IdMap[] };
  storeRoot: string; lowers: string[]; upper: string; work: string; target: string; rootless: boolean;
  /**
   * Never sync the upper dir (overlay's "volatile"): for a container that goes with its process
   * (--rm), as Podman does. The unmount then skips syncing the whole file system under the store.
   */
  volatile?: boolean;
}

function mountOverlay(o: OverlayOptions): void {
  const lowerdir = o.lowers.join(':');
  const data = `lowerdir=${lowerdir},upperdir=${o.upper},workdir=${o.work}${o.rootless ? ',userxattr' : ''}${o.volatile ? ',volatile' : ''}`;
  if (data.length > 4000) throw new RuntimeError(`the overlay mount options are ${data.length} bytes, over the kernel's one-page limit`, { hint: 'use a shorter store path (XDG_DATA_HOME)' });
  const cwd = process.cwd();
  process.chdir(o.storeRoot);
  try {
    mount('overlay', o.target, 'overlay', data);
  } catch (e) {
    const why = e instanceof SysError ? errnoName(e.errno) : (e as Error).message;
    throw new RuntimeError(`cannot mount the container's overlay root: ${why}`,
      { hint: 'native overlay needs Linux 5.11 or later in a user namespace; check `tspod info`' });
  } finally {
    process.chdir(cwd);
  }
}

/**
 * A container's root by the store's driver: overlay mounted by the kernel or by fuse-overlayfs (the
 * same layers, upper and work dirs), or for vfs a copy of the layers in `target` itself, made at the
 * first start and kept (the upper dir stays empty).
 */
export function mountRoot(o: OverlayOptions & { driver: { name: 'overlay' | 'fuse-overlayfs' | 'vfs'; mountProgram?: string } }): () => void {
  const release = () => unmountLazy(o.target);
  if (o.driver.name === 'overlay') { mountOverlay(o); return release; }
  if (o.driver.name === 'vfs') {
    const ready = path.join(path.dirname(o.target), 'vfs-ready');
    if (!fs.existsSync(ready)) {
      populateCopy([...o.lowers].reverse().map((l) => path.join(o.storeRoot, l)), o.target, o.rootless ? 'user.overlay.' : 'trusted.overlay.');
      fs.writeFileSync(ready, '');
    }
    return () => {}; // a copy, kept for the next start
  }
  // fuse-overlayfs shifts owners itself for a user namespace of the container's own: no copies of the layers.
  const shift = o.idMaps ? `,${(['uid', 'gid'] as const).map((k) => `${k}mapping=${o.idMaps![k].map((m) => `${m.container}:${m.host}:${m.size}`).join(':')}`).join(',')}` : '';
  const data = `lowerdir=${o.lowers.join(':')},upperdir=${o.upper},workdir=${o.work}${shift}`;
  const r = spawnSync(o.driver.mountProgram!, ['-o', data, o.target], { cwd: o.storeRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new RuntimeError(`cannot mount the container's root with ${o.driver.mountProgram}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`, { hint: 'check /dev/fuse, or use --storage-driver vfs' });
  return release;
}

/**
 * vfs: the layers applied one over the other into `target`, as overlay would show them: a whiteout
 * removes what lower layers had there, an opaque directory empties theirs, a file replaces a
 * directory and the other way round. cp -a keeps owners, modes, links, devices, xattrs and times.
 */
function populateCopy(layers: string[], target: string, xattrPrefix: string): void {
  for (const layer of layers) {
    const markers: string[] = [];
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(path.join(layer, rel), { withFileTypes: true })) {
        const r = path.join(rel, e.name), dst = path.join(target, r);
        const st = fs.lstatSync(path.join(layer, r));
        let there: fs.Stats | undefined;
        try { there = fs.lstatSync(dst); } catch { /* nothing below */ }
        if (st.isCharacterDevice() && st.rdev === 0) { markers.push(r); fs.rmSync(dst, { recursive: true, force: true }); continue; }
        if (there && there.isDirectory() !== st.isDirectory()) fs.rmSync(dst, { recursive: true, force: true });
        if (st.isDirectory()) {
          if (there?.isDirectory() && lgetxattr(path.join(layer, r), `${xattrPrefix}opaque`)?.toString() === 'y') {
            for (const n of fs.readdirSync(dst)) fs.rmSync(path.join(dst, n), { recursive: true, force: true });
          }
          walk(r);
        }
      }
    };
    walk('');
    const cp = spawnSync('cp', ['-a', '--reflink=auto', `${layer}/.`, `${target}/`], { encoding: 'utf8' });
    if (cp.status !== 0) throw new RuntimeError(`cannot copy a layer into the container's root (vfs): ${(cp.stderr || '').trim().split('\n').pop()}`, { hint: 'check the free space under the store' });
    for (const r of markers) fs.rmSync(path.join(target, r), { force: true });
  }
}

export function unmount(target: string): void {
  unmountLazy(target);
}

/** Everything start mounted for a container (in its directory): its shared /dev/shm, its :O volumes and its root. */
export function unmountContainer(dir: string): void {
  unmountLazy(`${dir}/userdata/shm`);
  // :O volumes' overlays
  try { for (const n of fs.readdirSync(`${dir}/userdata/overlay`)) unmountLazy(`${dir}/userdata/overlay/${n}/merged`); } catch { /* none */ }
  unmountLazy(`${dir}/merged`);
}

/** A tmpfs for a container's /dev/shm kept outside it, so that containers joining its IPC namespace bind the same one. */
export function mountShm(target: string, sizeBytes = 64 << 20): void {
  mount('shm', target, 'tmpfs', `mode=1777,size=${Math.floor(sizeBytes / 1024)}k`, MS_NOSUID | MS_NODEV | MS_NOEXEC);
}
