import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { Store } from '../../storage/store.js';
import { listImages } from '../../engine/images.js';
import { humanSize, renderTemplate, table, timeAgo } from '../format.js';

export class ImagesCommand extends TspodCommand {
  static paths = [['images'], ['image', 'ls'], ['image', 'list']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'list the images in your store',
    details: 'Shows repository, tag, image id, when the image was created and its unpacked size.',
    examples: [
      ['List images', '$0 images'],
      ['Only the ids', '$0 images -q'],
      ['As JSON for scripts', '$0 images --format json'],
    ],
  });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'print only image ids' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'do not shorten image ids' });
  format = Option.String('--format', { description: 'json, or a Go template such as {{.ID}} {{.Repository}}:{{.Tag}}' });

  async run(): Promise<number> {
    const images = listImages(new Store());
    const rows = images.flatMap((img) => {
      const names = img.names.length ? img.names : ['<none>:<none>'];
      return names.map((n) => {
        const i = n.lastIndexOf(':');
        return { Id: img.id, ID: this.noTrunc ? img.id : img.id.slice(0, 12), Repository: n.slice(0, i), Tag: n.slice(i + 1), Digest: img.digest, Created: img.created, CreatedSince: timeAgo(img.created), Size: img.size, Names: img.names };
      });
    });
    if (this.format === 'json') {
      process.stdout.write(JSON.stringify(images.map((img) => ({ Id: img.id, Names: img.names, Digest: img.digest, RepoDigests: img.repoDigests, Created: img.created, Size: img.size })), null, 2) + '\n');
    } else if (this.format) {
      for (const r of rows) process.stdout.write(renderTemplate(this.format, r) + '\n');
    } else if (this.quiet) {
      process.stdout.write([...new Set(images.map((i) => (this.noTrunc ? i.id : i.id.slice(0, 12))))].map((s) => `${s}\n`).join(''));
    } else {
      process.stdout.write(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
        rows.map((r) => [r.Repository, r.Tag, this.noTrunc ? r.Id : r.Id.slice(0, 12), r.CreatedSince, humanSize(r.Size)])));
    }
    return 0;
  }
}
