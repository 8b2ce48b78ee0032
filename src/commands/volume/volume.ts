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
  name = Option.String({ name: 'NAME' });

  async run(): Promise<number> {
    const e = await engine();
    e.createVolume(e.store, this.name, { labels: this.label });
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
    let users: Set<string> | undefined;
    const inUse = (name: string) => (users ??= new Set(e.store.listContainers().flatMap((c) => (c.config?.volumes ?? []).filter((m) => m.type === 'volume').map((m) => m.source)))).has(name);
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
    const rows = vols.map((v) => ({ Name: v.name, Driver: 'local', Mountpoint: `${e.volumeDir(e.store, v.name)}/_data`, CreatedAt: v.created, Labels: v.labels, Scope: 'local', Options: {}, Anonymous: v.anonymous }));
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
      return { Name: v.name, Driver: 'local', Mountpoint: `${e.volumeDir(e.store, n)}/_data`, CreatedAt: v.created, Labels: v.labels, Anonymous: v.anonymous, Scope: 'local' };
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

  force = Option.Boolean('-f,--force', false, { description: 'remove even if a stopped container uses it' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    const { TspodError } = await import('../../errors.js');
    for (const n of this.names) {
      const running = e.volumeUsers(e.store, n).find((c) => c.state === 'running');
      if (running) throw new TspodError('E_VOLUME_IN_USE', `volume ${n} is used by running container ${running.name}`, { hint: `stop it first (tspod stop ${running.name})` });
      e.removeVolume(e.store, n, { force: this.force });
      process.stdout.write(`${n}\n`);
    }
    return 0;
  }
}

export class VolumePruneCommand extends TspodCommand {
  static paths = [['volume', 'prune']];
  static usage = TspodCommand.Usage({
    category: 'Volumes',
    description: 'remove every volume no container uses',
    examples: [['Prune', '$0 volume prune'], ['Without asking (tspod never asks)', '$0 volume prune -f']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'accepted for compatibility; tspod does not prompt' });

  async run(): Promise<number> {
    const e = await engine();
    for (const v of e.listVolumes(e.store)) {
      if (e.volumeUsers(e.store, v.name).length) continue;
      e.removeVolume(e.store, v.name);
      process.stdout.write(`${v.name}\n`);
    }
    return 0;
  }
}
