// start, restart and attach: bringing a created or exited container back, and joining a detached one.
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { UsageError, TspodError } from '../../errors.js';

async function engine() {
  const [containers, { Store }] = await Promise.all([import('../../engine/containers.js'), import('../../storage/store.js')]);
  return { findContainer: containers.findContainer, store: new Store() };
}

export class StartCommand extends TspodCommand {
  static paths = [['start'], ['container', 'start']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'start created or exited containers',
    details: 'Without `-a` the container is handed to conmon and tspod returns at once. With `-a` tspod watches it in the foreground, passes its output (and with `-i` your input) through, and exits with its exit code.',
    examples: [['Start in the background', '$0 start web'], ['Start attached, with input', '$0 start -ai box']],
  });

  all = Option.Boolean('--all', false, { description: 'Start all containers regardless of their state or configuration' });
  attach = Option.Boolean('-a,--attach', false, { description: 'Attach container\'s STDOUT and STDERR, and exit with its code' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions given' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Make STDIN available to the contained process (with -a)' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  sigProxy = Option.Boolean('--sig-proxy', true, { description: 'Proxy received signals to the process (with -a; tspod always does)' });
  containers = Option.Rest();

  async run(): Promise<number> {
    const [e, { startContainer }, { checkTargetFlags, resolveTargets }] = await Promise.all([engine(), import('../../engine/start.js'), import('./targets.js')]);
    if (this.all && this.containers.length) throw new UsageError('either start all containers or the container(s) provided in the arguments');
    if (this.attach && (this.all || this.containers.length > 1)) throw new UsageError('you cannot start and attach multiple containers at once');
    const flags = { names: this.containers, all: this.all, latest: this.latest, filter: this.filter };
    checkTargetFlags(flags);
    const targets = await resolveTargets(e.store, flags);
    if (this.attach) return targets.length ? (await startContainer(e.store, targets[0].rec, { attach: true, interactive: this.interactive })) ?? 0 : 0;
    for (const t of targets) {
      // --all starts what is not running, and leaves running containers alone.
      if (this.all && (t.rec.state === 'running' || t.rec.state === 'restarting')) continue;
      // 126 and 127 are a container's statuses: a start that fails is tspod's failure (125), as Podman's.
      try { await startContainer(e.store, t.rec, { attach: false }); } catch (err) {
        if (err instanceof TspodError && err.exitCode !== 125) throw new TspodError(err.code, err.message, { hint: err.hint });
        throw err;
      }
      process.stdout.write(`${t.shown}\n`);
    }
    return 0;
  }
}

export class RestartCommand extends TspodCommand {
  static paths = [['restart'], ['container', 'restart']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'stop containers, then start them again in the background',
    examples: [['Restart', '$0 restart web'], ['Give it 2 seconds to stop', '$0 restart -t 2 web']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Restart all non-running containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  running = Option.Boolean('--running', false, { description: 'Restart only running containers when --all is used' });
  time = Option.String('-t,--time', '10', { description: 'Seconds to wait for stop before killing the container' });
  containers = Option.Rest();

  async run(): Promise<number> {
    const [e, { restartContainer }, { checkTargetFlags, resolveTargets }] = await Promise.all([engine(), import('../../engine/lifecycle.js'), import('./targets.js')]);
    const flags = { names: this.containers, all: this.all, latest: this.latest };
    checkTargetFlags(flags);
    for (const t of await resolveTargets(e.store, flags, { running: this.running })) {
      await restartContainer(e.store, t.rec, Number(this.time));
      process.stdout.write(`${t.shown}\n`);
    }
    return 0;
  }
}

export class AttachCommand extends TspodCommand {
  static paths = [['attach'], ['container', 'attach']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'attach to a running detached container\'s console',
    details: 'Shows its output from now on and, if it was started with -i, sends your input. Ctrl-P Ctrl-Q detaches from a terminal container and leaves it running. Exits with the container\'s code when it ends.',
    examples: [['Attach to a shell started with run -dit', '$0 attach box'], ['Watch only, no input', '$0 attach --no-stdin web']],
  });

  noStdin = Option.Boolean('--no-stdin', false, { description: 'do not send stdin' });
  sigProxy = Option.Boolean('--sig-proxy', true, { description: 'pass received signals on to the container (default; not with a terminal)' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const [e, { attachContainer }] = await Promise.all([engine(), import('../../engine/attach.js')]);
    const rec = e.findContainer(e.store, this.container);
    const code = await attachContainer(e.store, rec, { stdin: !this.noStdin && !!rec.config?.interactive, sigProxy: this.sigProxy, out: { stdout: process.stdout, stderr: process.stderr } });
    return code ?? 0;
  }
}
