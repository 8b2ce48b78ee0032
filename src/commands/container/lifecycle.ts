// Small container commands that find one container and call one engine function.
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

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
  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'prefix each line with its time' });
  tail = Option.String('--tail', { description: 'only the last N lines' });
  since = Option.String('--since', { description: 'only lines since this time: RFC 3339, Unix seconds, or a duration such as 10m' });
  until = Option.String('--until', { description: 'only lines before this time (same forms as --since)' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const e = await engine();
    const rec = e.findContainer(e.store, this.container);
    await e.containerLogs(e.store, rec, { stdout: process.stdout, stderr: process.stderr }, {
      follow: this.follow, timestamps: this.timestamps, tail: this.tail === undefined ? undefined : Number(this.tail),
      since: this.since === undefined ? undefined : e.parseLogTime(this.since), until: this.until === undefined ? undefined : e.parseLogTime(this.until),
    });
    return 0;
  }
}

export class StopCommand extends TspodCommand {
  static paths = [['stop'], ['container', 'stop']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'stop running containers',
    details: 'Sends the image\'s StopSignal (SIGTERM by default), waits, then sends SIGKILL.',
    examples: [['Stop a container', '$0 stop web'], ['Give it 2 seconds', '$0 stop -t 2 web']],
  });

  time = Option.String('-t,--time', '10', { description: 'seconds to wait before SIGKILL' });
  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    for (const c of this.containers) {
      const rec = e.findContainer(e.store, c);
      await e.stopContainer(e.store, rec, Number(this.time));
      process.stdout.write(`${c}\n`);
    }
    return 0;
  }
}

export class WaitCommand extends TspodCommand {
  static paths = [['wait'], ['container', 'wait']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'wait for containers to exit and print their exit codes',
    examples: [['Wait for one', '$0 wait web'], ['Wait for two', '$0 wait job1 job2']],
  });

  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    for (const c of this.containers) {
      const code = await e.waitContainer(e.store, e.findContainer(e.store, c));
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
    description: 'send a signal to running containers',
    examples: [['Kill a container', '$0 kill web'], ['Ask it to reload', '$0 kill -s HUP web']],
  });

  signal = Option.String('-s,--signal', 'KILL', { description: 'signal name or number (default KILL)' });
  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    for (const c of this.containers) {
      await e.killContainer(e.store, e.findContainer(e.store, c), this.signal);
      process.stdout.write(`${c}\n`);
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
  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    const { printReports } = await import('../format.js');
    const reports = this.containers.map((c) => e.inspectContainer(e.store, e.findContainer(e.store, c)));
    printReports(reports, this.format);
    return 0;
  }
}

export class ContainerPruneCommand extends TspodCommand {
  static paths = [['container', 'prune']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'remove all stopped containers',
    examples: [['Remove every exited container', '$0 container prune'], ['Without asking (tspod never asks)', '$0 container prune -f']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'accepted for compatibility; tspod does not prompt' });

  async run(): Promise<number> {
    const e = await engine();
    for (const rec of (await e.listContainers(e.store, { all: true })).filter((c) => c.state !== 'running')) {
      await e.removeContainer(e.store, rec);
      process.stdout.write(`${rec.id}\n`);
    }
    return 0;
  }
}

export class TopCommand extends TspodCommand {
  static paths = [['top'], ['container', 'top']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'show the processes of a running container',
    details: 'Lists every process in the container\'s pid namespace, with pids as the host sees them.',
    examples: [['Processes of a container', '$0 top web'], ['By id prefix', '$0 top 4bce1d']],
  });

  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const e = await engine();
    const { table } = await import('../format.js');
    const procs = await e.containerProcesses(e.store, e.findContainer(e.store, this.container));
    process.stdout.write(table(['PID', 'PPID', 'UID', 'STATE', 'COMMAND'], procs.map((p) => [String(p.pid), String(p.ppid), String(p.uid), p.state, p.command])));
    return 0;
  }
}

export class PauseCommand extends TspodCommand {
  static paths = [['pause'], ['container', 'pause']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'freeze the processes of running containers',
    details: 'Needs a freezer cgroup: with rootless containers that means cgroup v2 with delegation; on cgroup v1 tspod says so and exits 125.',
    examples: [['Pause', '$0 pause web'], ['Several', '$0 pause web db']],
  });

  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    for (const c of this.containers) { await e.pauseContainer(e.store, e.findContainer(e.store, c), true); process.stdout.write(`${c}\n`); }
    return 0;
  }
}

export class UnpauseCommand extends TspodCommand {
  static paths = [['unpause'], ['container', 'unpause']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'thaw paused containers',
    examples: [['Unpause', '$0 unpause web'], ['Several', '$0 unpause web db']],
  });

  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    for (const c of this.containers) { await e.pauseContainer(e.store, e.findContainer(e.store, c), false); process.stdout.write(`${c}\n`); }
    return 0;
  }
}
