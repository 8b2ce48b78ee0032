// doctor: the machine's prerequisites, one line each with the fix for what fails.
import { TspodCommand } from '../base.js';

export class DoctorCommand extends TspodCommand {
  static paths = [['doctor'], ['system', 'doctor']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'check what tspod needs of this machine, and say how to fix what is missing',
    details: 'One line per prerequisite: newuidmap/newgidmap, your /etc/subuid and /etc/subgid ranges, the OCI runtime, conmon, pasta or slirp4netns and /dev/net/tun, the user-namespace sysctls and AppArmor, cgroups, XDG_RUNTIME_DIR and linger, the seccomp profile, and then the storage driver, found by setting up the user namespace as every command does. Exit status 0 when tspod can run containers here, 1 when not.',
    examples: [['Check this machine', '$0 doctor']],
  });

  async run(): Promise<number> {
    const { doctorChecks } = await import('../../engine/doctor.js');
    const checks = doctorChecks(process.env.TSPOD_LAUNCHER ?? process.argv[1]);
    const label = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;
    for (const c of checks) process.stdout.write(`${label[c.status]}  ${c.name}: ${c.detail}${c.fix && c.status !== 'ok' ? `; fix: ${c.fix}` : ''}\n`);
    const failed = checks.filter((c) => c.status === 'fail');
    process.stdout.write(failed.length ? `tspod cannot run containers here: ${failed.length} problem${failed.length === 1 ? '' : 's'} above\n` : 'tspod can run containers here\n');
    return failed.length ? 1 : 0;
  }
}
