import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { ImageNotFoundError } from '../../errors.js';
import { goTime, humanDuration } from '../format.js';
import { humanSizeWithPrecision } from '../../units.js';

export class HistoryCommand extends TspodCommand {
  static paths = [['history'], ['image', 'history']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'show how an image was made: its history, newest first, with each layer\'s size',
    examples: [['The history', '$0 history alpine:3.20'], ['Full ids and times', '$0 history --no-trunc -H=false alpine:3.20']],
  });

  format = Option.String('--format', { description: 'JSON or a Go template' });
  human = Option.String('-H,--human', { tolerateBoolean: true, description: 'sizes and dates for people (default true)' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'do not truncate the output' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'print only the ids' });
  image = Option.String({ name: 'IMAGE' });

  async run(): Promise<number> {
    const [{ findImage, imageHistory }, { Store }, { writeReport }] = await Promise.all([import('../../engine/images.js'), import('../../storage/store.js'), import('../report.js')]);
    const store = new Store();
    const img = await findImage(store, this.image);
    if (!img) throw new ImageNotFoundError(this.image);
    const entries = imageHistory(store, img);
    const human = this.human === undefined || !['false', '0'].includes(String(this.human));
    const now = Date.now();
    const rows = entries.map((e) => {
      const since = () => `${humanDuration(now - Date.parse(e.created ?? ''))} ago`;
      const at = () => (e.created ? new Date(Math.floor(Date.parse(e.created) / 1000) * 1000).toISOString().replace('.000Z', 'Z') : '');
      return {
        ID: e.id === '<missing>' || this.noTrunc ? e.id : e.id.slice(0, 12), Created: human ? since : at, CreatedSince: since, CreatedAt: () => goTime(e.created),
        CreatedBy: this.noTrunc || e.createdBy.length <= 45 ? e.createdBy : `${e.createdBy.slice(0, 42)}...`,
        Size: human ? humanSizeWithPrecision(e.size, 3, ' ') : String(e.size), Comment: e.comment, Tags: '',
      };
    });
    if (this.quiet && !this.format) { process.stdout.write(rows.map((r) => `${r.ID}\n`).join('')); return 0; }
    writeReport({
      name: 'history', format: this.format, rows, defaultFormat: '{{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}', headers: { CreatedBy: 'CREATED BY' },
      json: () => entries.map((e) => ({ id: e.id, created: e.created, CreatedBy: e.createdBy, size: e.size, comment: e.comment })),
    });
    return 0;
  }
}
