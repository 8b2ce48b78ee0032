// The container's root: an overlay of the image's layers (lowest last in lowerdir), with the
// container's own upper and work dirs. Layers are named by short symlinks and the mount runs with
// the store as its working directory, so 100 layers still fit overlay's one-page option limit.
import { spawnSync } from 'node:child_process';
import { RuntimeError } from '../errors.js';

export interface OverlayOptions { storeRoot: string; lowers: string[]; upper: string; work: string; target: string; rootless: boolean }

export function mountOverlay(o: OverlayOptions): void {
  const lowerdir = o.lowers.map((l) => `l/${l}`).join(':');
  const data = `lowerdir=${lowerdir},upperdir=${o.upper},workdir=${o.work}${o.rootless ? ',userxattr' : ''}`;
  if (data.length > 4000) throw new RuntimeError(`the overlay mount options are ${data.length} bytes, over the kernel's one-page limit`, { hint: 'use a shorter store path (XDG_DATA_HOME)' });
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', data, o.target], { cwd: o.storeRoot, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new RuntimeError(`cannot mount the container's overlay root: ${(r.stderr || r.error?.message || '').trim()}`,
      { hint: 'native overlay needs Linux 5.11 or later in a user namespace; check `tspod info`' });
  }
}

export function unmount(target: string): void {
  spawnSync('umount', ['-l', target], { stdio: 'ignore' });
}
