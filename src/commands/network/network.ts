// network create, ls, inspect, rm, prune, exists, connect, disconnect, reload: user networks and who is on them.
import { Option } from '../kit.js';
import { TspodCommand, reportError, confirm } from '../base.js';
import { TspodError } from '../../errors.js';

type NetworkConfig = import('../../engine/networks.js').NetworkConfig;

/** A network as Podman's templates see it: Go's field names (the JSON keys are netavark's). */
function goView(n: NetworkConfig) {
  return {
    Name: n.name, ID: n.id, Driver: n.driver, NetworkInterface: n.network_interface, Created: n.created,
    Subnets: n.subnets.map((s) => ({ Subnet: s.subnet, Gateway: s.gateway ?? '', LeaseRange: s.lease_range ? { StartIP: s.lease_range.start_ip, EndIP: s.lease_range.end_ip } : null })),
    IPv6Enabled: n.ipv6_enabled, Internal: n.internal, DNSEnabled: n.dns_enabled, Labels: n.labels ?? {}, Options: n.options ?? {}, IPAMOptions: n.ipam_options,
  };
}

async function engine() {
  const [networks, { Store }] = await Promise.all([import('../../engine/networks.js'), import('../../storage/store.js')]);
  return { ...networks, store: new Store() };
}

export class NetworkCreateCommand extends TspodCommand {
  static paths = [['network', 'create']];
  static usage = TspodCommand.Usage({
    category: 'Networks',
    description: 'Create a network',
    details: 'A bridge network with its own subnet (the next free /24 of 10.89.0.0/16 unless --subnet says) and, unless --disable-dns, name resolution between its containers.',
    examples: [['Create', '$0 network create web'], ['With its own subnet', '$0 network create --subnet 10.90.0.0/24 --gateway 10.90.0.1 db']],
  });

  driver = Option.String('-d,--driver', 'bridge', { description: 'driver to manage the network (bridge)' });
  subnet = Option.String('--subnet', { description: 'subnet in CIDR format' });
  gateway = Option.String('--gateway', { description: 'IPv4 gateway for the subnet' });
  ipRange = Option.String('--ip-range', { description: 'allocate container IP from range' });
  internal = Option.Boolean('--internal', false, { description: 'restrict external access from this network' });
  disableDns = Option.Boolean('--disable-dns', false, { description: 'disable dns plugin' });
  label = Option.Array('--label', [], { description: 'set metadata on a network' });
  ignore = Option.Boolean('--ignore', false, { description: 'Don\'t fail if the network already exists' });
  name = Option.Rest({ name: 'NAME' });

  async run(): Promise<number> {
    const e = await engine();
    if (this.name.length > 1) throw new TspodError('E_USAGE', '`tspod network create` takes at most one name');
    if (this.ignore && this.name[0] && e.listNetworks(e.store).some((n) => n.name === this.name[0])) { process.stdout.write(`${this.name[0]}\n`); return 0; }
    const n = e.createNetwork(e.store, this.name[0], { driver: this.driver, subnet: this.subnet, gateway: this.gateway, ipRange: this.ipRange, internal: this.internal, disableDns: this.disableDns, labels: this.label });
    process.stdout.write(`${n.name}\n`);
    return 0;
  }
}

export class NetworkListCommand extends TspodCommand {
  static paths = [['network', 'ls'], ['network', 'list']];
  static usage = TspodCommand.Usage({ category: 'Networks', description: 'List networks', examples: [['List', '$0 network ls'], ['Names only', '$0 network ls -q']] });

  filter = Option.Array('-f,--filter', [], { description: 'Provide filter values (name, id, driver, label)' });
  format = Option.String('--format', { description: 'Pretty-print networks to JSON or using a Go template' });
  noHeading = Option.Boolean('--noheading', false, { description: 'Do not print headers' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate the network ID' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'display only names' });

  async run(): Promise<number> {
    const e = await engine();
    const [{ writeReport }, { parseFilters, matchesAll, matchesLabel }] = await Promise.all([import('../report.js'), import('../../engine/filters.js')]);
    const filters = parseFilters(this.filter, ['name', 'id', 'driver', 'label'], 'network ls');
    const list = e.listNetworks(e.store).filter((n) => matchesAll(filters, (key, value) => {
      switch (key) {
        case 'name': return new RegExp(value).test(n.name);
        case 'id': return n.id.startsWith(value);
        case 'driver': return n.driver === value;
        case 'label': return matchesLabel(n.labels ?? {}, value);
      }
      return false;
    }));
    if (this.quiet && !this.format) { process.stdout.write(list.map((n) => `${n.name}\n`).join('')); return 0; }
    const rows = list.map((n) => ({ ...goView(n), ID: this.noTrunc ? n.id : n.id.slice(0, 12) }));
    writeReport({ name: 'network ls', format: this.format, rows, json: () => list, defaultFormat: '{{.ID}}\t{{.Name}}\t{{.Driver}}', headers: { ID: 'NETWORK ID' }, noHeading: this.noHeading });
    return 0;
  }
}

export class NetworkInspectCommand extends TspodCommand {
  static paths = [['network', 'inspect']];
  static usage = TspodCommand.Usage({ category: 'Networks', description: 'Displays the network configuration for one or more networks', examples: [['Inspect', '$0 network inspect web']] });

  format = Option.String('-f,--format', { description: 'Pretty-print network to JSON or using a Go template' });
  names = Option.Rest({ name: 'NETWORK', required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    const found = this.names.map((n) => e.findNetwork(e.store, n));
    if (!this.format || this.format === 'json') {
      const { goJson } = await import('../template.js');
      process.stdout.write(`${goJson(found, '     ')}\n`);
      return 0;
    }
    const { printReports } = await import('../report.js');
    printReports(found.map(goView), this.format, 'network inspect');
    return 0;
  }
}

export class NetworkRmCommand extends TspodCommand {
  static paths = [['network', 'rm'], ['network', 'remove']];
  static usage = TspodCommand.Usage({ category: 'Networks', description: 'Remove networks', details: 'A network in use needs -f, which removes its containers first.', examples: [['Remove', '$0 network rm web']] });

  force = Option.Boolean('-f,--force', false, { description: 'remove any containers using the network' });
  time = Option.String('-t,--time', { description: 'Seconds to wait for running containers to stop before killing the container' });
  names = Option.Rest({ name: 'NETWORK', required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    let status = 0;
    for (const name of this.names) {
      // -f also passes over networks that are not there, as Podman's does.
      if (this.force && !e.lookupNetwork(e.store, name)) continue;
      try { process.stdout.write(`${await e.removeNetwork(e.store, name, { force: this.force, timeoutSec: this.time === undefined ? 0 : Number(this.time) })}\n`); } catch (err) {
        reportError(err);
        const code = err instanceof TspodError ? err.exitCode : 125;
        status = status === 125 ? 125 : code;
      }
    }
    return status;
  }
}

export class NetworkPruneCommand extends TspodCommand {
  static paths = [['network', 'prune']];
  static usage = TspodCommand.Usage({ category: 'Networks', description: 'Prune unused networks', details: 'Asks first, as Podman does; `-f` removes them without asking. The default network stays.', examples: [['Prune', '$0 network prune -f']] });

  force = Option.Boolean('-f,--force', false, { description: 'do not prompt for confirmation' });

  async run(): Promise<number> {
    if (!this.force && !(confirm('WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] '))) return 0;
    const e = await engine();
    process.stdout.write((await e.pruneNetworks(e.store)).map((n) => `${n}\n`).join(''));
    return 0;
  }
}

export class NetworkExistsCommand extends TspodCommand {
  static paths = [['network', 'exists']];
  static usage = TspodCommand.Usage({ category: 'Networks', description: 'network exists checks whether a network exists', examples: [['Check', '$0 network exists web']] });

  name = Option.String({ name: 'NETWORK' });

  async run(): Promise<number> {
    const e = await engine();
    return e.lookupNetwork(e.store, this.name) ? 0 : 1;
  }
}

export class NetworkConnectCommand extends TspodCommand {
  static paths = [['network', 'connect']];
  static usage = TspodCommand.Usage({
    category: 'Networks', description: 'Add container to a network',
    details: 'A running container gets a new interface (eth1, ...) on the network at once, and is found there by its name, its short id and each `--alias`; a stopped one joins it at its next start.',
    examples: [['Connect', '$0 network connect --alias db back mydb']],
  });

  alias = Option.Array('--alias', [], { description: 'network scoped alias for container' });
  ip = Option.String('--ip', { description: 'set a static ipv4 address for this container network' });
  network = Option.String({ name: 'NETWORK' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const e = await engine();
    await e.connectContainer(e.store, this.network, this.container, { aliases: this.alias, ip: this.ip });
    return 0;
  }
}

export class NetworkDisconnectCommand extends TspodCommand {
  static paths = [['network', 'disconnect']];
  static usage = TspodCommand.Usage({
    category: 'Networks', description: 'Disconnect a container from a network',
    details: 'A running container loses its interface on the network at once, and its name there is forgotten.',
    examples: [['Disconnect', '$0 network disconnect back mydb']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'force the container to disconnect from a network' });
  network = Option.String({ name: 'NETWORK' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const e = await engine();
    await e.disconnectContainer(e.store, this.network, this.container);
    return 0;
  }
}

export class NetworkReloadCommand extends TspodCommand {
  static paths = [['network', 'reload']];
  static usage = TspodCommand.Usage({
    category: 'Networks', description: 'Reload firewall rules for one or more containers',
    details: 'Sets each running container\'s user networks up again with the same addresses and MAC addresses, and their firewall rules with them (after something flushed them).',
    examples: [['All running containers', '$0 network reload --all']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'reload network configuration of all containers' });
  containers = Option.Rest({ name: 'CONTAINER' });

  async run(): Promise<number> {
    if (!this.all && !this.containers.length) throw new TspodError('E_USAGE', 'give a container, or --all', { exitCode: 125, hint: 'tspod network reload --all' });
    const e = await engine();
    process.stdout.write((await e.reloadContainers(e.store, this.containers, this.all)).map((id) => `${id}\n`).join(''));
    return 0;
  }
}
