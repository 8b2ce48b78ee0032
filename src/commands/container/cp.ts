import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class CpCommand extends TspodCommand {
  static paths = [['cp'], ['container', 'cp']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'copy files between a container and the host',
    details: `
      SRC and DEST are host paths or CONTAINER:PATH, for created, running and exited containers. Into an existing directory a copy nests under its own name; \`SRC/.\` copies a directory's contents; \`-\` reads a tar from stdin or writes one to stdout. Paths inside the container resolve as the container sees them, never through a symlink out of its root. Files copied in belong to the container's user (\`-a=false\`: as they were); files copied out belong to you.
    `,
    examples: [
      ['Copy a file in', '$0 cp ./app.conf web:/etc/app.conf'],
      ['Copy a directory out', '$0 cp web:/var/log/app ./logs'],
      ['Stream a tar out', '$0 cp web:/srv - | tar -t'],
    ],
  });

  archive = Option.String('-a,--archive', { tolerateBoolean: true, description: 'chown copied files to the container\'s user (default true)' });
  overwrite = Option.Boolean('--overwrite', false, { description: 'allow a directory to replace a file and the other way round' });
  pause = Option.String('--pause', { tolerateBoolean: true, description: 'accepted for Podman\'s sake: tspod does not pause for a copy' });
  src = Option.String({ name: 'SRC' });
  dest = Option.String({ name: 'DEST' });

  async run(): Promise<number> {
    const [{ copy }, { Store }] = await Promise.all([import('../../engine/cp.js'), import('../../storage/store.js')]);
    await copy(new Store(), this.src, this.dest, { archive: this.archive === undefined ? true : !['false', '0'].includes(String(this.archive)), overwrite: this.overwrite });
    return 0;
  }
}
