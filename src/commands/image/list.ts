import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { Store, type ImageRecord } from '../../storage/store.js';
import { UsageError } from '../../errors.js';
import { goTime, humanDuration } from '../format.js';
import { humanSizeWithPrecision } from '../../units.js';

const SORT_KEYS = ['created', 'id', 'repository', 'size', 'tag'];

/** One row per repository:tag (an untagged image has one <none> row), Podman's imageReporter fields. */
interface Lazy { labelsOf(img: ImageRecord): Record<string, string> | null; containersOf(img: ImageRecord): number }

function rowsOf(images: ImageRecord[], lazy: Lazy, noTrunc: boolean, now: number) {
  return images.flatMap((img) => {
    const names = img.names.length ? img.names : ['<none>:<none>'];
    return names.map((n) => {
      const colon = n.lastIndexOf(':');
      const tagged = colon > n.lastIndexOf('/');
      const repository = tagged ? n.slice(0, colon) : n, tag = tagged ? n.slice(colon + 1) : '<none>';
      const created = img.created ?? '';
      const since = () => `${humanDuration(now - Date.parse(created))} ago`;
      return {
        Repository: repository, Tag: tag,
        ID: () => (noTrunc ? `sha256:${img.id}` : img.id.slice(0, 12)),
        Id: img.id, Digest: img.digest, Names: img.names, RepoTags: img.names, RepoDigests: img.repoDigests,
        Created: since, CreatedSince: since,
        CreatedAt: () => goTime(created), CreatedTime: () => goTime(created),
        Size: () => humanSizeWithPrecision(img.size, 3, ' '), VirtualSize: img.size, SharedSize: 0, Containers: () => lazy.containersOf(img), ReadOnly: false, Dangling: img.names.length === 0,
        Labels: () => lazy.labelsOf(img),
        History: (img.namesHistory ?? img.names).join(', '), ParentId: '',
        sortKey: { created, id: img.id, repository, size: img.size, tag } as Record<string, string | number>,
      };
    });
  });
}

export class ImagesCommand extends TspodCommand {
  static paths = [['images'], ['image', 'ls'], ['image', 'list']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'List images in local storage',
    details: 'Shows repository, tag, image id, when the image was created and its size. With an argument, only the images whose name matches it.',
    examples: [
      ['List images', '$0 images'],
      ['Only the ids', '$0 images -q'],
      ['As JSON for scripts', '$0 images --format json'],
      ['Names and ids', "$0 images --format '{{.Repository}}:{{.Tag}} {{.ID}}'"],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Show all images, the intermediate ones of builds too' });
  digests = Option.Boolean('--digests', false, { description: 'Show digests' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions provided (after, before, dangling, id, label, reference, since, until)' });
  format = Option.String('--format', { description: 'Change the output format to JSON or a Go template' });
  history = Option.Boolean('--history', false, { description: 'Display the image name history' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate output' });
  noHeading = Option.Boolean('-n,--noheading', false, { description: 'Do not print column headings' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Display only image IDs' });
  sort = Option.String('--sort', 'created', { description: 'Sort by created, id, repository, size, tag' });
  names = Option.Rest();

  async run(): Promise<number> {
    if (this.names.length > 1) throw new UsageError(`tspod images takes at most one image name, not ${this.names.length}`);
    if (this.filter.length && this.names.length) throw new UsageError('cannot specify an image and a filter(s)');
    if (!SORT_KEYS.includes(this.sort)) throw new UsageError(`"${this.sort}" is not a valid field for sorting. Choose from: ${SORT_KEYS.join(', ')}`);
    const { listImages, readImageConfig, matchesReference } = await import('../../engine/images.js');
    const store = new Store();
    const images = listImages(store, { filters: this.names.length ? [`reference=${this.names[0]}`] : this.filter, intermediate: this.all });
    const labels = new Map<string, Record<string, string> | null>();
    const labelsOf = (img: ImageRecord) => { if (!labels.has(img.id)) labels.set(img.id, readImageConfig(store, img).config?.Labels ?? null); return labels.get(img.id)!; };
    let users: Map<string, number> | undefined;
    const containersOf = (img: ImageRecord) => {
      users ??= store.listContainers().reduce((m, c) => m.set(c.imageId, (m.get(c.imageId) ?? 0) + 1), new Map<string, number>());
      return users.get(img.id) ?? 0;
    };
    // As Podman: a reference (the argument, or reference= filters) shows the matching names of an image, not all of them.
    const refs = this.names.length ? [this.names[0]] : this.filter.filter((f) => f.startsWith('reference=')).map((f) => f.slice('reference='.length));
    const rows = rowsOf(images, { labelsOf, containersOf }, this.noTrunc, Date.now())
      .filter((r) => !refs.length || r.Repository === '<none>' || refs.some((ref) => (/^(sha256:)?[0-9a-f]+$/.test(ref) && r.Id.startsWith(ref.replace('sha256:', ''))) || matchesReference(`${r.Repository}:${r.Tag}`, ref)));
    if (this.sort !== 'created') {
      const k = this.sort;
      rows.sort((a, b) => (a.sortKey[k] < b.sortKey[k] ? -1 : a.sortKey[k] > b.sortKey[k] ? 1 : 0));
    }
    if (this.quiet && !this.format) {
      process.stdout.write([...new Set(rows.map((r) => r.ID()))].map((s) => `${s}\n`).join(''));
      return 0;
    }
    const { writeReport } = await import('../report.js');
    const columns = ['{{.Repository}}', '{{.Tag}}', ...(this.digests ? ['{{.Digest}}'] : []), '{{.ID}}', '{{.Created}}', '{{.Size}}', ...(this.history ? ['{{if .History}}{{.History}}{{else}}<none>{{end}}'] : [])];
    writeReport({
      name: 'images', format: this.format, rows, defaultFormat: columns.join('\t'), headers: { ID: 'IMAGE ID', ReadOnly: 'R/O' }, noHeading: this.noHeading,
      json: () => images.map((img) => ({
        Id: img.id, ParentId: img.parent ?? '', RepoTags: null, RepoDigests: img.repoDigests, Created: Math.floor(Date.parse(img.created ?? '') / 1000) || 0, Size: img.size, SharedSize: 0, VirtualSize: img.size,
        Labels: labelsOf(img), Containers: containersOf(img), Names: img.names.length ? img.names : undefined, Digest: img.digest, History: img.names.length ? img.names : undefined, CreatedAt: img.created,
      })),
    });
    return 0;
  }
}
