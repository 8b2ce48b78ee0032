// Published ports: host ports that reach a container's ports. The helper that forwards them (pasta
// on the default network) binds them on the host; this module checks first that they are free, so a
// taken port is one clear error before anything starts, and finds free ports for `-p PORT` and `-P`.
import net from 'node:net';
import dgram from 'node:dgram';
import { TspodError } from '../errors.js';
import { distFile } from '../sys/index.js';
import { startProcess } from '../sys/spawn.js';

export type Protocol = 'tcp' | 'udp';

/** One -p, as Podman stores it: `range` consecutive ports from each side's first. */
export interface PortMapping {
  /** '' for every address of the host */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  range: number;
  protocol: Protocol;
}

/** A host address as Podman shows it: every address as 0.0.0.0, IPv6 in brackets. */
export const shownIp = (ip: string) => (ip === '' ? '0.0.0.0' : ip.includes(':') ? `[${ip}]` : ip);
/** `n` ports from `first`: "80", or "8000-8001". */
export const portSpanText = (first: number, n: number) => (n > 1 ? `${first}-${first + n - 1}` : `${first}`);

/** Try to bind (ip, port) for the protocol; resolves to the error code, or '' when it was free. */
function tryBind(ip: string, port: number, protocol: Protocol): Promise<{ code: string; port: number }> {
  const host = ip || '0.0.0.0';
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      s.once('error', (e: NodeJS.ErrnoException) => { s.close(); resolve({ code: e.code ?? 'EIO', port }); });
      s.bind({ address: host, port, exclusive: true }, () => { const got = s.address().port; s.close(() => resolve({ code: '', port: got })); });
      return;
    }
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ code: e.code ?? 'EIO', port }));
    s.listen({ host, port, exclusive: true }, () => { const got = (s.address() as net.AddressInfo).port; s.close(() => resolve({ code: '', port: got })); });
  });
}

/** A host port that is free now on `ip` (from the kernel's ephemeral range, so >= 1024). */
export async function freeHostPort(ip: string, protocol: Protocol): Promise<number> {
  const r = await tryBind(ip, 0, protocol);
  if (r.code) throw new TspodError('E_PORT', `cannot find a free ${protocol} port on ${shownIp(ip)}: ${r.code}`, { hint: 'give the host port yourself: -p HOST_PORT:CONTAINER_PORT' });
  return r.port;
}

/**
 * Every host port of `mappings` must be free before the helper starts: pasta would otherwise bind
 * what it can and say nothing (seen here: a taken IPv4 port silently left to IPv6 only).
 */
export async function checkPortsFree(mappings: PortMapping[]): Promise<void> {
  const checks: Array<Promise<void>> = [];
  for (const m of mappings) {
    for (let i = 0; i < m.range; i++) {
      const port = m.hostPort + i;
      checks.push(tryBind(m.hostIp, port, m.protocol).then(({ code }) => {
        if (!code) return;
        const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need net.ipv4.ip_unprivileged_port_start lowered)' : code === 'EADDRNOTAVAIL' ? 'the host has no such address' : code;
        throw new TspodError('E_PORT_IN_USE', `cannot publish ${shownIp(m.hostIp)}:${port}/${m.protocol}: ${why}`, {
          hint: code === 'EADDRINUSE' ? `another process or container holds it: stop it, or publish on another host port (-p OTHER:${m.containerPort + i})` : undefined,
        });
      }));
    }
  }
  const results = await Promise.allSettled(checks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** pasta's -t/-u options for the mappings: "[ADDR/]HOST[-END]:CTR[-END]". */
export function pastaPortArgs(mappings: PortMapping[]): string[] {
  const specs = (protocol: Protocol) => mappings.filter((m) => m.protocol === protocol)
    .map((m) => `${m.hostIp ? `${m.hostIp}/` : ''}${portSpanText(m.hostPort, m.range)}:${portSpanText(m.containerPort, m.range)}`);
  const tcp = specs('tcp'), udp = specs('udp');
  return [...(tcp.length ? tcp.flatMap((s) => ['-t', s]) : ['-t', 'none']), ...(udp.length ? udp.flatMap((s) => ['-u', s]) : ['-u', 'none'])];
}

/**
 * Start tspod-portfwd for the mappings: it binds them on the host, then forwards each connection
 * (and UDP flow) to targetIp from inside `netns`. `tag` (the container's netns path) is among its
 * arguments, so that teardown finds it. `up` settles once every port is bound; a taken one rejects it.
 */
export function startPortForwarder(netns: string, tag: string, mappings: PortMapping[], targetIp: string): { pid: number; up: Promise<void> } {
  const specs = mappings.flatMap((m) => Array.from({ length: m.range }, (_, i) => `${m.protocol}:${m.hostIp}:${m.hostPort + i}:${targetIp}:${m.containerPort + i}`));
  const fwd = startProcess(distFile('tspod-portfwd'), [netns, tag, ...specs], { stdio: ['ignore', 'pipe', 'pipe'], newSession: true, wait: false });
  const out = fwd.pipes.get(1)!, err = fwd.pipes.get(2)!;
  const up = new Promise<void>((resolve, reject) => {
    let stderr = '';
    err.on('data', (d: Buffer) => { stderr += d.toString(); });
    out.once('data', () => resolve());
    out.once('end', () => setImmediate(() => {
      const line = stderr.trim().split('\n').pop() || 'tspod-portfwd exited before it was ready';
      reject(new TspodError('E_PORT_IN_USE', line, { hint: /in use/.test(line) ? 'another process or container holds it: stop it, or publish on another host port' : undefined }));
    }));
  }).finally(() => { out.destroy(); err.destroy(); });
  return { pid: fwd.pid, up };
}
