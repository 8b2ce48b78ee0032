// stats: what running containers use, read from their cgroups (cgroup v1 per controller, or the
// v2 unified tree) and their network namespace's counters. A container has a cgroup of its own as
// root, or rootless in a delegated cgroup v2 tree; rootless on cgroup v1 there is none to read.
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../errors.js';
import type { Store, ContainerRecord } from '../storage/store.js';
import { isRootless } from '../paths.js';
import { cgroupVersion } from '../runtime/oci.js';
import { containerCgroup } from './confine.js';
import { containerPid } from './containers.js';

export interface Sample { id: string; name: string; cpuNs: number; memUsage: number; memLimit: number; netRx: number; netTx: number; blockRead: number; blockWrite: number; pids: number; at: number; startedAt: number }

const num = (file: string) => { try { return Number(fs.readFileSync(file, 'utf8').trim().split(/\s+/)[0]); } catch { return 0; } };
const text = (file: string) => { try { return fs.readFileSync(file, 'utf8'); } catch { return ''; } };

/** Stats need a cgroup per container: say plainly where there is none. */
export function checkStatsPossible(): void {
  if (isRootless() && (cgroupVersion() === 'v1' || !containerCgroup('x', true))) {
    throw new TspodError('E_CGROUPS', `stats is not supported in rootless mode without cgroups v2${cgroupVersion() === 'v2' ? ' delegated to you' : ''}: rootless containers here have no cgroup of their own to read`, { hint: 'run as root, or on cgroup v2 from a systemd user session' });
  }
}

/** One reading of a running container. */
export function sample(store: Store, rec: ContainerRecord): Sample {
  const cg = containerCgroup(rec.id, isRootless())!;
  const v2 = cgroupVersion() === 'v2';
  const at = (controller: string, file: string) => (v2 ? path.join('/sys/fs/cgroup', cg, file) : path.join('/sys/fs/cgroup', controller, cg, file));
  let cpuNs: number, memUsage: number, memLimit: number, pids: number, blockRead = 0, blockWrite = 0;
  if (v2) {
    cpuNs = Number(/usage_usec (\d+)/.exec(text(at('', 'cpu.stat')))?.[1] ?? 0) * 1000;
    memUsage = num(at('', 'memory.current'));
    const max = text(at('', 'memory.max')).trim();
    memLimit = max && max !== 'max' ? Number(max) : hostMemory();
    pids = num(at('', 'pids.current'));
    for (const line of text(at('', 'io.stat')).split('\n')) {
      blockRead += Number(/rbytes=(\d+)/.exec(line)?.[1] ?? 0);
      blockWrite += Number(/wbytes=(\d+)/.exec(line)?.[1] ?? 0);
    }
  } else {
    cpuNs = num(at('cpuacct', 'cpuacct.usage'));
    // As Docker: the page cache the container could give back is not its usage.
    const stat = text(at('memory', 'memory.stat'));
    memUsage = Math.max(0, num(at('memory', 'memory.usage_in_bytes')) - Number(/^total_inactive_file (\d+)/m.exec(stat)?.[1] ?? 0));
    const limit = num(at('memory', 'memory.limit_in_bytes'));
    memLimit = limit && limit < 2 ** 62 ? Math.min(limit, hostMemory()) : hostMemory();
    pids = num(at('pids', 'pids.current'));
    for (const line of text(at('blkio', 'blkio.throttle.io_service_bytes')).split('\n')) {
      const m = /^\S+ (Read|Write) (\d+)/.exec(line);
      if (m?.[1] === 'Read') blockRead += Number(m[2]); else if (m) blockWrite += Number(m[2]);
    }
  }
  let netRx = 0, netTx = 0;
  const pid = containerPid(store, rec);
  for (const line of text(`/proc/${pid}/net/dev`).split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    netRx += f[0]; netTx += f[8];
  }
  return { id: rec.id, name: rec.name, cpuNs, memUsage, memLimit, netRx, netTx, blockRead, blockWrite, pids, at: Date.now(), startedAt: Date.parse(rec.startedAt ?? '') || Date.now() };
}

function hostMemory(): number {
  return Number(/MemTotal:\s+(\d+)/.exec(text('/proc/meminfo'))?.[1] ?? 0) * 1024;
}
