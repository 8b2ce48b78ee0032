// volume create, ls, inspect, rm, prune.
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

async function engine() {
  const [volumes, { Store }] = await Promise.all([import('../../engine/volumes.js'), import('../../storage/store.js')]);
  return { ...volumes, store: new Store().init() };
}

export class VolumeCreateCommand extends TspodCommand {
  static paths = [['volume', 'create']];
  static usage = TspodCommand.Usage({
    category: 'Volumes',
    description: 'create a named volume',
    examples: [['Create', '$0 volume create data'], ['With a label', '$0 volume create -l app=db dbdata']],
  });

  label = Option.Array('-l,--label', [], { description: 'KEY=VALUE metadata' });
  driver = Option.String('-d,--driver', 'local', { description: 'Volume driver name (local)' });
  opt = Option.Array('-o,--opt', [], { description: 'type=bind|tmpfs, device=PATH, o=MOUNT_OPTIONS for the local driver' });
  ignore = Option.Boolean('--ignore', false, { description: 'Don\'t fail if the volume already exists' });
  name = Option.String({ name: 'NAME' });

  async run(): Promise<number> {
    const e = await engine();
    const { TspodError } = await import('../../errors.js');
    if (this.driver !== 'local') throw new TspodError('E_USAGE', `volume driver "${this.driver}" is not known: tspod has the local driver`);
    if (e.readVolume(e.store, this.name) && !this.ignore) throw new TspodError('E_VOLUME_EXISTS', `volume with name ${this.name} already exists: volume already exists`);
    e.createVolume(e.store, this.name, { labels: this.label, options: this.opt });
    process.stdout.write(`${this.name}\n`);
    return 0;
  }
}

export class VolumeListCommand extends TspodCommand {
  static paths = [['volume', 'ls'], ['volume', 'list']];
  static usage = TspodCommand.Usage({
    category: 'Volumes',
    description: 'list volumes',
    examples: [['List', '$0 volume ls'], ['Names only', '$0 volume ls -q']],
  });

  filter = Option.Array('-f,--filter', [], { description: 'Filter volume output (name, label, driver, dangling)' });
  format = Option.String('--format', { description: 'Format volume output using JSON or a Go template' });
  noHeading = Option.Boolean('--noheading', false, { description: 'Do not print headers' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print volume output in quiet mode' });

  async run(): Promise<number> {
    const e = await engine();
    const [{ writeReport }, { parseFilters, matchesAll, matchesLabel }] = await Promise.all([import('../report.js'), import('../../engine/filters.js')]);
    const filters = parseFilters(this.filter, ['name', 'label', 'driver', 'dangling'], 'volume ls');
    let usage: Map<string, import('../../storage/store.js').ContainerRecord[]> | undefined;
    const usageOf = () => (usage ??= e.volumeUsage(e.store));
    const inUse = (name: string) => usageOf().has(name);
    const vols = e.listVolumes(e.store).filter((v) => matchesAll(filters, (key, value) => {
      switch (key) {
        case 'name': return new RegExp(value).test(v.name);
        case 'label': return matchesLabel(v.labels, value);
        case 'driver': return value === 'local';
        case 'dangling': return inUse(v.name) !== (value === 'true');
      }
      return false;
    }));
    if (this.quiet && !this.format) { process.stdout.write(vols.map((v) => `${v.name}\n`).join('')); return 0; }
    const rows = vols.map((v) => e.volumeReport(e.store, v, usageOf));
    writeReport({ name: 'volume ls', format: this.format, rows, defaultFormat: '{{.Driver}}\t{{.Name}}', headers: { Name: 'VOLUME NAME' }, noHeading: this.noHeading });
    return 0;
  }
}

export class VolumeInspectCommand extends TspodCommand {
  static paths = [['volume', 'inspect']];
  static usage = TspodCommand.Usage({
    category: 'Volumes',
    description: 'show the details of volumes',
    examples: [['Inspect', '$0 volume inspect data'], ['Where its files are', "$0 volume inspect --format '{{.Mountpoint}}' data"]],
  });

  format = Option.String('-f,--format', { description: 'json (default), or a Go template such as {{.Mountpoint}}' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    const { printReports } = await import('../report.js');
    const { VolumeNotFoundError } = await import('../../errors.js');
    const reports = this.names.map((n) => {
      const v = e.readVolume(e.store, n);
      if (!v) throw new VolumeNotFoundError(n);
      return e.volumeReport(e.store, v);
    });
    printReports(reports, this.format);
    return 0;
  }
}

export class VolumeRmCommand extends TspodCommand {
  static paths = [['volume', 'rm'], ['volume', 'remove']];
  static usage = TspodCommand.Usage({
    category: 'Volumes',
    description: 'remove volumes and their data',
    details: 'A volume that a container uses is refused; `-f` removes it anyway if no container using it is running.',
    examples: [['Remove', '$0 volume rm data'], ['Several', '$0 volume rm data cache']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all volumes' });
  force = Option.Boolean('-f,--force', false, { description: 'Remove the containers that use the volume first (running ones are stopped), and ignore volumes that are not there' });
  time = Option.String('-t,--time', '10', { description: 'Seconds to wait for running containers to stop before killing them' });
  names = Option.Rest({ name: 'VOLUME' });

  async run(): Promise<number> {
    const e = await engine();
    const [{ TspodError, UsageError }, { removeContainer }, { reportError }] = await Promise.all([import('../../errors.js'), import('../../engine/lifecycle.js'), import('../base.js')]);
    if (this.all === (this.names.length > 0)) throw new UsageError(this.all ? 'when using the --all flag, you may not pass any volume names' : 'you must provide at least one volume name');
    const names = this.all ? e.listVolumes(e.store).map((v) => v.name) : this.names;
    for (const n of names) {
      if (!e.readVolume(e.store, n)) {
        if (this.force) continue;
        // Podman's status for a volume that is not there.
        reportError(new TspodError('E_NO_VOLUME', `no volume with name "${n}" found: no such volume`));
        return 1;
      }
      const users = e.volumeUsers(e.store, n);
      if (users.length && !this.force) {
        const running = users.some((c) => c.state === 'running');
        throw new TspodError('E_VOLUME_IN_USE', `volume ${n} is being used by the following container(s): ${users.map((c) => c.id).join(', ')}: volume is being used`, { exitCode: running ? 2 : 125 });
      }
      for (const c of users) await removeContainer(e.store, c, { force: true, timeoutSec: Number(this.time) });
      e.removeVolume(e.store, n, { force: true });
      process.stdout.write(`${n}\n`);
    }
    return 0;
  }
}

export class VolumeExistsCommand extends TspodCommand {
  static paths = [['volume', 'exists']];
  static usage = TspodCommand.Usage({
    category: 'Volumes',
    description: 'Check if a volume exists',
    details: 'Exits 0 when it does, 1 when it does not; prints nothing.',
    examples: [['In a script', '$0 volume exists data || $0 volume create data']],
  });

  name = Option.String({ name: 'VOLUME' });

  async run(): Promise<number> {
    const e = await engine();
    return e.readVolume(e.store, this.name) ? 0 : 1;
  }
}

export class VolumePruneCommand extends TspodCommand {
  static paths = [['volume', 'prune']];
  static usage = TspodCommand.Usage({
    category: 'Volumes',
    description: 'Remove all unused volumes',
    details: 'Lists the volumes no container uses and asks before removing them, as Podman does; `-f` removes them without asking.',
    examples: [['Prune, after a question', '$0 volume prune'], ['Without asking (scripts)', '$0 volume prune -f'], ['Only some', '$0 volume prune -f --filter label=tmp']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });
  filter = Option.Array('--filter', [], { description: 'Provide filter values (label=KEY[=VALUE], label!=...)' });

  async run(): Promise<number> {
    const e = await engine();
    const [{ parseFilters, matchesAll, matchesLabel }, { confirm }] = await Promise.all([import('../../engine/filters.js'), import('../base.js')]);
    const filters = parseFilters(this.filter, ['label', 'label!'], 'volume prune');
    const match = (v: { labels: Record<string, string> }) => matchesAll(filters, (key, value) => (key === 'label' ? matchesLabel(v.labels, value) : !matchesLabel(v.labels, value)));
    if (!this.force) {
      const unused = e.unusedVolumes(e.store, match);
      if (!unused.length) return 0;
      process.stdout.write(`WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:\n${unused.map((v) => `${v.name}\n`).join('')}`);
      if (!confirm('Are you sure you want to continue?')) return 0;
    }
    for (const name of e.pruneVolumes(e.store, match)) process.stdout.write(`${name}\n`);
    return 0;
  }
}

export class VolumeExportCommand extends TspodCommand {
  static paths = [['volume', 'export']];
  static usage = TspodCommand.Usage({
    category: 'Volumes',
    description: 'Export volumes',
    details: 'Writes the volume\'s contents as a tar archive to stdout, or to the file given with -o.',
    examples: [['To a file', '$0 volume export data -o data.tar']],
  });

  output = Option.String('-o,--output', '-', { description: 'Write to a specified file (default: stdout, which must not be a terminal)' });
  name = Option.String({ name: 'VOLUME' });

  async run(): Promise<number> {
    const e = await engine();
    if (this.output === '-' && process.stdout.isTTY) throw new (await import('../../errors.js')).UsageError('refusing to write a tar archive to a terminal: use -o FILE or redirect stdout');
    await e.tarVolume(e.store, this.name, 'export', this.output);
    return 0;
  }
}

export class VolumeImportCommand extends TspodCommand {
  static paths = [['volume', 'import']];
  static usage = TspodCommand.Usage({
    category: 'Volumes',
    description: 'Import a tarball contents into a volume',
    details: 'Unpacks a tar archive (a file, or - for stdin) into an existing volume.',
    examples: [['From a file', '$0 volume import data data.tar'], ['From stdin', 'cat data.tar | $0 volume import data -']],
  });

  name = Option.String({ name: 'VOLUME' });
  source = Option.String({ name: 'SOURCE' });

  async run(): Promise<number> {
    const e = await engine();
    await e.tarVolume(e.store, this.name, 'import', this.source);
    return 0;
  }
}
