// Health checks: a command run in the container now and then (--health-*, or the image's
// HEALTHCHECK); its results make the container starting, healthy or unhealthy, and an unhealthy
// one may be killed, stopped or restarted (--health-on-failure). With no daemon, something must
// run them: under a systemd user manager a transient timer per container runs `tspod healthcheck
// run ID`, as Podman does; without one a small tspod process per container (`healthcheck monitor`)
// does, and ends with the container's run.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { TspodError, UsageError } from '../errors.js';
import type { Store, ContainerRecord, HealthConfig } from '../storage/store.js';
import { current, launcher } from './containers.js';

export type OnFailure = HealthConfig['onFailure'];

export type { HealthConfig };

export interface HealthLog { Start: string; End: string; ExitCode: number; Output: string }
export interface HealthState { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: HealthLog[] }

/** The flags as run/create take them. */
export interface HealthFlags { cmd?: string; interval?: string; retries?: string; timeout?: string; startPeriod?: string; onFailure?: string; none?: boolean }

/** The image config's HEALTHCHECK (times in ns, as Docker writes them). */
interface ImageHealth { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number }

const DEFAULTS = { interval: 30_000, timeout: 30_000, startPeriod: 0, retries: 3 };
const KEEP_LOG = 5;

/** Go's durations (1s, 1m30s, 500ms, 2h), as Podman takes them; "disable" (interval only) is 0. */
export function parseGoDuration(v: string, flag: string): number {
  if (v === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0, seen = '';
  for (const m of v.matchAll(re)) { total += Number(m[1]) * unit[m[2]]; seen += m[0]; }
  if (!v || seen !== v) throw new UsageError(`invalid argument "${v}" for "--${flag}" flag: time: invalid duration "${v}"`, 'give a duration such as 30s, 1m or 500ms');
  return Math.round(total);
}

/** The health check a container gets: its flags over the image's HEALTHCHECK; none when disabled. */
export function healthConfig(f: HealthFlags, image: ImageHealth | undefined): HealthConfig | undefined {
  const onFailure = (f.onFailure ?? 'none') as OnFailure;
  if (!['none', 'kill', 'restart', 'stop'].includes(onFailure)) throw new UsageError(`invalid on-failure action "${f.onFailure}" for health check: give none, kill, restart or stop`);
  let test: string[] | undefined;
  if (f.none || f.cmd === 'none') test = undefined;
  else if (f.cmd !== undefined) {
    if (!f.cmd.trim()) throw new UsageError('--health-cmd is empty', 'give a command, or none');
    // A JSON array is the exec form, as Podman reads it; anything else runs through /bin/sh -c.
    let parsed: unknown;
    try { parsed = f.cmd.trim().startsWith('[') ? JSON.parse(f.cmd) : undefined; } catch { parsed = undefined; }
    test = Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? (['CMD', 'CMD-SHELL', 'NONE'].includes(parsed[0]) ? parsed : ['CMD', ...parsed]) : ['CMD-SHELL', f.cmd];
  } else if (image?.Test?.length && image.Test[0] !== 'NONE') test = image.Test;
  if (!test || test[0] === 'NONE') {
    if (onFailure !== 'none') throw new UsageError(`cannot set on-failure action to ${onFailure} without a health check`);
    return undefined;
  }
  const ms = (ns: number | undefined) => (ns ? Math.round(ns / 1e6) : undefined);
  const interval = f.interval === 'disable' ? 0 : f.interval !== undefined ? parseGoDuration(f.interval, 'health-interval') : ms(image?.Interval) ?? DEFAULTS.interval;
  const retries = f.retries !== undefined ? Number(f.retries) : image?.Retries || DEFAULTS.retries;
  if (!Number.isInteger(retries) || retries < 1) throw new UsageError(`healthcheck-retries must be greater than 0, not ${f.retries}`);
  const timeout = f.timeout !== undefined ? parseGoDuration(f.timeout, 'health-timeout') : ms(image?.Timeout) ?? DEFAULTS.timeout;
  if (timeout < 1000) throw new UsageError('healthcheck-timeout must be at least 1 second');
  const startPeriod = f.startPeriod !== undefined ? parseGoDuration(f.startPeriod, 'health-start-period') : ms(image?.StartPeriod) ?? DEFAULTS.startPeriod;
  return { test, interval, timeout, startPeriod, retries, onFailure };
}

const stateFile = (store: Store, id: string) => path.join(store.containerDir(id), 'userdata', 'healthcheck.json');

export function readHealth(store: Store, id: string): HealthState | undefined {
  try { return JSON.parse(fs.readFileSync(stateFile(store, id), 'utf8')) as HealthState; } catch { return undefined; }
}

function writeHealth(store: Store, id: string, s: HealthState): void {
  const file = stateFile(store, id);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(s));
  fs.renameSync(`${file}.tmp`, file);
}

/** Inspect's Config.Healthcheck: Docker's shape, times in ns. */
export function inspectHealthConfig(h: HealthConfig | undefined): object | undefined {
  return h ? { Test: h.test, Interval: h.interval * 1e6, Timeout: h.timeout * 1e6, StartPeriod: h.startPeriod * 1e6, Retries: h.retries } : undefined;
}

/**
 * healthcheck run: the check once, its result recorded; an unhealthy container gets its
 * --health-on-failure. "healthy", or "unhealthy" when this run failed.
 */
export async function runHealthcheck(store: Store, ref: ContainerRecord): Promise<'healthy' | 'unhealthy'> {
  const rec = current(store, ref.id) ?? ref;
  const h = rec.config?.healthcheck;
  if (!h) throw new TspodError('E_NO_HEALTHCHECK', `container ${rec.name} has no defined healthcheck`, { hint: 'create it with --health-cmd, or from an image with a HEALTHCHECK' });
  if (rec.state !== 'running') throw new TspodError('E_CONTAINER_NOT_RUNNING', `container ${rec.name} is not running`, { hint: `start it first: tspod start ${rec.name}` });
  const { execInContainer } = await import('./exec.js');
  const command = h.test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', h.test.slice(1).join(' ')] : h.test.slice(1);
  const capture = { stdout: '', stderr: '' };
  const start = new Date();
  let code: number;
  try { code = await execInContainer(store, rec, { command, capture, timeoutMs: h.timeout }); } catch (e) { code = 1; capture.stderr = (e as Error).message; }
  const end = new Date();
  if (end.getTime() - start.getTime() >= h.timeout) { code = 1; capture.stderr += `${capture.stderr ? '\n' : ''}healthcheck command exceeded timeout of ${h.timeout / 1000}s`; }
  const before = readHealth(store, rec.id) ?? { Status: 'starting', FailingStreak: 0, Log: [] };
  const inStartPeriod = h.startPeriod > 0 && Date.now() - Date.parse(rec.startedAt ?? '') < h.startPeriod;
  const ok = code === 0;
  const streak = ok ? 0 : inStartPeriod ? before.FailingStreak : before.FailingStreak + 1;
  const status: HealthState['Status'] = ok ? 'healthy' : streak >= h.retries ? 'unhealthy' : before.Status === 'unhealthy' ? 'unhealthy' : before.Status;
  const output = `${capture.stdout}${capture.stdout && capture.stderr && !capture.stdout.endsWith('\n') ? '\n' : ''}${capture.stderr}`.replace(/\n+$/, '');
  const log: HealthLog = { Start: start.toISOString(), End: end.toISOString(), ExitCode: code, Output: output };
  writeHealth(store, rec.id, { Status: status, FailingStreak: streak, Log: [...before.Log, log].slice(-KEEP_LOG) });
  if (status === 'unhealthy') await onUnhealthy(store, rec, h.onFailure);
  return ok ? 'healthy' : 'unhealthy';
}

async function onUnhealthy(store: Store, rec: ContainerRecord, action: OnFailure): Promise<void> {
  if (action === 'none') return;
  const [lifecycle, start] = await Promise.all([import('./lifecycle.js'), import('./start.js')]);
  if (action === 'kill') {
    await lifecycle.killContainer(store, rec, 'KILL');
    await lifecycle.waitContainer(store, rec, 10_000);
  } else {
    await lifecycle.stopContainer(store, rec, rec.config?.stopTimeout ?? 10);
  }
  await start.settleEnded(store, rec.id);
  if (action === 'restart') await start.startContainer(store, current(store, rec.id) ?? rec, { attach: false });
}

/** Whether a systemd user manager runs for us, so its timers can run the checks. */
function userSystemd(): boolean {
  const dir = process.env.XDG_RUNTIME_DIR;
  return !!dir && fs.existsSync(path.join(dir, 'systemd', 'private')) && fs.existsSync('/usr/bin/systemd-run');
}

const timerUnit = (id: string) => `tspod-healthcheck-${id}`;

/** Once a container with a health check runs: its checks are scheduled, and its health starts over. */
export async function scheduleHealthchecks(store: Store, rec: ContainerRecord): Promise<void> {
  const h = rec.config?.healthcheck;
  if (!h) return;
  writeHealth(store, rec.id, { Status: 'starting', FailingStreak: 0, Log: [] });
  if (!h.interval) return; // --health-interval=disable: only healthcheck run
  const { startProcess } = await import('../sys/spawn.js');
  const sec = `${Math.max(1, Math.round(h.interval / 1000))}s`;
  if (userSystemd()) {
    spawnSync('systemctl', ['--user', 'stop', `${timerUnit(rec.id)}.timer`], { stdio: 'ignore' });
    const r = spawnSync('systemd-run', ['--user', '--quiet', `--unit=${timerUnit(rec.id)}`, `--on-active=${sec}`, `--on-unit-inactive=${sec}`, '--timer-property=AccuracySec=1s', launcher(), 'healthcheck', 'run', rec.id], { encoding: 'utf8' });
    if (r.status === 0) return;
    // No timer (a manager that refuses transient units): the monitor does it.
  }
  startProcess(launcher(), ['healthcheck', 'monitor', rec.id, rec.runId ?? ''], { stdio: ['ignore', 'ignore', 'ignore'], newSession: true, wait: false });
}

/** Once it has ended: its timer goes (a monitor sees the end itself). */
export async function unscheduleHealthchecks(rec: ContainerRecord): Promise<void> {
  if (!rec.config?.healthcheck?.interval || !userSystemd()) return;
  spawnSync('systemctl', ['--user', 'stop', `${timerUnit(rec.id)}.timer`], { stdio: 'ignore' });
}

/** healthcheck monitor: the checks of one run of a container, every interval, until that run ends. */
export async function monitorHealth(store: Store, id: string, runId: string): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (;;) {
    const rec = current(store, id);
    const h = rec?.config?.healthcheck;
    if (!rec || !h?.interval) return;
    await sleep(h.interval);
    const now = current(store, id);
    if (!now || now.state !== 'running' || (runId && now.runId !== runId)) return;
    try { await runHealthcheck(store, now); } catch { /* ended meanwhile */ }
  }
}
