// What killed tspod processes leave behind, found and undone. A create holds the container's lock
// from its directory's first moment to its record, and a start holds it from before its first mount
// to the record that says who watches the container. So whoever gets that lock and finds no record,
// or a record still marked `starting`, knows the process that was at work there is dead, and
// undoes what it may have made: conmon and what it started, the runtime's state, the network
// helpers and namespace, the overlay mount. Everything is found by the container's id.
import fs from 'node:fs';
import path from 'node:path';
import type { Store, ContainerRecord } from '../storage/store.js';
import { runtimeDir } from '../paths.js';
import { hasArgument, processAlive, processTree } from '../sys/proc.js';
import { runcStateRoot } from './containers.js';

/**
 * Kill, unmount and remove whatever container `id` may still hold, whoever started it and however
 * far it got: conmon and its tree, the runtime's state, the network helper and namespace, the
 * overlay mount. Cheap when there is nothing: a few file checks.
 */
export async function releaseContainer(store: Store, id: string, runtime?: string): Promise<void> {
  const [{ findRuntime, deleteContainer }, { teardownNetwork, netnsPath }, { unmountContainer }] = await Promise.all([
    import('../runtime/oci.js'), import('../net/slirp/network.js'), import('../runtime/rootfs.js')]);
  const userdata = path.join(store.containerDir(id), 'userdata');
  // conmon and everything under it (runtime create, runc init, the container's processes).
  let conmon = 0;
  try { conmon = Number(fs.readFileSync(path.join(userdata, 'conmon.pid'), 'utf8')); } catch { /* never started */ }
  if (conmon && processAlive(conmon) && hasArgument(conmon, id)) {
    const tree = processTree(conmon);
    // Run as conmon's exit command (a --rm container removing itself), we are in that tree: conmon
    // has nothing left to watch and ends after us.
    if (!tree.includes(process.pid)) for (const pid of tree) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  }
  if (fs.existsSync(path.join(runcStateRoot(), id))) {
    try { deleteContainer(findRuntime(runtime), runcStateRoot(), id); } catch { /* no runtime: nothing it could have made */ }
  }
  await teardownNetwork({ mode: 'pasta', nsPath: netnsPath(runtimeDir(), id) });
  unmountContainer(store.containerDir(id));
}

/** A record a killed start left marked: undone, and put back as it was before (created, or exited). Call under its lock. */
export async function undoInterruptedStart(store: Store, rec: ContainerRecord): Promise<void> {
  await releaseContainer(store, rec.id, rec.config?.runtime);
  store.writeContainer({ ...rec, starting: undefined, network: undefined, monitorPid: undefined, state: rec.state === 'created' ? 'created' : 'exited' });
}

export interface SweepOptions {
  /** also remove containers whose record does not parse (rm does; ps only warns) */
  removeDamaged?: boolean;
  onWarning?: (message: string) => void;
}

/**
 * Undo killed creates and starts: container directories without a record are removed, records a
 * start never finished are put back as they were (created, or exited). Nothing waits: a directory
 * whose lock is held is somebody's work in progress. `scan` is what the caller just read.
 */
export async function sweepContainers(store: Store, scan: ReturnType<Store['scanContainers']>, opts: SweepOptions = {}): Promise<void> {
  const { records, missing, damaged } = scan;
  const starting = records.filter((r) => r.starting).map((r) => r.id);
  if (!starting.length && !missing.length && !damaged.length) return;
  for (const id of [...missing, ...starting, ...damaged]) {
    const release = store.lockContainer(id, { tryOnly: true });
    if (!release) continue;
    try {
      const rec = store.readContainer(id);
      if (rec?.starting) {
        await undoInterruptedStart(store, rec);
      } else if (!rec && !store.hasContainerFile(id)) {
        await releaseContainer(store, id);
        store.discardContainerDir(id);
      } else if (!rec) {
        if (!opts.removeDamaged) { opts.onWarning?.(`container ${id.slice(0, 12)} has a damaged record (containers/${id}/container.json): \`tspod rm -f ${id.slice(0, 12)}\` removes it`); continue; }
        await releaseContainer(store, id);
        store.discardContainerDir(id);
        opts.onWarning?.(`removed container ${id.slice(0, 12)}: its record was damaged`);
      }
    } finally {
      release();
    }
  }
}

/**
 * A name whose claim outlived its container: the link points at no directory, or at one without a
 * record that nobody is creating. Freed under the store lock, so two claimers never both take it.
 */
export function reclaimStaleName(store: Store, name: string, id: string): boolean {
  const holder = store.idForName(name);
  if (holder === undefined) return store.claimName(name, id);
  if (store.hasContainerFile(holder)) return false;
  const release = fs.existsSync(store.containerDir(holder)) ? store.lockContainer(holder, { tryOnly: true }) : () => {};
  if (!release) return false; // being created right now
  try {
    if (store.hasContainerFile(holder)) return false;
    store.discardContainerDir(holder);
    return store.withLock(() => {
      if (store.idForName(name) === holder) store.releaseName(name);
      return store.claimName(name, id);
    });
  } finally {
    release();
  }
}
