// system service: the Docker Engine API for docker, docker-compose and the SDKs (src/api/).
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { UsageError } from '../../errors.js';

export class SystemServiceCommand extends TspodCommand {
  static paths = [['system', 'service']];
  static usage = TspodCommand.Usage({
    category: 'System',
    description: 'serve the Docker Engine API (v1.41) while clients use it',
    details: 'Listens on $XDG_RUNTIME_DIR/tspod/tspod.sock unless given unix:///PATH or tcp://HOST:PORT (TCP has no authentication: anyone who reaches it runs containers as you). Under systemd socket activation (LISTEN_FDS) it serves the socket it is given. It exits after --time seconds with no request in flight and no open stream (0: never); containers it started run on under conmon.',
    examples: [['Serve, and point the docker CLI at it', '$0 system service --time 0 & DOCKER_HOST=unix://$XDG_RUNTIME_DIR/tspod/tspod.sock docker ps'], ['On TCP, for a test', '$0 system service --time 60 tcp://127.0.0.1:2375']],
  });

  time = Option.String('-t,--time', '5', { description: 'seconds without requests before the service exits (0: never)' });
  cors = Option.String('--cors', { description: 'the Access-Control-Allow-Origin header to send, e.g. "*"' });
  rest = Option.Rest({ name: 'URI' });

  async run(): Promise<number> {
    const { parseEndpoint, serve } = await import('../../api/service.js');
    if (this.rest.length > 1) throw new UsageError('system service takes at most one URI');
    const uri = this.rest[0];
    const idleSeconds = Number(this.time);
    if (!Number.isFinite(idleSeconds) || idleSeconds < 0) throw new UsageError(`--time ${this.time}: give a number of seconds (0: never exit)`);
    // Socket activation: systemd's socket is fd 3. The LISTEN_ variables are ours, not the containers' we start.
    const activated = !uri && Number(process.env.LISTEN_FDS) >= 1;
    for (const k of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete process.env[k];
    const endpoint = activated ? { kind: 'fd' as const, fd: 3 } : parseEndpoint(uri);
    if (endpoint.kind === 'tcp') process.stderr.write(`Warning: serving the API on tcp://${endpoint.host}:${endpoint.port} without authentication: whoever can reach it runs containers as you\n`);
    await serve({ endpoint, idleSeconds, cors: this.cors });
    return 0;
  }
}
