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

  quiet = Option.Boolean('-q,--quiet', false, { description: 'print only the names' });

  async run(): Promise<number> {
    const e = await engine();
    const { table } = await import('../format.js');
    const vols = e.listVolumes(e.store);
    if (this.quiet) process.stdout.write(vols.map((v) => `${v.name}\n`).join(''));
    else process.stdout.write(table(['DRIVER', 'VOLUME NAME'], vols.map((v) => ['local', v.name])));
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
    const { printReports } = await import('../format.js');
    const { TspodError } = await import('../../errors.js');
    const reports = this.names.map((n) => {
      const v = e.readVolume(e.store, n);
      if (!v) throw new TspodError('E_NO_VOLUME', `no volume named "${n}"`, { hint: 'see `tspod volume ls`' });
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
