// pod create, ps, inspect, start, stop, restart, rm, exists, prune.
import fs from 'node:fs';
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { StatsCommand } from '../container/stats.js';

async function engine() {
  const [pods, { Store }] = await Promise.all([import('../../engine/pods.js'), import('../../storage/store.js')]);
  return { ...pods, store: new Store() };
}

export class PodCreateCommand extends TspodCommand {
  static paths = [['pod', 'create']];
  static usage = TspodCommand.Usage({
    category: 'Pods',
    description: 'create a pod: an infra container holding the namespaces its members share (net, ipc, uts)',
    examples: [['A pod publishing a port', '$0 pod create --name web -p 8080:80'], ['Then a member', '$0 run -d --pod web IMAGE']],
  });

  name = Option.String('-n,--name', { description: 'The pod\'s name' });
  label = Option.Array('-l,--label', [], { description: 'KEY=VALUE metadata' });
  share = Option.String('--share', { description: 'Namespaces the members share: net, ipc, uts, pid, or none (default net,ipc,uts)' });
  infra = Option.Boolean('--infra', true, { description: 'Create an infra container (default true)' });
  hostname = Option.String('--hostname', { description: 'The pod\'s hostname (default its name)' });
  publish = Option.Array('-p,--publish', [], { description: 'Publish a port of the pod: [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]' });
  network = Option.String('--network,--net', { description: 'The pod\'s network, as run --network' });
  addHost = Option.Array('--add-host', [], { description: 'NAME:IP in the pod\'s /etc/hosts' });
  dns = Option.Array('--dns', [], { description: 'DNS servers for the pod' });
  dnsSearch = Option.Array('--dns-search', [], { description: 'DNS search domains for the pod' });
  dnsOption = Option.Array('--dns-option,--dns-opt', [], { description: 'resolv.conf options for the pod' });
  podIdFile = Option.String('--pod-id-file', { description: 'Write the pod\'s id to this file' });
  infraConmonPidfile = Option.String('--infra-conmon-pidfile', { description: 'Write the pid of the infra container\'s conmon to this file at each start' });
  replace = Option.Boolean('--replace', false, { description: 'Remove a pod of the same name first' });
  infraImage = Option.String('--infra-image', { description: 'The infra container\'s image (default: catatonit, built here)' });
  infraCommand = Option.String('--infra-command', { description: 'The infra container\'s command' });
  infraName = Option.String('--infra-name', { description: 'The infra container\'s name (default ID-infra)' });
  exitPolicy = Option.String('--exit-policy', { description: 'continue (default): the pod keeps running; stop: it stops when its last container exits' });
  named = Option.Rest({ name: 'NAME' });

  async run(): Promise<number> {
    const e = await engine();
    const pod = await e.createPod(e.store, { name: this.name ?? this.named[0], labels: this.label, share: this.share, infra: this.infra, hostname: this.hostname, publish: this.publish, network: this.network, addHost: this.addHost, dns: this.dns, dnsSearch: this.dnsSearch, dnsOption: this.dnsOption, podIdFile: this.podIdFile, infraConmonPidFile: this.infraConmonPidfile, createCommand: process.argv.slice(2), replace: this.replace, infraImage: this.infraImage, infraCommand: this.infraCommand ? [this.infraCommand] : undefined, infraName: this.infraName, exitPolicy: this.exitPolicy });
    process.stdout.write(`${pod.id}\n`);
    return 0;
  }
}

export class PodListCommand extends TspodCommand {
  static paths = [['pod', 'ps'], ['pod', 'ls'], ['pod', 'list']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'list pods', examples: [['List', '$0 pod ps'], ['Ids', '$0 pod ps -q']] });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print pod ids only' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate ids' });
  format = Option.String('--format', { description: 'json, or a Go template' });
  noHeading = Option.Boolean('--noheading', false, { description: 'Do not print headers' });
  ctrNames = Option.Boolean('--ctr-names', false, { description: 'Show the names of the containers' });
  filter = Option.Array('-f,--filter', [], { description: 'name=, id=, label=, status=' });

  async run(): Promise<number> {
    const e = await engine();
    const [{ writeReport }, { parseFilters, matchesAll, matchesLabel }, { humanDuration }, { goMap }] = await Promise.all([import('../report.js'), import('../../engine/filters.js'), import('../format.js'), import('../template.js')]);
    const filters = parseFilters(this.filter, ['name', 'id', 'label', 'status'], 'pod ps');
    const pods = e.listPods(e.store).filter((p) => matchesAll(filters, (k, v) => (k === 'name' ? new RegExp(v).test(p.name) : k === 'id' ? p.id.startsWith(v) : k === 'label' ? matchesLabel(p.labels, v) : e.podStatus(e.store, p).toLowerCase() === v.toLowerCase())));
    if (this.quiet) { process.stdout.write(pods.map((p) => `${this.noTrunc ? p.id : p.id.slice(0, 12)}\n`).join('')); return 0; }
    const id = (s: string) => (this.noTrunc ? s : s.slice(0, 12));
    const rows = pods.map((p) => {
      const members = e.podMembers(e.store, p);
      return { ID: id(p.id), Name: p.name, Status: e.podStatus(e.store, p), Created: `${humanDuration(Date.now() - Date.parse(p.created))} ago`, InfraID: id(p.infraId ?? ''), NumberOfContainers: members.length, ContainerNames: members.map((c) => c.name).join(','), Labels: goMap({ ...p.labels }) };
    });
    writeReport({ name: 'pod ps', format: this.format, rows, noHeading: this.noHeading,
      defaultFormat: `{{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t${this.ctrNames ? '{{.ContainerNames}}' : '{{.NumberOfContainers}}'}`,
      headers: { ID: 'POD ID', InfraID: 'INFRA ID', NumberOfContainers: '# OF CONTAINERS', ContainerNames: 'NAMES' } });
    return 0;
  }
}

export class PodInspectCommand extends TspodCommand {
  static paths = [['pod', 'inspect']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'show the details of a pod', examples: [['Inspect', '$0 pod inspect web']] });

  format = Option.String('-f,--format', { description: 'json (default), or a Go template' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    const { printReports } = await import('../report.js');
    printReports(this.names.map((n) => e.inspectPod(e.store, e.findPod(e.store, n))), this.format, 'pod inspect');
    return 0;
  }
}

abstract class PodTargets extends TspodCommand {
  all = Option.Boolean('-a,--all', false, { description: 'All pods' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore pods that do not exist' });
  podIdFile = Option.Array('--pod-id-file', [], { description: 'Read the pod\'s id from this file (as pod create --pod-id-file wrote it)' });
  names = Option.Rest();

  /** The pods named, and those whose id files are given (a missing file is no pod, with --ignore). */
  protected async named(): Promise<string[]> {
    const { UsageError } = await import('../../errors.js');
    const fromFiles = this.podIdFile.flatMap((f) => {
      try { return [fs.readFileSync(f, 'utf8').trim()]; } catch { if (this.ignore) return []; throw new UsageError(`reading pod ID file ${f}: no such file or directory`); }
    });
    return [...this.names, ...fromFiles];
  }

  protected async targets(e: Awaited<ReturnType<typeof engine>>): Promise<import('../../engine/pods.js').PodRecord[]> {
    const { UsageError } = await import('../../errors.js');
    const names = await this.named();
    if (this.all && names.length) throw new UsageError('--all and pod names cannot be used together');
    if (!this.all && !names.length && !(this.ignore && this.podIdFile.length)) throw new UsageError('you must provide at least one pod name or id');
    if (this.all) return e.listPods(e.store);
    return names.flatMap((n) => { try { return [e.findPod(e.store, n)]; } catch (err) { if (this.ignore) return []; throw err; } });
  }
}

export class PodStartCommand extends PodTargets {
  static paths = [['pod', 'start']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'start a pod: its infra, then its containers', examples: [['Start', '$0 pod start web']] });
  async run(): Promise<number> {
    const e = await engine();
    for (const p of await this.targets(e)) { await e.startPod(e.store, p); process.stdout.write(`${p.id}\n`); }
    return 0;
  }
}

export class PodStopCommand extends PodTargets {
  static paths = [['pod', 'stop']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'stop a pod: its containers, then its infra', examples: [['Stop', '$0 pod stop -t 2 web']] });
  time = Option.String('-t,--time', { description: 'Seconds to wait before killing each container' });
  async run(): Promise<number> {
    const e = await engine();
    for (const p of await this.targets(e)) { await e.stopPod(e.store, p, this.time === undefined ? undefined : Number(this.time)); process.stdout.write(`${p.id}\n`); }
    return 0;
  }
}

export class PodRestartCommand extends PodTargets {
  static paths = [['pod', 'restart']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'stop and start a pod', examples: [['Restart', '$0 pod restart web']] });
  async run(): Promise<number> {
    const e = await engine();
    for (const p of await this.targets(e)) { await e.stopPod(e.store, p); await e.startPod(e.store, p); process.stdout.write(`${p.id}\n`); }
    return 0;
  }
}

export class PodRemoveCommand extends PodTargets {
  static paths = [['pod', 'rm'], ['pod', 'remove']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'remove pods and their containers', details: 'A pod with running containers goes only with -f.', examples: [['Remove', '$0 pod rm web'], ['All, running or not', '$0 pod rm -af']] });
  force = Option.Boolean('-f,--force', false, { description: 'Stop and remove running containers too' });
  time = Option.String('-t,--time', { description: 'Seconds to wait before killing each running container (with -f)' });
  async run(): Promise<number> {
    const e = await engine();
    // As Podman: a pod that is not there is exit 1, and nothing at all with -f.
    let status = 0;
    const names = await this.named();
    const pods = this.all || !names.length ? await this.targets(e) : names.flatMap((n) => {
      try { return [e.findPod(e.store, n)]; } catch (err) {
        if (!this.force && !this.ignore) { process.stderr.write(`Error: ${(err as Error).message}\n`); status = 1; }
        return [];
      }
    });
    for (const p of pods) { await e.removePod(e.store, p, { force: this.force, timeoutSec: this.time === undefined ? undefined : Number(this.time) }); process.stdout.write(`${p.id}\n`); }
    return status;
  }
}

export class PodExistsCommand extends TspodCommand {
  static paths = [['pod', 'exists']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'exit 0 when the pod exists, 1 when not', examples: [['Check', '$0 pod exists web']] });
  name = Option.String({ name: 'POD' });
  async run(): Promise<number> {
    const e = await engine();
    try { e.findPod(e.store, this.name); return 0; } catch { return 1; }
  }
}

export class PodTopCommand extends TspodCommand {
  static paths = [['pod', 'top']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'the processes of a pod\'s running containers, with top\'s descriptors', examples: [['Processes', '$0 pod top web'], ['Host users', '$0 pod top web huser,pid,args']] });
  pod = Option.String({ name: 'POD' });
  descriptors = Option.Rest();
  async run(): Promise<number> {
    const [e, { tabwrite }] = await Promise.all([engine(), import('../template.js')]);
    const rows = await e.podTop(e.store, e.findPod(e.store, this.pod), this.descriptors);
    process.stdout.write(tabwrite(rows.map((r) => `${r.join('\t')}\n`).join('')));
    return 0;
  }
}

export class PodKillCommand extends PodTargets {
  static paths = [['pod', 'kill']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'send a signal to every running container of a pod', examples: [['Kill', '$0 pod kill web'], ['With SIGTERM', '$0 pod kill -s TERM web']] });
  signal = Option.String('-s,--signal', 'KILL', { description: 'The signal (default KILL)' });
  async run(): Promise<number> {
    const e = await engine();
    // A bad signal is said before any pod is looked for, as Podman does.
    (await import('../../engine/lifecycle.js')).parseSignal(this.signal);
    for (const p of await this.targets(e)) { await e.killPod(e.store, p, this.signal); process.stdout.write(`${p.id}\n`); }
    return 0;
  }
}

export class PodPruneCommand extends TspodCommand {
  static paths = [['pod', 'prune']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'remove every pod with no running container', examples: [['Prune', '$0 pod prune -f']] });
  force = Option.Boolean('-f,--force', false, { description: 'Do not ask (tspod never asks)' });
  async run(): Promise<number> {
    const e = await engine();
    for (const id of await e.prunePods(e.store)) process.stdout.write(`${id}\n`);
    return 0;
  }
}

export class PodPauseCommand extends PodTargets {
  static paths = [['pod', 'pause']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'pause every running container of a pod (needs a freezer cgroup: cgroup v2 rootless, or root)', examples: [['Pause', '$0 pod pause web']] });
  async run(): Promise<number> {
    const e = await engine();
    for (const p of await this.targets(e)) { await e.pausePod(e.store, p, true); process.stdout.write(`${p.id}\n`); }
    return 0;
  }
}

export class PodUnpauseCommand extends PodTargets {
  static paths = [['pod', 'unpause']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'unpause the containers of a pod', examples: [['Unpause', '$0 pod unpause web']] });
  async run(): Promise<number> {
    const e = await engine();
    for (const p of await this.targets(e)) { await e.pausePod(e.store, p, false); process.stdout.write(`${p.id}\n`); }
    return 0;
  }
}

export class PodLogsCommand extends TspodCommand {
  static paths = [['pod', 'logs']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'print the output of a pod\'s containers, each line marked with its container', examples: [['All of them', '$0 pod logs web'], ['One, followed', '$0 pod logs -f -c web-srv web']] });
  container = Option.String('-c,--container', { description: 'Only this container of the pod' });
  follow = Option.Boolean('-f,--follow', false, { description: 'Keep printing until the containers exit' });
  names = Option.Boolean('-n,--names', false, { description: 'Mark lines with container names, not ids' });
  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'Prefix each line with its time' });
  tail = Option.String('--tail', { description: 'Only the last N lines of each' });
  since = Option.String('--since', { description: 'Only lines since this time' });
  until = Option.String('--until', { description: 'Only lines before this time' });
  pod = Option.String({ name: 'POD' });
  async run(): Promise<number> {
    const e = await engine();
    const [{ printLogs }, { UsageError }] = await Promise.all([import('../container/lifecycle.js'), import('../../errors.js')]);
    const pod = e.findPod(e.store, this.pod);
    let members = e.podMembers(e.store, pod).filter((c) => c.id !== pod.infraId);
    if (this.container) {
      members = members.filter((c) => c.name === this.container || c.id.startsWith(this.container!));
      if (!members.length) throw new UsageError(`container ${this.container} is not in pod ${pod.name}`);
    }
    await printLogs(members, this);
    return 0;
  }
}

export class PodStatsCommand extends StatsCommand {
  static paths = [['pod', 'stats']];
  static usage = TspodCommand.Usage({ category: 'Pods', description: 'show the resource use of the containers of pods (all pods when none is named)', examples: [['Once', '$0 pod stats --no-stream web']] });

  protected async select(store: import('../../storage/store.js').Store): Promise<import('../../storage/store.js').ContainerRecord[]> {
    const pods = await import('../../engine/pods.js');
    const chosen = this.containers.length ? this.containers.map((n) => pods.findPod(store, n)) : pods.listPods(store);
    return chosen.flatMap((p) => pods.podMembers(store, p));
  }
}
