import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class VersionCommand extends TspodCommand {
  static paths = [['version']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'Display the tspod version information',
    examples: [['Show the version', '$0 version'], ['As JSON', '$0 version --format json'], ['One field', "$0 version --format '{{.Client.Version}}'"]],
  });

  format = Option.String('-f,--format', { description: 'Change the output format to JSON or a Go template' });

  async run(): Promise<number> {
    const { versionReport } = await import('../../engine/info.js');
    const v = versionReport();
    // Both halves are this binary: tspod has no server (Podman reports itself as both, locally).
    const report = { Client: v, Server: v };
    if (this.format === 'json' || this.format === '{{json .}}') {
      const { goJson } = await import('../template.js');
      process.stdout.write(`${goJson(report, '    ')}\n`);
    } else if (this.format) {
      const { printReports } = await import('../report.js');
      printReports([report], this.format, 'version');
    } else {
      process.stdout.write(`Version:      ${v.Version}\nAPI Version:  ${v.APIVersion}\nNode Version: ${v.NodeVersion}\nBuilt:        ${v.BuiltTime}\nOS/Arch:      ${v.OsArch}\n`);
    }
    return 0;
  }
}
