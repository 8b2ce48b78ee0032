import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { Store } from '../../storage/store.js';
import { renderTemplate, table, timeAgo } from '../format.js';

export class PsCommand extends TspodCommand {
  static paths = [['ps'], ['container', 'ls'], ['container', 'list'], ['container', 'ps']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'list containers',
    details: 'Running containers by default; `-a` shows every container, with its exit status.',
    examples: [
      ['Running containers', '$0 ps'],
      ['All containers, ids only', '$0 ps -aq'],
      ['As JSON', '$0 ps -a --format json'],
      ['Exited containers with a label', '$0 ps --filter status=exited --filter label=app=web'],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'show all containers, not only running ones' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'print only container ids' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'do not shorten ids' });
  format = Option.String('--format', { description: 'json, or a Go template such as {{.Names}}' });
  filter = Option.Array('-f,--filter', [], { description: 'status=, name=, id=, ancestor=, label=KEY[=VALUE]' });
  last = Option.String('-n,--last', { description: 'only the N most recently created containers' });

  async run(): Promise<number> {
    const { listContainers } = await import('../../engine/containers.js');
    const list = await listContainers(new Store(), { all: this.all, filters: this.filter, last: this.last === undefined ? undefined : Number(this.last), onWarning: (m) => process.stderr.write(`Warning: ${m}\n`) });
    const now = Date.now();
    const status = (c: (typeof list)[number]) => c.state === 'running' ? `Up ${timeAgo(c.startedAt, now).replace(/ ago$/, '')}`
      : c.state === 'exited' ? `Exited (${c.exitCode ?? -1}) ${timeAgo(c.finishedAt ?? c.created, now)}`
      : c.state === 'restarting' ? `Restarting (${c.exitCode ?? -1}) ${timeAgo(c.finishedAt ?? c.created, now)}` : 'Created';
    const rows = list.map((c) => ({ Id: c.id, Image: c.imageName, ImageID: c.imageId, Command: c.command.join(' '), Created: c.created, CreatedSince: timeAgo(c.created, now), Status: status(c), State: c.state, ExitCode: c.exitCode ?? 0, Names: c.name, Labels: c.labels ?? {} }));
    if (this.format === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    else if (this.format) process.stdout.write(rows.map((r) => renderTemplate(this.format!, r) + '\n').join(''));
    else if (this.quiet) process.stdout.write(rows.map((r) => `${this.noTrunc ? r.Id : r.Id.slice(0, 12)}\n`).join(''));
    else {
      const cut = (s: string, n: number) => (this.noTrunc || s.length <= n ? s : `${s.slice(0, n - 3)}...`);
      process.stdout.write(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'],
        rows.map((r) => [this.noTrunc ? r.Id : r.Id.slice(0, 12), r.Image, cut(r.Command, 20), r.CreatedSince, r.Status, r.Names])));
    }
    return 0;
  }
}
