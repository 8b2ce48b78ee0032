// Small container commands that find one container and call one engine function.
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { UsageError } from '../../errors.js';
import { ResourceFlags } from './resource-flags.js';

async function engine() {
  const [containers, lifecycle, { Store }] = await Promise.all([import('../../engine/containers.js'), import('../../engine/lifecycle.js'), import('../../storage/store.js')]);
  return { ...containers, ...lifecycle, store: new Store() };
}

export class LogsCommand extends TspodCommand {
  static paths = [['logs'], ['container', 'logs']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'print a container\'s output',
    details: 'Detached containers are logged by conmon, one file per container, with the stream and a timestamp on every line.',
    examples: [['Print the log', '$0 logs web'], ['Follow it, with timestamps', '$0 logs -f -t web'], ['The last 10 lines', '$0 logs --tail 10 web'], ['The last five minutes', '$0 logs --since 5m web']],
  });

  follow = Option.Boolean('-f,--follow', false, { description: 'keep printing until the container exits' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  names = Option.Boolean('-n,--names', false, { description: 'Output the container name in the log' });
  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'prefix each line with its time' });
  tail = Option.String('--tail', { description: 'only the last N lines' });
  since = Option.String('--since', { description: 'only lines since this time: RFC 3339, Unix seconds, or a duration such as 10m' });
  until = Option.String('--until', { description: 'only lines before this time (same forms as --since)' });
  containers = Option.Rest({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const [e, { checkTargetFlags, resolveTargets }] = await Promise.all([engine(), import('./targets.js')]);
    const flags = { names: this.containers, latest: this.latest };
    checkTargetFlags(flags);
    const targets = await resolveTargets(e.store, flags);
    await printLogs(targets.map((t) => t.rec), this);
    return 0;
  }
}

/** The logs of these containers, all at once; several, or --names: each line says whose it is (the short id, or the name), as Podman's. */
export async function printLogs(recs: import('../../storage/store.js').ContainerRecord[], f: { follow: boolean; timestamps: boolean; tail?: string; since?: string; until?: string; names: boolean }): Promise<void> {
  const e = await engine();
  const opts = {
    follow: f.follow, timestamps: f.timestamps, tail: f.tail === undefined ? undefined : Number(f.tail),
    since: f.since === undefined ? undefined : e.parseLogTime(f.since), until: f.until === undefined ? undefined : e.parseLogTime(f.until),
  };
  const prefixed = recs.length > 1 || f.names;
  await Promise.all(recs.map((rec) => {
    const out = prefixed ? linePrefixed(`${f.names ? rec.name : rec.id.slice(0, 12)} `) : { stdout: process.stdout, stderr: process.stderr };
    return e.containerLogs(e.store, rec, out, opts);
  }));
}

/** Streams that write each whole line to ours with a prefix. */
function linePrefixed(prefix: string): { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } {
  const make = (to: NodeJS.WriteStream) => {
    let pending = '';
    return {
      write(chunk: string | Buffer) {
        const lines = (pending + chunk.toString()).split('\n');
        pending = lines.pop()!;
        if (lines.length) to.write(lines.map((l) => `${prefix}${l}\n`).join(''));
        return true;
      },
    } as unknown as NodeJS.WritableStream;
  };
  return { stdout: make(process.stdout), stderr: make(process.stderr) };
}

export class StopCommand extends TspodCommand {
  static paths = [['stop'], ['container', 'stop']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'Stop one or more containers',
    details: 'Sends the image\'s StopSignal (SIGTERM by default), waits, then sends SIGKILL. Prints each name as given, or the ids with --all.',
    examples: [['Stop a container', '$0 stop web'], ['Give it 2 seconds', '$0 stop -t 2 web'], ['Stop everything', '$0 stop -a']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Stop all running containers' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions given' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors when a specified container is missing' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  time = Option.String('-t,--time,--timeout', '10', { description: 'Seconds to wait for stop before killing the container' });
  cidfile = Option.Array('--cidfile', [], { description: 'Read the container ID from the file' });
  containers = Option.Rest();

  async run(): Promise<number> {
    const [e, { checkTargetFlags, resolveTargets, idsFromCidFiles }] = await Promise.all([engine(), import('./targets.js')]);
    const fromFiles = idsFromCidFiles(this.cidfile, this.ignore);
    if (this.cidfile.length && !fromFiles.length && !this.containers.length) return 0;
    const flags = { names: [...this.containers, ...fromFiles], all: this.all, latest: this.latest, ignore: this.ignore, filter: this.filter };
    checkTargetFlags(flags);
    const seconds = Number(this.time);
    if (!Number.isInteger(seconds) || seconds < 0) throw new UsageError(`invalid argument "${this.time}" for "-t, --time" flag: it takes a whole number of seconds`);
    for (const t of await resolveTargets(e.store, flags, { running: this.all })) {
      await e.stopContainer(e.store, t.rec, seconds, (m) => process.stderr.write(`Warning: ${m}\n`));
      process.stdout.write(`${t.shown}\n`);
    }
    return 0;
  }
}

export class WaitCommand extends TspodCommand {
  static paths = [['wait'], ['container', 'wait']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'Block on one or more containers',
    details: 'Waits for each container to stop and prints its exit code.',
    examples: [['Wait for one', '$0 wait web'], ['Wait for two', '$0 wait job1 job2']],
  });

  ignore = Option.Boolean('--ignore', false, { description: 'Ignore if a container does not exist' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  condition = Option.Array('--condition', [], { description: 'Condition to wait on (stopped, exited)' });
  interval = Option.String('-i,--interval', { description: 'Time interval to wait before polling for completion (tspod is woken by the change itself)' });
  containers = Option.Rest();

  async run(): Promise<number> {
    const [e, { checkTargetFlags, resolveTargets }] = await Promise.all([engine(), import('./targets.js')]);
    for (const c of this.condition) if (!['stopped', 'exited'].includes(c)) throw new UsageError(`unsupported wait condition "${c}": tspod waits for stopped or exited`);
    const flags = { names: this.containers, latest: this.latest, ignore: this.ignore };
    checkTargetFlags(flags);
    for (const t of await resolveTargets(e.store, flags)) {
      const code = await e.waitContainer(e.store, t.rec);
      process.stdout.write(`${code ?? -1}\n`);
    }
    return 0;
  }
}

export class CleanupCommand extends TspodCommand {
  static paths = [['container', 'cleanup']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'record a detached container\'s exit and free its mounts and network (run by conmon)',
    examples: [['What conmon runs when a container ends', '$0 container cleanup 4bce1d7cf1a2'], ['By name', '$0 container cleanup web']],
  });

  runId = Option.String('--run', { description: 'only if this is still the run that ended (conmon passes it)' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const [e, { cleanupContainer }] = await Promise.all([engine(), import('../../engine/start.js')]);
    await cleanupContainer(e.store, e.findContainer(e.store, this.container).id, this.runId);
    // conmon runs this when a container ends: a good moment to undo what killed tspods left.
    await e.listContainers(e.store, { all: true });
    e.store.withLock(() => e.store.sweep({ layers: false }));
    return 0;
  }
}

export class KillCommand extends TspodCommand {
  static paths = [['kill'], ['container', 'kill']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'Kill one or more running containers with a specific signal',
    examples: [['Kill a container', '$0 kill web'], ['Ask it to reload', '$0 kill -s HUP web'], ['Kill every running container', '$0 kill -a']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Signal all running containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  signal = Option.String('-s,--signal', 'KILL', { description: 'Signal to send to the container' });
  containers = Option.Rest();

  async run(): Promise<number> {
    const [e, { checkTargetFlags, resolveTargets }] = await Promise.all([engine(), import('./targets.js')]);
    e.parseSignal(this.signal);
    const flags = { names: this.containers, all: this.all, latest: this.latest };
    checkTargetFlags(flags);
    for (const t of await resolveTargets(e.store, flags, { running: true })) {
      await e.killContainer(e.store, t.rec, this.signal);
      process.stdout.write(`${t.shown}\n`);
    }
    return 0;
  }
}

export class RenameCommand extends TspodCommand {
  static paths = [['rename'], ['container', 'rename']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'rename a container',
    examples: [['Rename', '$0 rename old_name new_name'], ['By id prefix', '$0 rename 4bce1d web']],
  });

  container = Option.String({ name: 'CONTAINER' });
  name = Option.String({ name: 'NEW_NAME' });

  async run(): Promise<number> {
    const e = await engine();
    await e.renameContainer(e.store, e.findContainer(e.store, this.container), this.name);
    return 0;
  }
}

export class ContainerInspectCommand extends TspodCommand {
  static paths = [['container', 'inspect']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'show the details of containers, Docker-shaped',
    examples: [['Inspect', '$0 container inspect web'], ['One field', "$0 container inspect --format '{{.State.Status}}' web"]],
  });

  format = Option.String('-f,--format', { description: 'json (default), or a Go template such as {{.State.ExitCode}}' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  size = Option.Boolean('-s,--size', false, { description: 'Display total file size (SizeRw and SizeRootFs)' });
  containers = Option.Rest({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const [e, { checkTargetFlags, resolveTargets }] = await Promise.all([engine(), import('./targets.js')]);
    const { printReports } = await import('../report.js');
    checkTargetFlags({ names: this.containers, latest: this.latest });
    const reports = (await resolveTargets(e.store, { names: this.containers, latest: this.latest })).map((t) => e.inspectContainer(e.store, t.rec, { size: this.size }));
    printReports(reports, this.format);
    return 0;
  }
}

export class ContainerPruneCommand extends TspodCommand {
  static paths = [['container', 'prune']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'Remove all non running containers',
    details: 'Asks first, as Podman does; `-f` removes them without asking.',
    examples: [['Remove every exited container, after a question', '$0 container prune'], ['Without asking (scripts)', '$0 container prune -f']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<number> {
    const e = await engine();
    const { confirm } = await import('../base.js');
    if (!this.force) {
      process.stdout.write('WARNING! This will remove all non running containers.\n');
      if (!confirm('Are you sure you want to continue?')) return 0;
    }
    const { deleted, errors } = await e.pruneContainers(e.store);
    for (const id of deleted) process.stdout.write(`${id}\n`);
    for (const m of errors) process.stderr.write(`Error: ${m}\n`);
    return errors.length ? 125 : 0;
  }
}

export class TopCommand extends TspodCommand {
  static paths = [['top'], ['container', 'top']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'show the processes of a running container',
    details: 'Lists every process in the container\'s pid namespace, read from /proc (nothing runs inside the container). Descriptors as Podman\'s: user, huser, uid, huid, group, hgroup, pid, hpid, ppid, args, comm, state, etime, time, pcpu, tty, nice, pgid, vsz, stime, seccomp, capeff, capbnd, capprm, capinh, capamb; h* ones show the host\'s ids.',
    examples: [['Processes of a container', '$0 top web'], ['Host users and pids', '$0 top web huser,hpid,args']],
  });

  container = Option.String({ name: 'CONTAINER' });
  descriptors = Option.Rest();

  async run(): Promise<number> {
    const [e, { topRows }, { tabwrite }] = await Promise.all([engine(), import('../../engine/top.js'), import('../template.js')]);
    const rows = await topRows(e.store, e.findContainer(e.store, this.container), this.descriptors);
    process.stdout.write(tabwrite(rows.map((r) => `${r.join('\t')}\n`).join('')));
    return 0;
  }
}

/** pause (freeze) or unpause (thaw) the named, all or latest running containers, printing each */
async function freezeTargets(cmd: { containers: string[]; all: boolean; latest: boolean }, freeze: boolean): Promise<number> {
  const [e, { checkTargetFlags, resolveTargets }] = await Promise.all([engine(), import('./targets.js')]);
  const flags = { names: cmd.containers, all: cmd.all, latest: cmd.latest };
  checkTargetFlags(flags);
  for (const t of await resolveTargets(e.store, flags, { running: true })) { await e.pauseContainer(e.store, t.rec, freeze); process.stdout.write(`${t.shown}\n`); }
  return 0;
}

export class PauseCommand extends TspodCommand {
  static paths = [['pause'], ['container', 'pause']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'freeze the processes of running containers',
    details: 'Needs a freezer cgroup: with rootless containers that means cgroup v2 with delegation; on cgroup v1 tspod says so and exits 125.',
    examples: [['Pause', '$0 pause web'], ['Several', '$0 pause web db']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Pause all running containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  containers = Option.Rest();

  run(): Promise<number> { return freezeTargets(this, true); }
}

export class UnpauseCommand extends TspodCommand {
  static paths = [['unpause'], ['container', 'unpause']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'thaw paused containers',
    examples: [['Unpause', '$0 unpause web'], ['Several', '$0 unpause web db']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Unpause all running containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  containers = Option.Rest();

  run(): Promise<number> { return freezeTargets(this, false); }
}

export class ContainerExistsCommand extends TspodCommand {
  static paths = [['container', 'exists']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'Check if a container exists in local storage',
    details: 'Exits 0 when it does, 1 when it does not; prints nothing.',
    examples: [['In a script', '$0 container exists web || $0 run -d --name web alpine httpd -f']],
  });

  external = Option.Boolean('--external', false, { description: 'Consider external containers too (tspod has none)' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const e = await engine();
    try { e.findContainer(e.store, this.container); return 0; } catch (err) {
      if ((err as { code?: string }).code === 'E_NO_CONTAINER') return 1;
      throw err;
    }
  }
}

export class UpdateCommand extends ResourceFlags {
  static paths = [['update'], ['container', 'update']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'change the resource limits of a container',
    details: 'The limits are kept for the container\'s next starts, and a running container gets them at once where limits apply: as root, or in a delegated cgroup v2 tree. Rootless on cgroup v1 a warning says they are ignored.',
    examples: [['A memory limit', '$0 update --memory 512m web'], ['Two CPUs and 100 processes', '$0 update --cpus 2 --pids-limit 100 web']],
  });

  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const [e, { updateResources }] = await Promise.all([engine(), import('../../engine/confine.js')]);
    const rec = e.findContainer(e.store, this.container);
    await updateResources(e.store, rec, this.resourceFlags(), (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${rec.id}\n`);
    return 0;
  }
}
