// healthcheck run (once, now) and healthcheck monitor (what runs the checks of a container's run
// when no systemd user manager does).
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

async function engine() {
  const [health, { Store }, { findContainer }] = await Promise.all([import('../../engine/health.js'), import('../../storage/store.js'), import('../../engine/containers.js')]);
  return { ...health, findContainer, store: new Store() };
}

export class HealthcheckRunCommand extends TspodCommand {
  static paths = [['healthcheck', 'run']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'run a container\'s health check now: exit 0 when healthy, 1 (printing "unhealthy") when not',
    details: 'The result goes into the container\'s health (inspect .State.Health, ps STATUS); an unhealthy container gets its --health-on-failure action.',
    examples: [['Check', '$0 healthcheck run web']],
  });

  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const e = await engine();
    const result = await e.runHealthcheck(e.store, e.findContainer(e.store, this.container));
    if (result === 'healthy') return 0;
    process.stdout.write('unhealthy\n');
    return 1;
  }
}

export class HealthcheckMonitorCommand extends TspodCommand {
  static paths = [['healthcheck', 'monitor']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'run a container\'s health checks every interval until this run of it ends (started by tspod when no systemd user manager can)',
    examples: [['What start runs', '$0 healthcheck monitor ID RUN-ID']],
  });

  container = Option.String({ name: 'ID' });
  runId = Option.String({ name: 'RUN-ID' });

  async run(): Promise<number> {
    const e = await engine();
    await e.monitorHealth(e.store, e.findContainer(e.store, this.container).id, this.runId);
    return 0;
  }
}
