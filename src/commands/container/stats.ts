// stats: resource use of running containers, once (--no-stream) or every --interval seconds.
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class StatsCommand extends TspodCommand {
  static paths = [['stats'], ['container', 'stats']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'show the CPU, memory, network, block IO and process use of running containers',
    details: 'Read from each container\'s cgroup: as root, or rootless on cgroup v2 delegated to you. Rootless on cgroup v1 containers have no cgroup of their own, and stats says so.',
    examples: [['Once', '$0 stats --no-stream'], ['One container, as JSON', '$0 stats --no-stream --format json web']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'All containers (only running ones have stats)' });
  noStream = Option.Boolean('--no-stream', false, { description: 'Print one reading and exit' });
  noReset = Option.Boolean('--no-reset', false, { description: 'Do not clear the terminal between readings' });
  format = Option.String('--format', { description: 'json, or a Go template: {{.ID}} {{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.MemPerc}} {{.NetIO}} {{.BlockIO}} {{.PIDs}}' });
  interval = Option.String('-i,--interval', '5', { description: 'Seconds between readings' });
  containers = Option.Rest();

  /** The containers to read: those named, else every running one. */
  protected async select(store: import('../../storage/store.js').Store): Promise<import('../../storage/store.js').ContainerRecord[]> {
    const containers = await import('../../engine/containers.js');
    return this.containers.length ? this.containers.map((c) => containers.findContainer(store, c)) : containers.listContainers(store, { all: false });
  }

  async run(): Promise<number> {
    const [{ Store }, containers, { sample, checkStatsPossible }, { writeReport, renderReport }, { humanSizeWithPrecision }, { UsageError }] = await Promise.all([
      import('../../storage/store.js'), import('../../engine/containers.js'), import('../../engine/stats.js'), import('../report.js'), import('../../units.js'), import('../../errors.js')]);
    const seconds = Number(this.interval);
    if (!(seconds > 0)) throw new UsageError(`invalid --interval "${this.interval}"`, 'give a number of seconds above 0');
    checkStatsPossible();
    const store = new Store();
    const size = (n: number) => humanSizeWithPrecision(n, 4); // as Podman: "1.249MB / 67.11MB"
    const percent = (x: number) => `${x.toFixed(2)}%`;
    let previous = new Map<string, import('../../engine/stats.js').Sample>();
    for (;;) {
      const recs = await this.select(store);
      const running = recs.filter((r) => containers.current(store, r.id)?.state === 'running');
      const samples = running.map((r) => sample(store, r));
      const rows = samples.map((s) => {
        const before = previous.get(s.id);
        const elapsedNs = (before ? s.at - before.at : s.at - s.startedAt) * 1e6;
        const cpu = elapsedNs > 0 ? ((s.cpuNs - (before?.cpuNs ?? 0)) / elapsedNs) * 100 : 0;
        const avg = s.at > s.startedAt ? (s.cpuNs / ((s.at - s.startedAt) * 1e6)) * 100 : 0;
        return {
          ID: s.id.slice(0, 12), Name: s.name, CPUPerc: percent(cpu), AvgCPU: percent(avg), CPU: `${(s.cpuNs / 1e9).toFixed(3)}s`,
          MemUsage: `${size(s.memUsage)} / ${size(s.memLimit)}`, MemUsageBytes: s.memUsage, MemLimit: s.memLimit, MemPerc: percent(s.memLimit ? (s.memUsage / s.memLimit) * 100 : 0),
          NetIO: `${size(s.netRx)} / ${size(s.netTx)}`, BlockIO: `${size(s.blockRead)} / ${size(s.blockWrite)}`, PIDs: s.pids, UpTime: `${((s.at - s.startedAt) / 1000).toFixed(0)}s`,
        };
      });
      previous = new Map(samples.map((s) => [s.id, s]));
      const report = { name: 'stats', format: this.format, rows, defaultFormat: '{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}\t{{.CPU}}\t{{.AvgCPU}}',
        headers: { ID: 'ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET IO', BlockIO: 'BLOCK IO', PIDs: 'PIDS', CPU: 'CPU TIME', AvgCPU: 'AVG CPU %' } };
      if (this.noStream) { writeReport(report); return 0; }
      process.stdout.write(`${process.stdout.isTTY && !this.noReset ? '\x1b[2J\x1b[H' : ''}${renderReport(report)}`);
      await new Promise((r) => setTimeout(r, seconds * 1000));
    }
  }
}
