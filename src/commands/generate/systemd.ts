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

  name = Option.Boolean('-n,--name', false, { description: 'Use the container\'s name instead of its id' });
  isNew = Option.Boolean('--new', false, { description: 'Create a new container at each start, and remove it at stop' });
  files = Option.Boolean('-f,--files', false, { description: 'Write the unit to NAME.service in the current directory, and print its path' });
  restartPolicy = Option.String('--restart-policy', { description: 'The unit\'s Restart= (default on-failure)' });
  time = Option.String('-t,--time', { description: 'Stop timeout (seconds) for the container' });
  containerPrefix = Option.String('--container-prefix', { description: 'The unit name\'s prefix (default container)' });
  separator = Option.String('--separator', { description: 'Between prefix and name (default -)' });
  noHeader = Option.Boolean('--no-header', false, { description: 'No comment header' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const [{ Store }, { findContainer }, { generateContainerUnit }, { UsageError }] = await Promise.all([
      import('../../storage/store.js'), import('../../engine/containers.js'), import('../../engine/systemd.js'), import('../../errors.js')]);
    const store = new Store();
    const stopTimeout = this.time === undefined ? undefined : Number(this.time);
    if (stopTimeout !== undefined && (!Number.isInteger(stopTimeout) || stopTimeout < 0)) throw new UsageError(`invalid argument "${this.time}" for "-t, --time" flag: it takes a whole number of seconds`);
    const unit = generateContainerUnit(store, findContainer(store, this.container), {
      useName: this.name, new: this.isNew, restartPolicy: this.restartPolicy, stopTimeout, containerPrefix: this.containerPrefix, separator: this.separator, noHeader: this.noHeader,
      executable: process.env.TSPOD_LAUNCHER ?? 'tspod', onWarning: (m) => process.stderr.write(`${m}\n`),
    });
    if (!this.files) { process.stdout.write(unit.text); return 0; }
    const file = path.resolve(unit.name);
    fs.writeFileSync(file, unit.text);
    process.stdout.write(`${file}\n`);
    return 0;
  }
}
