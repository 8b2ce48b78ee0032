// start, restart and attach: bringing a created or exited container back, and joining a detached one.
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

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

  attach = Option.Boolean('-a,--attach', false, { description: 'stay attached to the output, and exit with the container\'s code' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'with -a: pass stdin to the container' });
  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const [e, { startContainer }] = await Promise.all([engine(), import('../../engine/start.js')]);
    if (this.attach) return (await startContainer(e.store, e.findContainer(e.store, this.containers[0]), { attach: true, interactive: this.interactive })) ?? 0;
    for (const c of this.containers) {
      await startContainer(e.store, e.findContainer(e.store, c), { attach: false });
      process.stdout.write(`${c}\n`);
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

  time = Option.String('-t,--time', '10', { description: 'seconds to wait before SIGKILL' });
  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const [e, { restartContainer }] = await Promise.all([engine(), import('../../engine/lifecycle.js')]);
    for (const c of this.containers) {
      await restartContainer(e.store, e.findContainer(e.store, c), Number(this.time));
      process.stdout.write(`${c}\n`);
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
