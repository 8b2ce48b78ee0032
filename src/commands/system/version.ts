import fs from 'node:fs';
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class VersionCommand extends TspodCommand {
  static paths = [['version']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'show the tspod version',
    examples: [['Show the version', '$0 version'], ['As JSON', '$0 version --format json']],
  });

  format = Option.String('--format', { description: 'json' });

  async run(): Promise<number> {
    const { packageVersion } = await import('../../paths.js');
    const info = { Version: packageVersion(), NodeVersion: process.version, OsArch: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}` };
    if (this.format === 'json') process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    else process.stdout.write(`Version:      ${info.Version}\nNode Version: ${info.NodeVersion}\nOS/Arch:      ${info.OsArch}\n`);
    return 0;
  }
}
