// Which way containers' roots are made from the store's layers (which all drivers share: one
// unpacked directory per layer, with overlay's whiteouts): the kernel's overlay where it can be
// mounted, fuse-overlayfs where it can't, a copy (vfs) as the last resort. --storage-driver or
// storage.conf's `driver` and `mount_program` choose; otherwise the first that works here, found
// once per boot (the probe's answer is kept in the runtime directory).
import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../errors.js';
import { runtimeDir, userConfigHome, isRootless } from '../paths.js';
import { parseToml } from '../toml.js';
import { mount, unmountLazy, SysError, errnoName } from '../sys/index.js';

export type DriverName = 'overlay' | 'fuse-overlayfs' | 'vfs';
export interface Driver { name: DriverName; mountProgram?: string; why: string }

/** storage.conf as containers/storage reads it: CONTAINERS_STORAGE_CONF, else the user's (rootless), else /etc's. */
export function storageConfFile(): string | undefined {
  if (process.env.CONTAINERS_STORAGE_CONF) return process.env.CONTAINERS_STORAGE_CONF;
  const mine = path.join(userConfigHome(), 'containers/storage.conf');
  if (isRootless() && fs.existsSync(mine)) return mine;
  return fs.existsSync('/etc/containers/storage.conf') ? '/etc/containers/storage.conf' : undefined;
}

function storageConf(): { driver?: string; mountProgram?: string } {
  const file = storageConfFile();
  if (!file) return {};
  let doc: { storage?: { driver?: unknown; options?: { mount_program?: unknown; overlay?: { mount_program?: unknown } } } };
  try { doc = parseToml(fs.readFileSync(file, 'utf8')) as typeof doc; } catch (e) {
    throw new TspodError('E_CONFIG', `cannot parse ${file}: ${(e as Error).message.split('\n')[0]}: fix the TOML syntax of that file`);
  }
  const s = doc.storage ?? {};
  const mp = s.options?.overlay?.mount_program ?? s.options?.mount_program;
  return { driver: typeof s.driver === 'string' && s.driver ? s.driver : undefined, mountProgram: typeof mp === 'string' && mp ? mp : undefined };
}

/** Whether the kernel's overlay mounts here (with userxattr rootless), tried once per boot. */
function nativeOverlay(): { ok: boolean; why: string } {
  const cache = path.join(runtimeDir(), 'overlay-probe.json');
  try { return JSON.parse(fs.readFileSync(cache, 'utf8')) as { ok: boolean; why: string }; } catch { /* probe */ }
  const dir = fs.mkdtempSync(path.join(runtimeDir(), 'overlay-probe-'));
  let result: { ok: boolean; why: string };
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d));
    mount('overlay', path.join(dir, 'merged'), 'overlay', `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work${isRootless() ? ',userxattr' : ''}`);
    unmountLazy(path.join(dir, 'merged'));
    result = { ok: true, why: 'the kernel mounts overlay here' };
  } catch (e) {
    result = { ok: false, why: `native overlay can't be mounted here (${e instanceof SysError ? errnoName(e.errno) : (e as Error).message})` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  try { fs.writeFileSync(cache, JSON.stringify(result)); } catch { /* probe again next time */ }
  return result;
}

/** fuse-overlayfs, when it is installed and /dev/fuse can be opened. */
function fuseOverlayfs(given?: string): { path?: string; why: string } {
  const candidates = given ? [given] : ['/usr/bin/fuse-overlayfs', '/usr/local/bin/fuse-overlayfs'];
  const bin = candidates.find((p) => { try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; } });
  if (!bin) return { why: `${given ?? 'fuse-overlayfs'} is not installed` };
  try { fs.closeSync(fs.openSync('/dev/fuse', 'r+')); } catch (e) { return { why: `/dev/fuse can't be opened (${(e as NodeJS.ErrnoException).code})` }; }
  return { path: bin, why: '' };
}

let chosen: Driver | undefined;

/** The driver new containers get (each container keeps the one it was created with). */
export function chooseDriver(): Driver {
  if (chosen) return chosen;
  const conf = storageConf();
  const asked = process.env.TSPOD_STORAGE_DRIVER || conf.driver;
  if (asked && !['overlay', 'vfs', 'fuse-overlayfs'].includes(asked)) {
    throw new TspodError('E_STORAGE_DRIVER', `storage driver "${asked}" is not one tspod has`, { hint: 'use overlay (native, or through fuse-overlayfs with mount_program) or vfs' });
  }
  if (asked === 'vfs') return (chosen = { name: 'vfs', why: 'asked for' });
  const program = asked === 'fuse-overlayfs' ? fuseOverlayfs() : conf.mountProgram ? fuseOverlayfs(conf.mountProgram) : undefined;
  if (program) {
    if (!program.path) throw new TspodError('E_STORAGE_DRIVER', `the overlay mount program can't be used: ${program.why}`, { hint: 'install fuse-overlayfs (apt-get install fuse-overlayfs) and make /dev/fuse usable, or use --storage-driver vfs' });
    return (chosen = { name: 'fuse-overlayfs', mountProgram: program.path, why: 'asked for (mount_program)' });
  }
  const native = nativeOverlay();
  if (native.ok) return (chosen = { name: 'overlay', why: native.why });
  const fuse = fuseOverlayfs();
  if (fuse.path) return (chosen = { name: 'fuse-overlayfs', mountProgram: fuse.path, why: `${native.why}; fuse-overlayfs instead` });
  if (asked === 'overlay') throw new TspodError('E_STORAGE_DRIVER', `storage driver overlay: ${native.why}, and ${fuse.why}`, { hint: 'install fuse-overlayfs, or use --storage-driver vfs (copies each container\'s root)' });
  return (chosen = { name: 'vfs', why: `${native.why}, and ${fuse.why}: each container's root is a copy` });
}
