// Run by bin/tspod outside the user namespace, once: start the pause process that holds the user
// and mount namespaces, map the user's subordinate ids into it, and record it in pause.pid.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { readSubIds, mappingArgs, addSubidsCommand } from './subid.js';
import { runtimeDir } from '../paths.js';
import { TspodError, UserNamespaceError } from '../errors.js';
import { withLock } from '../sys/lock.js';
import { findExecutable, processAlive, sleepSync } from '../sys/proc.js';

function pauseAlive(pidfile: string): boolean {
  try {
    const [pid, ns] = fs.readFileSync(pidfile, 'utf8').trim().split(' ');
    // A zombie keeps its namespace links readable: its state says it is dead.
    return processAlive(Number(pid)) && fs.readlinkSync(`/proc/${pid}/ns/user`) === ns;
  } catch { return false; }
}

function runMapper(tool: string, pid: number, args: string[]): void {
  const r = spawnSync(tool, [String(pid), ...args], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new UserNamespaceError(`${path.basename(tool)} failed: ${(r.stderr || r.error?.message || '').trim()}`,
      'check the ranges in /etc/subuid and /etc/subgid for your user');
  }
}

export function setupUserNamespace(): void {
  const uid = process.getuid!(), gid = process.getgid!();
  const user = os.userInfo().username;
  const rt = runtimeDir();
  fs.mkdirSync(rt, { recursive: true, mode: 0o700 });
  const st = fs.statSync(rt);
  if (st.uid !== uid) throw new UserNamespaceError(`runtime directory ${rt} belongs to uid ${st.uid}, not to you`, `remove it or set XDG_RUNTIME_DIR`);
  fs.chmodSync(rt, 0o700);
  const pidfile = path.join(rt, 'pause.pid');

  withLock(path.join(rt, 'pause.lock'), () => {
    if (pauseAlive(pidfile)) return;
    const uidRanges = readSubIds('/etc/subuid', user, uid);
    const gidRanges = readSubIds('/etc/subgid', user, uid);
    const newuidmap = findExecutable('newuidmap'), newgidmap = findExecutable('newgidmap');
    const full = uidRanges.length > 0 && gidRanges.length > 0;
    if (full && (!newuidmap || !newgidmap)) {
      throw new UserNamespaceError('newuidmap/newgidmap not found: they map your subordinate ids into the user namespace',
        'install them: sudo apt-get install uidmap');
    }
    if (!full) {
      process.stderr.write(`Warning: no entry for "${user}" in /etc/subuid and /etc/subgid: only your own id is mapped, ` +
        `so images with files owned by other users will fail. Add one with: ${addSubidsCommand(user)}\n`);
    }
    const unshare = findExecutable('unshare');
    if (!unshare) throw new UserNamespaceError('unshare not found', 'install util-linux');
    // The pause process: a sleeping process in a new user+mount namespace, in its own session so
    // that the terminal's Ctrl-C never reaches it.
    const child = spawn(unshare, ['--user', '--mount', '--propagation', 'private', 'sleep', 'infinity'],
      { detached: true, stdio: 'ignore' });
    const pid = child.pid!;
    child.unref();
    try {
      // Wait until unshare has exec'd into the new namespace before writing its maps.
      const selfNs = fs.readlinkSync('/proc/self/ns/user');
      const deadline = Date.now() + 5000;
      let ns = selfNs;
      while (ns === selfNs) {
        if (Date.now() > deadline) throw new UserNamespaceError('the pause process did not enter a new user namespace', 'check that unprivileged user namespaces are enabled (sysctl user.max_user_namespaces)');
        sleepSync(2);
        try { ns = fs.readlinkSync(`/proc/${pid}/ns/user`); } catch { throw new UserNamespaceError('the pause process died while starting', 'check that unprivileged user namespaces are enabled'); }
      }
      if (full) {
        runMapper(newuidmap!, pid, mappingArgs(uid, uidRanges));
        runMapper(newgidmap!, pid, mappingArgs(gid, gidRanges));
      } else {
        fs.writeFileSync(`/proc/${pid}/uid_map`, `0 ${uid} 1\n`);
        fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny');
        fs.writeFileSync(`/proc/${pid}/gid_map`, `0 ${gid} 1\n`);
      }
      const tmp = `${pidfile}.${process.pid}`;
      fs.writeFileSync(tmp, `${pid} ${ns}\n`);
      fs.renameSync(tmp, pidfile);
    } catch (err) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      throw err;
    }
  });
}

try {
  setupUserNamespace();
} catch (err) {
  if (err instanceof TspodError) {
    process.stderr.write(`Error: ${err.message}${err.hint ? `; ${err.hint}` : ''}\n`);
  } else {
    process.stderr.write(`Error: could not set up the user namespace: ${(err as Error).message}\n`);
  }
  process.exit(125);
}
