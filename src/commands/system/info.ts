import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { renderTemplate } from '../format.js';

export class InfoCommand extends TspodCommand {
  static paths = [['info'], ['system', 'info']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'show how tspod is set up on this machine',
    details: 'Store and runtime paths, the OCI runtime found, the uid/gid mapping of your user namespace, the overlay mode, the cgroup version and the default network mode.',
    examples: [['Show everything', '$0 info'], ['One field', "$0 info --format '{{.Host.OciRuntime.Name}}'"]],
  });

  format = Option.String('-f,--format', { description: 'json, or a Go template' });

  async run(): Promise<number> {
    const [{ info }, { Store }] = await Promise.all([import('../../engine/info.js'), import('../../storage/store.js')]);
    const report = await info(new Store());
    if (this.format === 'json') { process.stdout.write(JSON.stringify(report, null, 2) + '\n'); return 0; }
    if (this.format) {
      const cap = (o: unknown): unknown => (o && typeof o === 'object' && !Array.isArray(o)) ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k[0].toUpperCase() + k.slice(1), cap(v)])) : o;
      process.stdout.write(renderTemplate(this.format, cap(report)) + '\n');
      return 0;
    }
    const h = report.host, s = report.store;
    process.stdout.write([
      'host:',
      `  rootless: ${h.rootless}`,
      `  uid: ${h.uid}`,
      `  uidMap: ${h.uidMap.join(', ')}`,
      `  gidMap: ${h.gidMap.join(', ')}`,
      `  kernel: ${h.kernel}`,
      `  cgroupVersion: ${h.cgroupVersion}${h.cgroupVersion === 'v1' && h.rootless ? ' (resource limits are ignored: rootless cgroup v1 cannot delegate)' : ''}`,
      `  ociRuntime: ${h.ociRuntime ? `${h.ociRuntime.name} (${h.ociRuntime.path}) ${h.ociRuntime.version}` : 'none found: install runc'}`,
      `  networkMode: ${h.networkMode}`,
      'store:',
      `  graphRoot: ${s.graphRoot}`,
      `  runRoot: ${s.runRoot}`,
      `  configDir: ${s.configDir}`,
      `  graphDriver: ${s.graphDriver} (${s.overlayOptions})`,
      `  images: ${s.imageCount}`,
      `  containers: ${s.containerCount}`,
    ].join('\n') + '\n');
    return 0;
  }
}
