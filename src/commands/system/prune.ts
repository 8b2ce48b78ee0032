import { Option } from '../kit.js';
import { TspodCommand, confirm } from '../base.js';
import { humanSizeWithPrecision } from '../../units.js';
import { humanDuration } from '../format.js';

const size = (n: number) => humanSizeWithPrecision(n, 4);
const pct = (part: number, whole: number) => `(${whole ? Math.round((part / whole) * 100) : 0}%)`;

export class SystemDfCommand extends TspodCommand {
  static paths = [['system', 'df']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'show the space images, containers and local volumes take, and what could be reclaimed',
    examples: [['The summary', '$0 system df'], ['Every image, container and volume', '$0 system df -v']],
  });

  verbose = Option.Boolean('-v,--verbose', false, { description: 'list every image, container and volume' });
  format = Option.String('--format', { description: 'JSON or a Go template over Type, Total, Active, Size, Reclaimable' });

  async run(): Promise<number> {
    const [{ diskUsage }, { Store }, { writeReport, renderReport }] = await Promise.all([import('../../engine/system.js'), import('../../storage/store.js'), import('../report.js')]);
    const du = diskUsage(new Store());
    if (!this.verbose) {
      const rows = du.summary.map((s) => ({ ...s, Size: size(s.Size), Reclaimable: `${size(s.Reclaimable)} ${pct(s.Reclaimable, s.Size)}`, RawSize: s.Size, RawReclaimable: s.Reclaimable }));
      writeReport({ name: 'system df', format: this.format, rows, defaultFormat: '{{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', json: () => du.summary });
      return 0;
    }
    const now = Date.now();
    const images = du.images.map(({ img, containers, shared, unique }) => {
      const n = img.names[0] ?? '<none>:<none>';
      const colon = n.lastIndexOf(':');
      return { Repository: n.slice(0, colon), Tag: n.slice(colon + 1), ImageID: img.id.slice(0, 12), Created: humanDuration(now - Date.parse(img.created ?? '')), Size: size(shared + unique), SharedSize: size(shared), UniqueSize: size(unique), Containers: containers };
    });
    const containers = du.containers.map(({ rec, size: s, volumes }) => ({
      ContainerID: rec.id.slice(0, 12), Image: rec.imageId.slice(0, 12), Command: rec.command.join(' ').slice(0, 20), LocalVolumes: volumes, Size: size(s),
      Created: humanDuration(now - Date.parse(rec.created)), Status: rec.state, Names: rec.name,
    }));
    const volumes = du.volumes.map(({ v, links, size: s }) => ({ VolumeName: v.name, Links: links, Size: size(s) }));
    process.stdout.write(`Images space usage:\n\n${renderReport({ name: 'system df', rows: images, defaultFormat: '{{.Repository}}\t{{.Tag}}\t{{.ImageID}}\t{{.Created}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', headers: { ImageID: 'IMAGE ID' } })}\n`);
    process.stdout.write(`Containers space usage:\n\n${renderReport({ name: 'system df', rows: containers, defaultFormat: '{{.ContainerID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.Created}}\t{{.Status}}\t{{.Names}}', headers: { ContainerID: 'CONTAINER ID' } })}\n`);
    process.stdout.write(`Local Volumes space usage:\n\n${renderReport({ name: 'system df', rows: volumes, defaultFormat: '{{.VolumeName}}\t{{.Links}}\t{{.Size}}' })}`);
    return 0;
  }
}

export class ImagePruneCommand extends TspodCommand {
  static paths = [['image', 'prune']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'remove images no container uses: those without a name, or with -a every one',
    examples: [['Dangling images, without asking', '$0 image prune -f'], ['Every unused image', '$0 image prune -a -f']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'remove every image no container uses, named or not' });
  force = Option.Boolean('-f,--force', false, { description: 'do not ask first' });

  async run(): Promise<number> {
    if (!this.force && !confirm(`WARNING! This command removes all ${this.all ? 'images without at least one container associated with them' : 'dangling images'}.\nAre you sure you want to continue?`)) return 0;
    const [{ pruneImages }, { Store }] = await Promise.all([import('../../engine/system.js'), import('../../storage/store.js')]);
    const ids = await pruneImages(new Store(), { all: this.all });
    process.stdout.write(ids.map((id) => `${id}\n`).join(''));
    return 0;
  }
}

export class SystemPruneCommand extends TspodCommand {
  static paths = [['system', 'prune']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'remove stopped containers, unused networks, dangling (or with -a all unused) images, and with --volumes unused volumes',
    examples: [['Without asking', '$0 system prune -f'], ['Everything not in use', '$0 system prune -a --volumes -f']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'remove every unused image, not only dangling ones' });
  volumes = Option.Boolean('--volumes', false, { description: 'remove unused volumes too' });
  force = Option.Boolean('-f,--force', false, { description: 'do not ask first' });

  async run(): Promise<number> {
    if (!this.force && !confirm(`WARNING! This command removes:\n\t- all stopped containers\n\t- all networks not used by at least one container\n${this.volumes ? '\t- all volumes not used by at least one container\n' : ''}\t- all ${this.all ? 'images without at least one container associated with them' : 'dangling images'}\n\nAre you sure you want to continue?`)) return 0;
    const [{ pruneSystem }, { Store }] = await Promise.all([import('../../engine/system.js'), import('../../storage/store.js')]);
    const r = await pruneSystem(new Store(), { all: this.all, volumes: this.volumes });
    const section = (title: string, ids: string[]) => { if (ids.length) process.stdout.write(`Deleted ${title}\n${ids.map((i) => `${i}\n`).join('')}`); };
    section('Pods', r.pods);
    section('Containers', r.containers);
    section('Networks', r.networks);
    section('Volumes', r.volumes);
    section('Images', r.images);
    process.stdout.write(`Total reclaimed space: ${size(r.bytes)}\n`);
    for (const m of r.errors) process.stderr.write(`Error: ${m}\n`);
    return r.errors.length ? 125 : 0;
  }
}

export class SystemResetCommand extends TspodCommand {
  static paths = [['system', 'reset']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'remove every container, image, volume and network of yours: the store starts empty',
    examples: [['Without asking', '$0 system reset -f']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'do not ask first' });

  async run(): Promise<number> {
    if (!this.force && !confirm('WARNING! This will remove:\n        - all containers\n        - all pods\n        - all images\n        - all networks\n        - all build cache\n        - all machines\n        - all volumes\nAre you sure you want to continue?')) return 0;
    const [{ resetSystem }, { Store }] = await Promise.all([import('../../engine/system.js'), import('../../storage/store.js')]);
    await resetSystem(new Store());
    return 0;
  }
}
