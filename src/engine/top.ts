// top: a running container's processes, described by Podman's (psgo's) descriptors: user, huser,
// pid, hpid, args, capeff, seccomp... read from /proc, so nothing runs inside the container (an
// image's own ps or nsenter is never trusted). Ids are shown as the container sees them, and as
// the host does for the h* descriptors.
import fs from 'node:fs';
import os from 'node:os';
import { TspodError } from '../errors.js';
import type { Store, ContainerRecord, IdMap } from '../storage/store.js';
import { containerProcesses } from './lifecycle.js';
import { ALL_CAPS } from '../runtime/spec.js';
import { toContainer } from '../storage/mapped.js';

interface Proc { pid: number; status: Record<string, string>; stat: string[]; cmdline: string; comm: string }

const HZ = 100;

function readProc(pid: number): Proc | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const status = Object.fromEntries(fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return { pid, status, stat: stat.slice(stat.lastIndexOf(')') + 2).split(' '), cmdline: cmdline || `[${comm}]`, comm };
  } catch { return undefined; }
}

function samePidNs(a: number, b: number): boolean {
  try { return fs.readlinkSync(`/proc/${a}/ns/pid`) === fs.readlinkSync(`/proc/${b}/ns/pid`); } catch { return false; }
}

/** An id of tspod's user namespace as the host knows it (through /proc/self/uid_map). */
function outsideId(kind: 'uid' | 'gid', id: number): number {
  try {
    for (const line of fs.readFileSync(`/proc/self/${kind}_map`, 'utf8').trim().split('\n')) {
      const [inside, outside, count] = line.trim().split(/\s+/).map(Number);
      if (id >= inside && id < inside + count) return outside + (id - inside);
    }
  } catch { /* not in a user namespace */ }
  return id;
}

/** An id of tspod's namespace as the container sees it, through its own user namespace where it has one. */
function insideId(maps: IdMap[] | undefined, id: number): number {
  if (!maps) return id;
  // An id the container's namespace does not map shows as the overflow id, as the kernel shows it.
  return maps.some((r) => id >= r.host && id < r.host + r.size) ? toContainer(maps, id) : 65534;
}

function nameIn(file: string, id: number): string {
  try {
    const row = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(id));
    if (row) return row[0];
  } catch { /* no such file */ }
  return String(id);
}

const duration = (seconds: number) => {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${m}m${s % 60}s` : `${m}m${s % 60}s`;
};

const capNames = (hex: string) => {
  const bits = BigInt(`0x${hex || '0'}`);
  if (bits === 0n) return 'none';
  const names = ALL_CAPS.filter((_, i) => bits & (1n << BigInt(i))).map((c) => c.slice(4));
  return names.length === ALL_CAPS.length ? 'full' : names.join(',');
};

type Describe = (p: Proc, ctx: { root: string; uidMap?: IdMap[]; gidMap?: IdMap[]; uptime: number }) => string;

const realUid = (p: Proc) => Number(p.status.Uid?.split(/\s+/)[0] ?? 0);
const realGid = (p: Proc) => Number(p.status.Gid?.split(/\s+/)[0] ?? 0);
const effUid = (p: Proc) => Number(p.status.Uid?.split(/\s+/)[1] ?? 0);
const effGid = (p: Proc) => Number(p.status.Gid?.split(/\s+/)[1] ?? 0);

/** psgo's descriptors: the header each prints under, and how. */
const DESCRIPTORS: Record<string, [string, Describe]> = {
  args: ['COMMAND', (p) => p.cmdline],
  comm: ['COMMAND', (p) => p.comm],
  pid: ['PID', (p) => (p.status.NSpid ?? String(p.pid)).split(/\s+/).pop()!],
  hpid: ['HPID', (p) => String(p.pid)],
  // The parent as the container numbers it: 0 when it is outside the container's pid namespace.
  ppid: ['PPID', (p) => { const ppid = Number(p.stat[1]); return samePidNs(p.pid, ppid) ? (readProc(ppid)?.status.NSpid ?? String(ppid)).split(/\s+/).pop()! : '0'; }],
  user: ['USER', (p, c) => nameIn(`${c.root}/etc/passwd`, insideId(c.uidMap, effUid(p)))],
  uid: ['UID', (p, c) => String(insideId(c.uidMap, effUid(p)))],
  ruser: ['RUSER', (p, c) => nameIn(`${c.root}/etc/passwd`, insideId(c.uidMap, realUid(p)))],
  group: ['GROUP', (p, c) => nameIn(`${c.root}/etc/group`, insideId(c.gidMap, effGid(p)))],
  gid: ['GID', (p, c) => String(insideId(c.gidMap, effGid(p)))],
  rgroup: ['RGROUP', (p, c) => nameIn(`${c.root}/etc/group`, insideId(c.gidMap, realGid(p)))],
  huser: ['HUSER', (p) => nameIn('/etc/passwd', outsideId('uid', effUid(p)))],
  huid: ['HUID', (p) => String(outsideId('uid', effUid(p)))],
  hgroup: ['HGROUP', (p) => nameIn('/etc/group', outsideId('gid', effGid(p)))],
  hgid: ['HGID', (p) => String(outsideId('gid', effGid(p)))],
  state: ['STATE', (p) => p.stat[0]],
  nice: ['NI', (p) => p.stat[16]],
  pgid: ['PGID', (p) => p.stat[2]],
  tty: ['TTY', (p) => (Number(p.stat[4]) ? `pts/${Number(p.stat[4]) & 0xff}` : '?')],
  vsz: ['VSZ', (p) => String(Math.round(Number(p.stat[20]) / 1024))],
  etime: ['ELAPSED', (p, c) => duration(c.uptime - Number(p.stat[19]) / HZ)],
  time: ['TIME', (p) => duration((Number(p.stat[11]) + Number(p.stat[12])) / HZ)],
  pcpu: ['%CPU', (p, c) => { const el = c.uptime - Number(p.stat[19]) / HZ; return el > 0 ? (((Number(p.stat[11]) + Number(p.stat[12])) / HZ / el) * 100).toFixed(3) : '0.000'; }],
  stime: ['STIME', (p, c) => new Date(Date.now() - (c.uptime - Number(p.stat[19]) / HZ) * 1000).toISOString().replace('T', ' ').slice(0, 19)],
  seccomp: ['SECCOMP', (p) => ({ 0: 'disabled', 1: 'strict', 2: 'filter' } as Record<string, string>)[p.status.Seccomp ?? '0'] ?? '?'],
  capamb: ['AMBIENT CAPS', (p) => capNames(p.status.CapAmb)],
  capbnd: ['BOUNDING CAPS', (p) => capNames(p.status.CapBnd)],
  capeff: ['EFFECTIVE CAPS', (p) => capNames(p.status.CapEff)],
  capinh: ['INHERITED CAPS', (p) => capNames(p.status.CapInh)],
  capprm: ['PERMITTED CAPS', (p) => capNames(p.status.CapPrm)],
  label: ['LABEL', () => '-'],
};

export const DEFAULT_TOP = ['user', 'pid', 'ppid', 'pcpu', 'etime', 'tty', 'time', 'args'];

/** The rows of `top CTR [DESCRIPTOR...]` (descriptors given as separate words or comma-separated), header first. */
export async function topRows(store: Store, rec: ContainerRecord, words: string[]): Promise<string[][]> {
  const wanted = words.flatMap((w) => w.split(',')).filter(Boolean);
  const names = wanted.length ? wanted : DEFAULT_TOP;
  for (const n of names) {
    if (!DESCRIPTORS[n]) throw new TspodError('E_USAGE', `unknown descriptor: ${n}`, { hint: `use ${Object.keys(DESCRIPTORS).join(', ')}` });
  }
  const procs = (await containerProcesses(store, rec)).map((p) => readProc(p.pid)).filter((p): p is Proc => !!p);
  const c = rec.config?.confinement;
  const ctx = { root: `/proc/${procs[0]?.pid ?? 0}/root`, uidMap: c?.uidMap, gidMap: c?.gidMap, uptime: os.uptime() };
  try { ctx.uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]); } catch { /* os.uptime */ }
  return [names.map((n) => DESCRIPTORS[n][0]), ...procs.map((p) => names.map((n) => DESCRIPTORS[n][1](p, ctx)))];
}
