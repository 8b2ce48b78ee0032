// The container's root: an overlay of the image's layers (lowest last in lowerdir), with the
// container's own upper and work dirs. Layers are named by short symlinks and the mount runs with
// the store as its working directory, so 100 layers still fit overlay's one-page option limit.
import { RuntimeError } from '../errors.js';
import { mount, unmountLazy, SysError, errnoName, MS_NOSUID, MS_NODEV, MS_NOEXEC } from '../sys/index.js';

export interface OverlayOptions {
  /** lowers: paths relative to storeRoot, top first */
  storeRoot: string; lowers: string[]; upper: string; work: string; target: string; rootless: boolean;
  /**
   * Never sync the upper dir (overlay's "volatile"): for a container that goes with its process
   * (--rm), as Podman does. The unmount then skips syncing the whole file system under the store.
   */
  volatile?: boolean;
}

/**
 * The lowerdir stack for an image's layers (base first): top first, as overlay wants it, and a layer
 * the image lists twice only at its topmost place. Overlay refuses the same directory twice (ELOOP),
 * and a lower copy adds nothing: every path it has, the upper copy has too, with the same whiteouts.
 */
export function overlayLowers(layers: string[]): string[] {
  return [...new Set([...layers].reverse())];
}

export function mountOverlay(o: OverlayOptions): void {
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

export function unmount(target: string): void {
  unmountLazy(target);
}

/** Everything start mounted for a container (in its directory): its shared /dev/shm and its root. */
export function unmountContainer(dir: string): void {
  unmountLazy(`${dir}/userdata/shm`);
  unmountLazy(`${dir}/merged`);
}

/** A tmpfs for a container's /dev/shm kept outside it, so that containers joining its IPC namespace bind the same one. */
export function mountShm(target: string, sizeBytes = 64 << 20): void {
  mount('shm', target, 'tmpfs', `mode=1777,size=${Math.floor(sizeBytes / 1024)}k`, MS_NOSUID | MS_NODEV | MS_NOEXEC);
}
