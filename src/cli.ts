// The CLI: registers the commands and turns the result into tspod's exit code. Commands load their
// engine parts on demand, so startup only pays for the command classes.
import { createRequire } from 'node:module';
import { mark } from './trace.js';
mark('node started, cli.ts evaluating');
import { Cli, type Command } from './commands/kit.js';
import { reportError } from './commands/base.js';
import { TspodError } from './errors.js';
import { takeGlobalFlags, GLOBAL_FLAGS } from './commands/globals.js';
import { log } from './log.js';
import { PullCommand } from './commands/image/pull.js';
import { PushCommand } from './commands/image/push.js';
import { BuildCommand } from './commands/image/build.js';
import { ImageTreeCommand } from './commands/image/tree.js';
import { LoginCommand, LogoutCommand } from './commands/image/login.js';
import { SaveCommand, LoadCommand } from './commands/image/archive.js';
import { HistoryCommand } from './commands/image/history.js';
import { SystemDfCommand, ImagePruneCommand, SystemPruneCommand, SystemResetCommand } from './commands/system/prune.js';
import { CommitCommand, DiffCommand, ExportCommand, ImportCommand } from './commands/container/commit.js';
import { CpCommand } from './commands/container/cp.js';
import { ImagesCommand } from './commands/image/list.js';
import { RmiCommand } from './commands/image/rm.js';
import { ImageInspectCommand, ImageExistsCommand, TagCommand, UntagCommand } from './commands/image/inspect.js';
import { RunCommand, CreateCommand } from './commands/container/run.js';
import { StartCommand, RestartCommand, AttachCommand } from './commands/container/start.js';
import { DoctorCommand } from './commands/system/doctor.js';
import { GenerateSystemdCommand } from './commands/generate/systemd.js';
import { QuadletCommand } from './commands/system/quadlet.js';
import { AutoUpdateCommand } from './commands/system/autoupdate.js';
import { EventsCommand } from './commands/system/events.js';
import { HealthcheckRunCommand, HealthcheckMonitorCommand } from './commands/container/healthcheck.js';
import { KubePlayCommand, KubeDownCommand, KubeGenerateCommand } from './commands/kube/kube.js';
import { PodCreateCommand, PodListCommand, PodInspectCommand, PodStartCommand, PodStopCommand, PodRestartCommand, PodRemoveCommand, PodExistsCommand, PodTopCommand, PodKillCommand, PodPruneCommand, PodPauseCommand, PodUnpauseCommand, PodLogsCommand, PodStatsCommand } from './commands/pod/pod.js';
import { StatsCommand } from './commands/container/stats.js';
import { SecretCreateCommand, SecretListCommand, SecretInspectCommand, SecretRemoveCommand, SecretExistsCommand } from './commands/secret/secret.js';
import { VolumeCreateCommand, VolumeListCommand, VolumeInspectCommand, VolumeRmCommand, VolumePruneCommand, VolumeExistsCommand, VolumeExportCommand, VolumeImportCommand } from './commands/volume/volume.js';
import { PsCommand } from './commands/container/ps.js';
import { RmCommand } from './commands/container/rm.js';
import { ExecCommand } from './commands/container/exec.js';
import { PortCommand } from './commands/container/port.js';
import { NetworkCreateCommand, NetworkListCommand, NetworkInspectCommand, NetworkRmCommand, NetworkPruneCommand, NetworkExistsCommand, NetworkConnectCommand, NetworkDisconnectCommand, NetworkReloadCommand } from './commands/network/network.js';
import { LogsCommand, StopCommand, WaitCommand, CleanupCommand, KillCommand, RenameCommand, ContainerInspectCommand, ContainerPruneCommand, TopCommand, PauseCommand, UnpauseCommand, ContainerExistsCommand, UpdateCommand } from './commands/container/lifecycle.js';
import { VersionCommand } from './commands/system/version.js';
import { InfoCommand } from './commands/system/info.js';
import { InspectCommand } from './commands/system/inspect.js';
import { UnshareCommand } from './commands/system/unshare.js';
import { SystemServiceCommand } from './commands/system/service.js';

const COMMANDS = [PullCommand, PushCommand, BuildCommand, ImageTreeCommand, LoginCommand, LogoutCommand, SaveCommand, LoadCommand, HistoryCommand, SystemDfCommand, ImagePruneCommand, SystemPruneCommand, SystemResetCommand, CommitCommand, DiffCommand, CpCommand, ExportCommand, ImportCommand, ImagesCommand, RmiCommand, ImageInspectCommand, RunCommand, CreateCommand, StartCommand, RestartCommand, AttachCommand, PsCommand, RmCommand, ExecCommand, LogsCommand, StopCommand, WaitCommand, CleanupCommand, KillCommand, RenameCommand, UpdateCommand, ContainerInspectCommand, ContainerPruneCommand, TopCommand, PauseCommand, UnpauseCommand, VersionCommand, InfoCommand, InspectCommand,
  DoctorCommand, GenerateSystemdCommand, KubePlayCommand, KubeDownCommand, KubeGenerateCommand, HealthcheckRunCommand, HealthcheckMonitorCommand, QuadletCommand, AutoUpdateCommand, EventsCommand, StatsCommand, PodCreateCommand, PodListCommand, PodInspectCommand, PodStartCommand, PodStopCommand, PodRestartCommand, PodRemoveCommand, PodExistsCommand, PodTopCommand, PodKillCommand, PodPruneCommand, PodPauseCommand, PodUnpauseCommand, PodLogsCommand, PodStatsCommand, SecretCreateCommand, SecretListCommand, SecretInspectCommand, SecretRemoveCommand, SecretExistsCommand,
  VolumeCreateCommand, VolumeListCommand, VolumeInspectCommand, VolumeRmCommand, VolumePruneCommand, VolumeExistsCommand, VolumeExportCommand, VolumeImportCommand, ImageExistsCommand, ContainerExistsCommand, TagCommand, UntagCommand, UnshareCommand, SystemServiceCommand, PortCommand,
  NetworkCreateCommand, NetworkListCommand, NetworkInspectCommand, NetworkRmCommand, NetworkPruneCommand, NetworkExistsCommand, NetworkConnectCommand, NetworkDisconnectCommand, NetworkReloadCommand];

// A global flag after the command's words (`tspod system service --log-level debug`) counts too, as in Podman.
const takeGlobal = (words: string[]) => {
  const flag = GLOBAL_FLAGS.find((f) => f.names.includes(words[0].split('=')[0]));
  if (!flag) return 0;
  const given = flag.kind === 'boolean' || words[0].includes('=') ? [words[0]] : words;
  return given.length - takeGlobalFlags(given).argv.length;
};
const cli = new Cli({ name: 'tspod', version: '0.1.0', globalOptions: GLOBAL_FLAGS.filter((f) => f.description), takeGlobal });
for (const c of COMMANDS) cli.register(c);

// For the startup budget test: which CommonJS packages did this command load?
if (process.env.TSPOD_DEBUG_MODULES) {
  process.on('exit', () => {
    const req = createRequire(import.meta.url);
    const pkgs = new Set(Object.keys(req.cache).map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
    process.stderr.write(`tspod-modules: ${[...pkgs].sort().join(' ')}\ntspod-node-flags: ${process.execArgv.join(' ')}\n`);
  });
}

mark('commands loaded');
let command: Command | undefined;
try {
  const globals = takeGlobalFlags(process.argv.slice(2));
  // --noout: the command's output goes nowhere; errors still reach stderr.
  if (globals.noout) process.stdout.write = (() => true) as typeof process.stdout.write;
  log.info(`tspod filtering at log level ${process.env.TSPOD_LOG_LEVEL}`);
  log.trace(`arguments: ${JSON.stringify(process.argv.slice(2))}`);
  command = cli.process(globals.argv);
} catch (e) {
  process.exitCode = reportError(e);
}
if (command) {
  let settled = false;
  // A command whose work stalls with nothing left to wait on would end with status 0 and no word:
  // that is a failure of tspod, and it says so.
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true;
    process.exitCode = reportError(new TspodError('E_INTERNAL', 'the command stopped before it finished (nothing was left to wait for)', { hint: 'this is a bug in tspod: run again with --log-level debug and report it' }));
  });
  command.execute().then((code) => {
    mark('command finished');
    settled = true;
    process.exitCode = code;
  }, (e) => {
    settled = true;
    process.exitCode = reportError(e);
  });
}
