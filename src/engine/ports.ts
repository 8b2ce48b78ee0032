// -p/--publish, --expose and -P as Podman reads them, and published ports as Podman shows them
// (`port`, the PORTS column of ps, inspect's NetworkSettings.Ports and HostConfig.PortBindings).
import net from 'node:net';
import { TspodError } from '../errors.js';
import { freeHostPort, shownIp, portSpanText, type PortMapping, type Protocol } from '../net/ports.js';

/** A bad flag value: one line, with what to write instead. */
const usage = (message: string, hint?: string) => new TspodError('E_USAGE', message, { hint });

export type { PortMapping } from '../net/ports.js';

const PUBLISH_USAGE = 'use [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp], e.g. -p 8080:80 or -p 127.0.0.1:8080:80/udp';

/** "80", "8000-8010": the first port and how many; undefined when it is no port or range. */
function portSpan(text: string): { first: number; count: number } | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return undefined;
  const first = Number(m[1]), last = m[2] === undefined ? first : Number(m[2]);
  if (first < 1 || last > 65535 || last < first) return undefined;
  return { first, count: last - first + 1 };
}

function protocolOf(text: string | undefined, flag: string, spec: string): Protocol {
  const p = (text ?? 'tcp').toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  throw usage(`invalid ${flag} "${spec}": protocol "${p}" cannot be published here`, 'rootless tspod forwards tcp and udp');
}

/** One -p value. A host port of 0 means "a free one, chosen at create". */
export function parsePublish(spec: string): PortMapping[] {
  const bad = (why: string) => usage(`invalid -p/--publish "${spec}": ${why}`, PUBLISH_USAGE);
  const slash = spec.lastIndexOf('/');
  const [body, proto] = slash > spec.lastIndexOf(']') && slash >= 0 ? [spec.slice(0, slash), spec.slice(slash + 1)] : [spec, undefined];
  const protocol = protocolOf(proto, '-p/--publish', spec);
  let hostIp = '', rest = body;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(body);
  if (v6) { hostIp = v6[1]; rest = v6[2]; if (!net.isIPv6(hostIp)) throw bad(`"${hostIp}" is not an IPv6 address`); }
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) { hostIp = parts.shift()!; if (!net.isIP(hostIp)) throw bad(`"${hostIp}" is not an IP address`); }
  if (parts.length > 2 || parts.some((p, i) => p === '' && !(i === 0 && parts.length === 2))) throw bad('too many or empty fields');
  const ctr = portSpan(parts[parts.length - 1]);
  if (!ctr) throw bad(`"${parts[parts.length - 1]}" is not a port (1-65535) or range of ports`);
  const hostText = parts.length === 2 ? parts[0] : '';
  if (hostText === '') return Array.from({ length: ctr.count }, (_, i) => ({ hostIp, hostPort: 0, containerPort: ctr.first + i, range: 1, protocol }));
  const host = portSpan(hostText);
  if (!host) throw bad(`"${hostText}" is not a port (1-65535) or range of ports`);
  if (host.count !== ctr.count) throw bad(`the host range has ${host.count} ports and the container range ${ctr.count}: they must be the same length`);
  return [{ hostIp, hostPort: host.first, containerPort: ctr.first, range: ctr.count, protocol }];
}

/** One --expose value, or a key of the image's ExposedPorts ("80/tcp"): the container ports it names. */
export function parseExpose(spec: string, flag = '--expose'): Array<{ port: number; protocol: Protocol }> {
  const [ports, proto] = spec.split('/');
  const span = portSpan(ports);
  if (!span) throw usage(`invalid ${flag} "${spec}": not a port (1-65535) or range of ports`, 'use PORT[/tcp|udp] or START-END[/tcp|udp]');
  const protocol = protocolOf(proto, flag, spec);
  return Array.from({ length: span.count }, (_, i) => ({ port: span.first + i, protocol }));
}

/**
 * The container's published ports, with every host port chosen: -p as given, then, with -P, every
 * exposed port (image EXPOSE and --expose) not published already, each on a free host port.
 */
export async function resolvePorts(publish: string[], o: { publishAll?: boolean; expose?: string[]; imageExposed?: string[] }): Promise<PortMapping[]> {
  const mappings = publish.flatMap(parsePublish);
  if (o.publishAll) {
    const exposed = exposedPorts(o.expose, o.imageExposed);
    const covered = (port: number, protocol: Protocol) => mappings.some((m) => m.protocol === protocol && port >= m.containerPort && port < m.containerPort + m.range);
    for (const e of exposed) if (!covered(e.port, e.protocol)) mappings.push({ hostIp: '', hostPort: 0, containerPort: e.port, range: 1, protocol: e.protocol });
  }
  // Two host ports of one address and protocol can't both be taken by one container.
  const seen = new Set<string>();
  for (const m of mappings) {
    for (let i = 0; i < m.range && m.hostPort; i++) {
      const key = `${m.hostIp || '0.0.0.0'}:${m.hostPort + i}/${m.protocol}`;
      if (seen.has(key)) throw usage(`host port ${key} is published twice`, 'give each -p its own host port');
      seen.add(key);
    }
  }
  for (const m of mappings) if (!m.hostPort) m.hostPort = await freeHostPort(m.hostIp, m.protocol);
  return mappings;
}

/** The container's exposed ports: the image's EXPOSE, then --expose. */
function exposedPorts(expose: string[] | undefined, imageExposed: string[] | undefined): Array<{ port: number; protocol: Protocol }> {
  return [...(imageExposed ?? []).flatMap((e) => parseExpose(e, 'EXPOSE')), ...(expose ?? []).flatMap((e) => parseExpose(e))];
}

/** The exposed ports a container shows in inspect without being published: --expose and the image's. */
export function exposedKeys(expose: string[] | undefined, imageExposed: string[] | undefined): string[] {
  return exposedPorts(expose, imageExposed).map((e) => `${e.port}/${e.protocol}`);
}

/** ps's PORTS column: "0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->90-91/udp". */
export function portsColumn(mappings: PortMapping[] | undefined): string {
  return (mappings ?? []).map((m) => `${shownIp(m.hostIp)}:${portSpanText(m.hostPort, m.range)}->${portSpanText(m.containerPort, m.range)}/${m.protocol}`).join(', ');
}

/** Every single published port: ranges taken apart, as `port` and inspect list them. */
export function eachPort(mappings: PortMapping[] | undefined): Array<{ key: string; hostIp: string; hostPort: number; containerPort: number; protocol: Protocol }> {
  return (mappings ?? []).flatMap((m) => Array.from({ length: m.range }, (_, i) => ({
    key: `${m.containerPort + i}/${m.protocol}`, hostIp: m.hostIp, hostPort: m.hostPort + i, containerPort: m.containerPort + i, protocol: m.protocol,
  })));
}

/** `port`'s lines: "80/tcp -> 0.0.0.0:8080", or only the host side for one asked-for port. */
export function portLines(mappings: PortMapping[] | undefined, only?: string): string[] {
  const all = eachPort(mappings);
  if (only === undefined) return all.map((p) => `${p.key} -> ${shownIp(p.hostIp)}:${p.hostPort}`);
  const wanted = only.includes('/') ? only.toLowerCase() : `${only}/tcp`;
  return all.filter((p) => p.key === wanted).map((p) => `${shownIp(p.hostIp)}:${p.hostPort}`);
}

/** inspect's NetworkSettings.Ports (exposed ports included, as null) and HostConfig.PortBindings. */
export function inspectPorts(mappings: PortMapping[] | undefined, exposed: string[]): { ports: Record<string, unknown>; bindings: Record<string, unknown> } {
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of eachPort(mappings)) (bindings[p.key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  const ports: Record<string, unknown> = {};
  for (const key of exposed) ports[key] = null;
  return { ports: Object.assign(ports, bindings), bindings };
}
