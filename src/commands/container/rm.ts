import { Option } from '../kit.js';
import { TspodCommand, reportError } from '../base.js';
import { UsageError } from '../../errors.js';

export class RmCommand extends TspodCommand {
  static paths = [['rm'], ['container', 'rm']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'remove containers',
    details: 'Removes the container\'s files (upper layer, logs, state) and frees its name; `-v` also removes its anonymous volumes. A running container needs `-f`, which kills it first. Containers are named by name, id, or a unique id prefix of at least 3 characters.',
    examples: [
      ['Remove a container by name', '$0 rm web'],
      ['Remove every container, running or not', '$0 rm -af'],
    ],
  });

  force = Option.Boolean('-f,--force', false, { description: 'kill running containers first' });
  all = Option.Boolean('-a,--all', false, { description: 'remove all containers' });
  volumes = Option.Boolean('-v,--volumes', false, { description: 'also remove the containers\' anonymous volumes' });
  containers = Option.Rest();

  async run(): Promise<number> {
    if (!this.all && this.containers.length === 0) throw new UsageError('name at least one container, or use --all', 'see `tspod ps -a`');
    const [{ findContainer, listContainers }, { removeContainer }, { Store }] = await Promise.all([import('../../engine/containers.js'), import('../../engine/lifecycle.js'), import('../../storage/store.js')]);
    const store = new Store();
    // Listing sweeps what killed creates and starts left (damaged records too): rm -a does it
    // always; rm NAME only when NAME is not found, as it may name what such a sweep frees.
    const sweep = () => listContainers(store, { all: true, removeDamaged: true, onWarning: (m) => process.stderr.write(`Warning: ${m}\n`) });
    const targets = this.all ? await sweep() : [];
    for (const c of this.all ? [] : this.containers) {
      try { targets.push(findContainer(store, c)); } catch {
        await sweep();
        store.withLock(() => store.sweepNames());
        targets.push(findContainer(store, c));
      }
    }
    let failed = 0;
    for (const rec of targets) {
      try {
        await removeContainer(store, rec, { force: this.force, volumes: this.volumes });
        process.stdout.write(`${rec.id}\n`);
      } catch (e) {
        // As Podman: report each failure, remove the rest, exit non-zero.
        failed++;
        reportError(e);
      }
    }
    // Staging of killed pulls and removals goes too (their processes are gone, or it is kept).
    store.withLock(() => {
      store.sweep({ layers: false });
      if (this.all) store.sweepNames();
    });
    return failed ? 125 : 0;
  }
}
