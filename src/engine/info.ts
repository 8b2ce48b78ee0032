// What `tspod info` reports: paths, runtime, id mapping, overlay mode, cgroups, network.
import fs from 'node:fs';
import { Store } from '../storage/store.js';
import { configDir, hostUid, isRootless, runtimeDir } from '../paths.js';

export interface InfoReport {
  host: { rootless: boolean; uid: number; uidMap: string[]; gidMap: string[]; cgroupVersion: string; kernel: string; ociRuntime: { name: string; path: string; version: string } | null; networkMode: string };
  store: { graphRoot: string; runRoot: string; configDir: string; graphDriver: string; overlayOptions: string; imageCount: number; containerCount: number };
}

export async function info(store: Store): Promise<InfoReport> {
  const [{ findRuntime, runtimeVersion, cgroupVersion }, { defaultNetworkMode }] = await Promise.all([import('../runtime/oci.js'), import('../net/slirp/network.js')]);
  let runtime: InfoReport['host']['ociRuntime'] = null;
  try { const rt = findRuntime(); runtime = { ...rt, version: runtimeVersion(rt) }; } catch { /* none installed */ }
  const readMap = (f: string) => { try { return fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')); } catch { return []; } };
  return {
    host: {
      rootless: isRootless(), uid: hostUid(), uidMap: readMap('/proc/self/uid_map'), gidMap: readMap('/proc/self/gid_map'),
      cgroupVersion: cgroupVersion(), kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(), ociRuntime: runtime,
      networkMode: isRootless() ? defaultNetworkMode() : 'pasta/slirp4netns (rootful bridge networking is not implemented)',
    },
    store: {
      graphRoot: store.root, runRoot: runtimeDir(), configDir: configDir(), graphDriver: 'overlay',
      overlayOptions: isRootless() ? 'native overlayfs with userxattr' : 'native overlayfs',
      imageCount: store.readImages().length, containerCount: store.listContainers().length,
    },
  };
}
