// quadlet: the systemd user generator for Quadlet files (bin/tspod-user-generator runs it), or
// with --dryrun the units it would write.
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class QuadletCommand extends TspodCommand {
  static paths = [['quadlet']];
  static usage = TspodCommand.Usage({
    category: 'Systemd',
    description: 'turn Quadlet files (.container, .volume, .network, .kube, .pod, .image) into systemd units',
    details: `
      Reads ~/.config/containers/systemd/ (then /etc/containers/systemd/users/UID/ and /etc/containers/systemd/users/), and writes a unit for each file into NORMAL_DIR, as systemd runs a generator: foo.container becomes foo.service, foo.volume foo-volume.service, foo.network foo-network.service, foo.kube foo.service, foo.pod foo-pod.service, foo.image foo-image.service. An [Install] section becomes the .wants links. A file with an unknown key is reported and skipped.

      systemd runs user generators only from system directories: install it once with \`sudo ln -s $TSPOD/bin/tspod-user-generator /etc/systemd/user-generators/\`, then \`systemctl --user daemon-reload\`.
    `,
    examples: [['What the generator would write', '$0 quadlet --dryrun'], ['As systemd runs it', '$0 quadlet --user /run/user/1000/systemd/generator']],
  });

  dryrun = Option.Boolean('--dryrun', false, { description: 'Print the units instead of writing them' });
  user = Option.Boolean('--user', false, { description: 'Generate for a user manager (the default when not root)' });
  dirs = Option.Rest({ name: 'OUTPUT_DIR' });

  async run(): Promise<number> {
    const { quadletDirs, readQuadletSources, generateQuadlet, writeQuadletUnits } = await import('../../engine/quadlet.js');
    const { UsageError } = await import('../../errors.js');
    if (!this.dryrun && !this.dirs.length) throw new UsageError('give the output directory (systemd passes three: NORMAL EARLY LATE), or --dryrun');
    const read = readQuadletSources(quadletDirs());
    const { launcher } = await import('../../engine/containers.js');
    const { units, errors } = generateQuadlet(read.sources, { executable: process.env.TSPOD_LAUNCHER ?? launcher() });
    for (const e of [...read.errors, ...errors]) process.stderr.write(`tspod quadlet: ${e}\n`);
    if (this.dryrun) process.stdout.write(units.map((u) => `---${u.name}---\n${u.text}\n`).join(''));
    else writeQuadletUnits(this.dirs[0], units);
    return read.errors.length || errors.length ? 1 : 0;
  }
}
