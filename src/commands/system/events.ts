// events: what tspod processes did, read from the events log they all append to (engine/events.ts).
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class EventsCommand extends TspodCommand {
  static paths = [['events'], ['system', 'events']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'show events: containers created, started, died, removed; images pulled, tagged, removed, ...',
    details: 'Every tspod command appends what it did to one log in the runtime directory (containers.conf\'s events_logfile_path when set); nothing has to run to record them. Filters with the same key are alternatives, different keys must all match.',
    examples: [['Follow', '$0 events'], ['A container\'s starts so far', '$0 events --stream=false --filter container=web --filter event=start'], ['As JSON lines', '$0 events --stream=false --format json']],
  });

  filter = Option.Array('-f,--filter', [], { description: 'container=, event= (or status=), image=, label=K[=V], pod=, type=, volume=, network=' });
  since = Option.String('--since', { description: 'Only events since this time: RFC 3339, Unix seconds, or a duration such as 10m' });
  until = Option.String('--until', { description: 'Only events before this time; with it, events stop there' });
  format = Option.String('--format', { description: 'json, or a Go template over ID, Image, Name, Status, Type, Time, Attributes' });
  stream = Option.Boolean('--stream', true, { description: 'Keep printing new events (default true); --stream=false prints what there is and exits' });
  noTrunc = Option.Boolean('--no-trunc', true, { description: 'Full ids (default true)' });

  async run(): Promise<number> {
    const [{ eventsFile, followEvents, eventMatcher, formatEvent }, { parseLogTime }, { UsageError }, { goJson, goMap, Template }, { executeFormat }] = await Promise.all([
      import('../../engine/events.js'), import('../../engine/lifecycle.js'), import('../../errors.js'), import('../template.js'), import('../report.js')]);
    let match: ReturnType<typeof eventMatcher>;
    try { match = eventMatcher(this.filter); } catch (e) { throw new UsageError((e as Error).message); }
    const since = this.since === undefined ? undefined : parseLogTime(this.since);
    const until = this.until === undefined ? undefined : parseLogTime(this.until);
    const template = this.format && this.format !== 'json' ? new Template(this.format, 'events') : undefined;
    const print = (e: import('../../engine/events.js').TspodEvent) => {
      const t = Date.parse(e.Time);
      if ((since !== undefined && t < since) || (until !== undefined && t > until) || !match(e)) return;
      if (this.format === 'json') process.stdout.write(`${goJson(e, '')}\n`);
      else if (template) process.stdout.write(`${executeFormat(template, { ...e, Attributes: goMap({ ...(e.Attributes ?? {}) }), ID: e.ID ?? '', Image: e.Image ?? '', Name: e.Name ?? '' })}\n`);
      else process.stdout.write(`${formatEvent(e, this.noTrunc)}\n`);
    };
    const file = eventsFile();
    if (!file) throw new UsageError('cannot read events with the "none" backend');
    await followEvents(file, 0, print, () => this.stream && (until === undefined || Date.now() <= until));
    return 0;
  }
}
