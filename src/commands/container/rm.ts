import { Option } from '../kit.js';
import { TspodCommand, reportError } from '../base.js';
import { UsageError, TspodError } from '../../errors.js';

export class RmCommand extends TspodCommand {
  static paths = [['rm'], ['container', 'rm']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'Remove one or more containers',
    details: 'Removes the container\'s files (upper layer, logs, state) and frees its name; `-v` also removes its anonymous volumes. A running container needs `-f`, which stops it first (SIGKILL after `-t` seconds). Exit status as Podman\'s: 1 when a container was not found, 2 when one is running, 125 for other errors.',
    examples: [
      ['Remove a container by name', '$0 rm web'],
      ['Remove every container, running or not, at once', '$0 rm -t 0 -af'],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all containers' });
  depend = Option.Boolean('--depend', false, { description: 'Remove container and all containers that depend on it (--network container:)' });
  force = Option.Boolean('-f,--force', false, { description: 'Force removal of a running or unusable container' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors when a specified container is missing' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  time = Option.String('-t,--time', { description: 'Seconds to wait for stop before killing the container (default 10)' });
  volumes = Option.Boolean('-v,--volumes', false, { description: 'Remove anonymous volumes associated with the container' });
  cidfile = Option.Array('--cidfile', [], { description: 'Read the container ID from the file' });
  containers = Option.Rest();

  async run(): Promise<number> {
    const { checkTargetFlags, resolveTargets, idsFromCidFiles } = await import('./targets.js');
    const fromFiles = idsFromCidFiles(this.cidfile, this.ignore);
    if (this.cidfile.length && !fromFiles.length && !this.containers.length) return 0;
    this.containers = [...this.containers, ...fromFiles];
    checkTargetFlags({ names: this.containers, all: this.all, latest: this.latest });
    const timeout = this.time === undefined ? 10 : Number(this.time);
    if (!Number.isInteger(timeout) || timeout < 0) throw new UsageError(`invalid argument "${this.time}" for "-t, --time" flag: it takes a whole number of seconds`);
    const [{ listContainers }, { removeWithDependents }, { Store }] = await Promise.all([import('../../engine/containers.js'), import('../../engine/lifecycle.js'), import('../../storage/store.js')]);
    const store = new Store();
    // Listing sweeps what killed creates and starts left (damaged records too): rm -a does it
    // always; rm NAME only when NAME is not found, as it may name what such a sweep frees.
    const sweep = () => listContainers(store, { all: true, removeDamaged: true, onWarning: (m) => process.stderr.write(`Warning: ${m}\n`) });
    if (this.all) await sweep();
    const flags = { names: this.containers, all: this.all, latest: this.latest };
    let targets;
    try { targets = await resolveTargets(store, flags); } catch (e) {
      if (!(e instanceof TspodError) || e.code !== 'E_NO_CONTAINER') throw e;
      await sweep();
      store.withLock(() => store.sweepNames());
      // -f also ignores containers that are not there, as Podman's does.
      try { targets = await resolveTargets(store, { ...flags, ignore: this.ignore || this.force }); } catch (again) {
        if (again instanceof TspodError && again.code === 'E_NO_CONTAINER') { reportError(again); return 1; }
        throw again;
      }
    }
    let status = 0;
    // rm -a: those others join go last, after the ones joining them.
    const joined = new Set(targets.map((t) => t.rec.config?.network).filter((n): n is string => !!n?.startsWith('container:')).map((n) => n.slice('container:'.length)));
    targets.sort((a, b) => Number(joined.has(a.rec.id)) - Number(joined.has(b.rec.id)));
    for (const t of targets) {
      try {
        if (!store.readContainer(t.rec.id)) continue; // removed with what it depended on
        await removeWithDependents(store, t.rec, {
          // rm -a takes pods' infra containers too, and with them their pods, as Podman's does.
          force: this.force, volumes: this.volumes, timeoutSec: timeout, depend: this.depend, podRemoval: this.all,
          onRemoved: (id) => process.stdout.write(`${id === t.rec.id ? t.shown : id}\n`),
        });
      } catch (e) {
        // As Podman: report each failure, remove the rest; 2 for a running container, else 125.
        reportError(e);
        const running = e instanceof TspodError && e.code === 'E_CONTAINER_RUNNING';
        status = status === 125 || !running ? 125 : 2;
      }
    }
    // Staging of killed pulls and removals goes too (their processes are gone, or it is kept).
    store.withLock(() => {
      store.sweep({ layers: false });
      if (this.all) store.sweepNames();
    });
    return status;
  }
}
