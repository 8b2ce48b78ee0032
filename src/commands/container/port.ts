import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { TspodError, UsageError } from '../../errors.js';

export class PortCommand extends TspodCommand {
  static paths = [['port'], ['container', 'port']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'List port mappings or a specific mapping for the container',
    details: 'Each published port as CONTAINER_PORT/PROTO -> HOST_IP:HOST_PORT; given a port, only where it is published.',
    examples: [['Every published port', '$0 port web'], ['Where port 80 is published', '$0 port web 80'], ['Of every running container', '$0 port -a']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Display port information for all containers' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  args = Option.Rest({ name: 'CONTAINER [PORT]' });

  async run(): Promise<number> {
    const [{ checkTargetFlags, resolveTargets }, { portLines }, { Store }] = await Promise.all([import('./targets.js'), import('../../engine/ports.js'), import('../../storage/store.js')]);
    const byFlag = this.all || this.latest;
    if (this.args.length > (byFlag ? 1 : 2)) throw new UsageError(`\`tspod port\` takes a container and at most one port${byFlag ? ' (none with --all or --latest)' : ''}`);
    if (!byFlag && !this.args.length) throw new UsageError('you must supply a running container name or id');
    const names = byFlag ? [] : this.args.slice(0, 1);
    const only = byFlag ? this.args[0] : this.args[1];
    if (only !== undefined && !/^\d+(\/(tcp|udp))?$/i.test(only)) throw new UsageError(`invalid port "${only}": give PORT or PORT/PROTO, e.g. 80/tcp`);
    checkTargetFlags({ names, all: this.all, latest: this.latest });
    const targets = await resolveTargets(new Store(), { names, all: this.all, latest: this.latest }, { running: this.all });
    let out = '';
    for (const { rec } of targets) {
      const lines = portLines(rec.config?.ports, only);
      if (only !== undefined && !lines.length && !this.all) throw new TspodError('E_NO_PORT', `failed to find published port "${only}"`);
      out += lines.map((l) => `${this.all ? `${rec.id.slice(0, 12)}\t` : ''}${l}\n`).join('');
    }
    process.stdout.write(out);
    return 0;
  }
}
