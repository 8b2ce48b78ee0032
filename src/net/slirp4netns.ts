// slirp4netns attached to a network namespace file: the container's own (the default network) or
// the usernet (user-defined networks). It configures tap0 as 10.0.2.100 with gateway 10.0.2.2 and
// a DNS forwarder on 10.0.2.3 (or the same hosts of --cidr), and runs until it is killed.
import fs from 'node:fs';
import { TspodError } from '../errors.js';
import { startProcess } from '../sys/spawn.js';

export interface SlirpOptions {
  cidr?: string;
  mtu?: string;
  /** the gateway leads to the host's loopback (Podman's allow_host_loopback=true) */
  allowHostLoopback?: boolean;
  /** its API socket, for add_hostfwd */
  apiSocket?: string;
  ipv6?: boolean;
  outboundAddr?: string;
}

/** Start it; `up` settles once tap0 is configured. Its pid is written to `pidFile` at once. */
export function startSlirp4netns(nsPath: string, pidFile: string, o: SlirpOptions = {}): { pid: number; up: Promise<void> } {
  // slirp4netns writes "1" to --ready-fd once tap0 is configured.
  const slirp = startProcess('slirp4netns', [
    '--ready-fd=3', '--netns-type=path', '--configure', `--mtu=${o.mtu ?? 65520}`, ...(o.allowHostLoopback ? [] : ['--disable-host-loopback']),
    ...(o.cidr ? [`--cidr=${o.cidr}`] : []), ...(o.apiSocket ? [`--api-socket=${o.apiSocket}`] : []), ...(o.ipv6 ? ['--enable-ipv6'] : []), ...(o.outboundAddr ? [`--outbound-addr=${o.outboundAddr}`] : []),
    nsPath, 'tap0'],
  { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], newSession: true, wait: false });
  fs.writeFileSync(pidFile, `${slirp.pid}\n`);
  const stderrPipe = slirp.pipes.get(2)!, ready = slirp.pipes.get(3)!;
  const up = new Promise<void>((resolve, reject) => {
    let stderr = '';
    const fail = (why: string) => reject(new TspodError('E_NETWORK', `slirp4netns failed: ${why}`, { hint: 'check that /dev/net/tun is usable by you, or use --network pasta or none' }));
    const timer = setTimeout(() => fail('not ready after 5 s'), 5000);
    stderrPipe.on('data', (d: Buffer) => { stderr += d.toString(); });
    ready.once('data', () => { clearTimeout(timer); resolve(); });
    // Its end of the ready pipe closes without a word when it quits early.
    ready.once('end', () => { clearTimeout(timer); fail(stderr.trim().split('\n').pop() || 'it exited before it was ready'); });
  }).finally(() => { stderrPipe.destroy(); ready.destroy(); });
  return { pid: slirp.pid, up };
}
