// generate systemd: units for containers, printed or written with --files.
import fs from 'node:fs';
import path from 'node:path';
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class GenerateSystemdCommand extends TspodCommand {
  static paths = [['generate', 'systemd']];
  static usage = TspodCommand.Usage({
    category: 'Generate',
    description: 'write a systemd user unit that runs a container',
    details: 'Without --new the unit starts and stops this container; with --new it creates the container again at each start, from the command line that created it, and removes it when it stops. Put the file in ~/.config/systemd/user/ and `systemctl --user enable --now NAME`.',
    examples: [['Print a unit', '$0 generate systemd --new --name web'], ['Write it', '$0 generate systemd --new --name --files web']],
  });

  name = Option.Boolean('-n,--name', false, { description: 'Use the container\'s (or pod\'s) name instead of its id' });
  isNew = Option.String('--new', { tolerateBoolean: true, description: 'Create a new container (or pod) at each start, and remove it at stop' });
  files = Option.Boolean('-f,--files', false, { description: 'Write the units to NAME.service in the current directory, and print their paths' });
  restartPolicy = Option.String('--restart-policy', { description: 'The unit\'s Restart= (default on-failure)' });
  time = Option.String('-t,--time', { description: 'Stop timeout (seconds) for the container' });
  containerPrefix = Option.String('--container-prefix', { description: 'The unit name\'s prefix (default container)' });
  podPrefix = Option.String('--pod-prefix', { description: 'The pod unit name\'s prefix (default pod)' });
  separator = Option.String('--separator', { description: 'Between prefix and name (default -)' });
  noHeader = Option.Boolean('--no-header', false, { description: 'No comment header' });
  env = Option.Array('-e,--env', [], { description: 'KEY=VALUE: an Environment= line of the units' });
  template = Option.Boolean('--template', false, { description: 'A template unit (NAME@.service), a container per instance; implies --new' });
  wants = Option.Array('--wants', [], { description: 'Add Wants= to the units' });
  after = Option.Array('--after', [], { description: 'Add After= to the units' });
  requires = Option.Array('--requires', [], { description: 'Add Requires= to the units' });
  target = Option.String({ name: 'CONTAINER|POD' });

  async run(): Promise<number> {
    const [{ Store }, { findContainer }, { generateContainerUnit, generatePodUnits }, { UsageError }, pods] = await Promise.all([
      import('../../storage/store.js'), import('../../engine/containers.js'), import('../../engine/systemd.js'), import('../../errors.js'), import('../../engine/pods.js')]);
    const store = new Store();
    const stopTimeout = this.time === undefined ? undefined : Number(this.time);
    if (stopTimeout !== undefined && (!Number.isInteger(stopTimeout) || stopTimeout < 0)) throw new UsageError(`invalid argument "${this.time}" for "-t, --time" flag: it takes a whole number of seconds`);
    // --template makes the unit --new, unless --new=false says otherwise (which it refuses).
    const isNew = this.isNew === undefined ? this.template : this.isNew === true || this.isNew === 'true';
    const o = {
      useName: this.name, new: isNew, restartPolicy: this.restartPolicy, stopTimeout, containerPrefix: this.containerPrefix, podPrefix: this.podPrefix, separator: this.separator, noHeader: this.noHeader,
      env: this.env, template: this.template, wants: this.wants, after: this.after, requires: this.requires,
      executable: process.env.TSPOD_LAUNCHER ?? 'tspod', onWarning: (m: string) => process.stderr.write(`${m}\n`),
    };
    const pod = pods.lookupPod(store, this.target);
    const units = pod
      ? generatePodUnits(store, pod, pods.podMembers(store, pod).filter((c) => c.id !== pod.infraId), o)
      : [generateContainerUnit(store, findContainer(store, this.target), o)];
    if (!this.files) { process.stdout.write(units.map((u) => u.text).join('\n')); return 0; }
    for (const u of units) {
      const file = path.resolve(u.name);
      fs.writeFileSync(file, u.text);
      process.stdout.write(`${file}\n`);
    }
    return 0;
  }
}
