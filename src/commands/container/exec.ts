import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class ExecCommand extends TspodCommand {
  static paths = [['exec'], ['container', 'exec']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'run a command in a running container',
    details: 'The command joins the container\'s namespaces through the runtime\'s exec, with the container\'s environment, user and working directory unless overridden. Its exit status is tspod\'s; 126 and 127 as for run.',
    examples: [
      ['A shell in a running container', '$0 exec -it web sh'],
      ['As another user, elsewhere, with a variable', '$0 exec -u nobody -w /tmp -e MODE=check web env'],
    ],
  });

  interactive = Option.Boolean('-i,--interactive', false, { description: 'keep stdin open' });
  tty = Option.Boolean('-t,--tty', false, { description: 'allocate a pseudo-terminal' });
  detach = Option.Boolean('-d,--detach', false, { description: 'run the command in the background' });
  env = Option.Array('-e,--env', [], { description: 'set environment variables' });
  workdir = Option.String('-w,--workdir', { description: 'working directory for the command' });
  user = Option.String('-u,--user', { description: 'USER[:GROUP], by name or id' });
  privileged = Option.Boolean('--privileged', false, { description: 'give the command every capability' });
  container = Option.String({ name: 'CONTAINER' });
  command = Option.Proxy();

  async run(): Promise<number> {
    const [{ findContainer }, { execInContainer }, { Store }] = await Promise.all([import('../../engine/containers.js'), import('../../engine/exec.js'), import('../../storage/store.js')]);
    const store = new Store();
    return execInContainer(store, findContainer(store, this.container), {
      command: this.command, interactive: this.interactive, tty: this.tty, detach: this.detach, env: this.env,
      workdir: this.workdir, user: this.user, privileged: this.privileged,
    });
  }
}
