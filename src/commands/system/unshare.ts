import os from 'node:os';
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class UnshareCommand extends TspodCommand {
  static paths = [['unshare']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'Run a command in a modified user namespace',
    details: 'Runs the command (your $SHELL when none is given) inside tspod\'s user and mount namespace, where you are root and your subordinate ids are mapped: the owners that containers see. CONTAINERS_GRAPHROOT and CONTAINERS_RUNROOT name tspod\'s store and run directory, as Podman sets them.',
    examples: [['Fix the owner of a bind-mount source as a container sees it', '$0 unshare chown -R 1000:1000 ./data'], ['A shell', '$0 unshare']],
  });

  command = Option.Proxy();

  async run(): Promise<number> {
    const [{ startProcess }, { storeDir, runtimeDir }] = await Promise.all([import('../../sys/spawn.js'), import('../../paths.js')]);
    const [file, ...args] = this.command.length ? this.command : [process.env.SHELL || '/bin/sh'];
    const child = startProcess(file, args, { stdio: ['inherit', 'inherit', 'inherit'], env: { ...process.env, CONTAINERS_GRAPHROOT: storeDir(), CONTAINERS_RUNROOT: runtimeDir() } });
    const { code, signal } = await child.exited;
    return signal ? 128 + (os.constants.signals[signal] ?? 0) : code ?? 125;
  }
}
