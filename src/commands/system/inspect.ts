import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { TspodError, UsageError } from '../../errors.js';

export class InspectCommand extends TspodCommand {
  static paths = [['inspect']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'show the details of containers or images, Docker-shaped',
    details: 'Each name is looked up as a container first, then as an image, unless --type says which.',
    examples: [['A container\'s state', "$0 inspect --format '{{.State.Status}}' web"], ['An image', '$0 inspect --type image alpine']],
  });

  format = Option.String('-f,--format', { description: 'json (default), or a Go template such as {{.Id}} or {{json .Config}}' });
  type = Option.String('-t,--type', 'all', { description: 'container, image, or all' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  size = Option.Boolean('-s,--size', false, { description: 'Display total file size (SizeRw and SizeRootFs of containers)' });
  names = Option.Rest({ name: 'NAME' });

  async run(): Promise<number> {
    if (!['all', 'container', 'image'].includes(this.type)) throw new UsageError(`--type takes container, image or all, not "${this.type}"`);
    const [{ findContainer }, { inspectContainer }, { inspectImage }, { Store }, { printReports }] = await Promise.all([
      import('../../engine/containers.js'), import('../../engine/lifecycle.js'), import('../../engine/images.js'), import('../../storage/store.js'), import('../report.js')]);
    const store = new Store();
    const reports: object[] = [];
    const { checkTargetFlags, resolveTargets } = await import('../container/targets.js');
    checkTargetFlags({ names: this.names, latest: this.latest });
    if (this.latest) for (const t of await resolveTargets(store, { names: [], latest: true })) reports.push(inspectContainer(store, t.rec, { size: this.size }));
    for (const name of this.names) {
      if (this.type !== 'image') {
        try { reports.push(inspectContainer(store, findContainer(store, name), { size: this.size })); continue; } catch (e) {
          if (this.type === 'container' || !(e instanceof TspodError) || e.code !== 'E_NO_CONTAINER') throw e;
        }
      }
      try { reports.push(await inspectImage(store, name)); } catch (e) {
        if (this.type === 'all' && e instanceof TspodError) throw new TspodError('E_NO_OBJECT', `inspecting object: no such object: "${name}"`, { hint: 'see `tspod ps -a` and `tspod images`' });
        throw e;
      }
    }
    printReports(reports, this.format);
    return 0;
  }
}
