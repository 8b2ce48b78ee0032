import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

/** Go field names where Podman's differ from its JSON keys with the first letter raised. */
const GO_NAMES: Record<string, string> = {
  cgroupVersion: 'CgroupsVersion', cpus: 'CPUs', cpuUtilization: 'CPUUtilization', idMappings: 'IDMappings', gidmap: 'GIDMap', uidmap: 'UIDMap',
  ociRuntime: 'OCIRuntime', os: 'OS', slirp4netns: 'Slirp4NetNS', capabilities: 'DefaultCapabilities', seccompEnabled: 'SECCOMPEnabled',
  seccompProfilePath: 'SECCOMPProfilePath', selinuxEnabled: 'SELinuxEnabled', apparmorEnabled: 'AppArmorEnabled', container_id: 'ContainerID', host_id: 'HostID',
};
const GO_TYPES: Record<string, string> = { '': '*define.Info', host: '*define.HostInfo', store: '*define.StoreInfo', version: 'define.Version', plugins: 'define.Plugins' };

/** The report as Podman's templates see it: Go field names; maps (registries, graphStatus) stay maps. */
async function goView(report: unknown) {
  const { goMap, goType } = await import('../template.js');
  const MAPS = new Set(['registries', 'graphOptions', 'graphStatus']);
  const view = (v: unknown, key: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => view(x, ''));
    if (!v || typeof v !== 'object') return v;
    if (MAPS.has(key)) return goMap({ ...(v as object) });
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[GO_NAMES[k] ?? k[0].toUpperCase() + k.slice(1)] = view(x, k);
    return GO_TYPES[key] ? goType(out, GO_TYPES[key]) : out;
  };
  return view(report, '');
}

/** YAML as Podman's info prints it (go-yaml over its JSON): keys sorted, two-space indent, lists at the parent's indent, strings quoted only when they must be. */
export function yaml(v: unknown, indent = ''): string {
  const scalar = (x: unknown, at: string): string => {
    if (x === null || x === undefined) return 'null';
    if (typeof x !== 'string') return String(x);
    if (x.includes('\n')) return `|-\n${x.split('\n').map((l) => `${at}  ${l}`).join('\n')}`;
    if (x === '' || /^(true|false|null|yes|no|on|off|~|[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)$/i.test(x)) return `"${x}"`;
    return /: |:$|^[-?:,[\]{}#&*!|>'"%@`]| #|\s$/.test(x) ? `'${x.replace(/'/g, "''")}'` : x;
  };
  const block = (x: unknown, at: string): string => {
    if (Array.isArray(x)) {
      if (x.length === 0) return ' []\n';
      return `\n${x.map((e) => (e && typeof e === 'object' && !Array.isArray(e) ? `${at}- ${block(e, `${at}  `).replace(/^\n\s*/, '')}` : `${at}- ${scalar(e, at)}\n`)).join('')}`;
    }
    if (x && typeof x === 'object') {
      const keys = Object.keys(x).filter((k) => (x as Record<string, unknown>)[k] !== undefined).sort();
      if (keys.length === 0) return ' {}\n';
      return `\n${keys.map((k) => {
        const e = (x as Record<string, unknown>)[k];
        const key = `${at}${scalar(k, at)}:`;
        if (Array.isArray(e)) return `${key}${block(e, at)}`;
        if (e && typeof e === 'object') return `${key}${block(e, `${at}  `)}`;
        return `${key} ${scalar(e, at)}\n`;
      }).join('')}`;
    }
    return ` ${scalar(x, at)}\n`;
  };
  return block(v, indent).replace(/^\n/, '');
}

export class InfoCommand extends TspodCommand {
  static paths = [['info'], ['system', 'info']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'Display tspod related system information',
    details: 'The host (runtime, conmon, id mappings, cgroups, network helper), the store (paths, driver, counts) and the registries, in the shape of Podman\'s info.',
    examples: [['Show everything', '$0 info'], ['One field', "$0 info --format '{{.Host.OCIRuntime.Name}}'"], ['As JSON', '$0 info --format json']],
  });

  format = Option.String('-f,--format', { description: 'Change the output format to JSON or a Go template' });
  debug = Option.Boolean('-D,--debug', false, { description: 'Display additional debug information (none: accepted for scripts)' });

  async run(): Promise<number> {
    const [{ info }, { Store }] = await Promise.all([import('../../engine/info.js'), import('../../storage/store.js')]);
    // info answers even for a driver tspod cannot store with: it reports what was asked for.
    const report = await info(new Store());
    if (this.format === 'json' || this.format === '{{json .}}') {
      const { goJson } = await import('../template.js');
      process.stdout.write(`${goJson(report, '    ')}\n`);
    } else if (this.format === '') {
      // An empty template renders nothing.
    } else if (this.format !== undefined) {
      const { printReports } = await import('../report.js');
      printReports([(await goView(report)) as object], this.format, 'info');
    } else process.stdout.write(yaml(report));
    return 0;
  }
}
