// auto-update: new images for containers labelled io.containers.autoupdate, their units restarted.
import { Option } from '../kit.js';
import { TspodCommand, reportError, tlsVerifyFlag } from '../base.js';

export class AutoUpdateCommand extends TspodCommand {
  static paths = [['auto-update']];
  static usage = TspodCommand.Usage({
    category: 'Systemd',
    description: 'update the images of containers labelled io.containers.autoupdate and restart their systemd units',
    details: 'registry (or image): when the registry has another manifest for the image\'s name, pull it; local: when the name now stands for another local image. The unit the container was created by (PODMAN_SYSTEMD_UNIT) is restarted; if it does not come up, the old image is tagged again and the unit restarted with it (--rollback, default true).',
    examples: [['What would be updated', '$0 auto-update --dry-run'], ['Update', '$0 auto-update']],
  });

  dryRun = Option.Boolean('--dry-run', false, { description: 'Check for updates, change nothing' });
  rollback = Option.Boolean('--rollback', true, { description: 'Go back to the old image when the unit fails with the new one (default true)' });
  format = Option.String('--format', { description: 'A Go template over Unit, Container, ContainerName, ContainerID, Image, Policy, Updated' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'Require HTTPS and verified certificates when asking registries' });

  async run(): Promise<number> {
    const [{ Store }, { autoUpdate }, { writeReport }] = await Promise.all([import('../../storage/store.js'), import('../../engine/autoupdate.js'), import('../report.js')]);
    const { reports, errors } = await autoUpdate(new Store(), {
      dryRun: this.dryRun, rollback: this.rollback, tlsVerify: tlsVerifyFlag(this.tlsVerify),
      onNotice: (m) => process.stdout.write(`${m}\n`), onWarning: (m) => process.stderr.write(`Warning: ${m}\n`),
    });
    if (reports.length) {
      writeReport({ name: 'auto-update', format: this.format, rows: reports, defaultFormat: '{{.Unit}}\t{{.Container}}\t{{.Image}}\t{{.Policy}}\t{{.Updated}}', headers: { Unit: 'UNIT', Container: 'CONTAINER', Image: 'IMAGE', Policy: 'POLICY', Updated: 'UPDATED' } });
    }
    for (const e of errors) reportError(e);
    return errors.length ? 125 : 0;
  }
}
