import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Option } from '../kit.js';
import { TspodCommand, tlsVerifyFlag } from '../base.js';
import { TspodError, UsageError } from '../../errors.js';

/** Podman's -f rules: relative to the context first, then to the working directory; `-` is stdin. */
function containerfilePath(given: string, context: string): string {
  if (path.isAbsolute(given)) return given;
  const inContext = path.join(context, given);
  return fs.existsSync(inContext) ? inContext : path.resolve(given);
}

function readStdin(): Buffer {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    let n: number;
    try { n = fs.readSync(0, buf, 0, buf.length, null); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((e as NodeJS.ErrnoException).code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

export class BuildCommand extends TspodCommand {
  static paths = [['build'], ['image', 'build'], ['buildx', 'build']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'build an image from a Containerfile or Dockerfile',
    details: `
      Each RUN runs as a rootless container over the layers so far; COPY and ADD write their layer directly. Every step is an image of the store, found again by the build cache (keyed by the parent, the instruction after substitution, and for COPY/ADD the content, modes and owners of what is copied, not mtimes), so an unchanged rebuild gives the same image id. Stages the target does not need are skipped; independent stages run at the same time (--jobs).
    `,
    examples: [
      ['Build the current directory', '$0 build -t localhost/app:1 .'],
      ['Another file, a build argument, one stage', '$0 build -f ci/Containerfile --build-arg VERSION=2 --target test .'],
      ['A Containerfile on stdin, no context', 'echo "FROM alpine" | $0 build -t x -'],
    ],
  });

  tag = Option.Array('-t,--tag', [], { description: 'name the image (several times for several names)' });
  file = Option.Array('-f,--file', [], { description: 'the Containerfile (default: Containerfile or Dockerfile in the context; - for stdin)' });
  buildArg = Option.Array('--build-arg', [], { description: 'ARG=VALUE, or ARG to take it from the environment' });
  buildArgFile = Option.Array('--build-arg-file', [], { description: 'a file of ARG=VALUE lines' });
  target = Option.String('--target', { description: 'build up to this stage' });
  noCache = Option.Boolean('--no-cache', false, { description: 'build every step again' });
  pull = Option.String('--pull', { tolerateBoolean: true, description: 'always, missing (default), never or newer' });
  pullAlways = Option.Boolean('--pull-always', false, { description: 'same as --pull=always' });
  pullNever = Option.Boolean('--pull-never', false, { description: 'same as --pull=never' });
  layers = Option.String('--layers', { tolerateBoolean: true, description: 'keep an image per step and use the cache (default true; BUILDAH_LAYERS)' });
  squash = Option.Boolean('--squash', false, { description: 'make the new layers of the final stage one layer' });
  label = Option.Array('--label', [], { description: 'KEY=VALUE on the image' });
  annotation = Option.Array('--annotation', [], { description: 'KEY=VALUE in the image\'s (OCI) manifest' });
  format = Option.String('--format', { description: 'oci (default) or docker' });
  iidfile = Option.String('--iidfile', { description: 'write the image id to this file' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'print only the image id' });
  network = Option.String('--network', { description: 'RUN steps\' network: the default rootless one, host or none' });
  jobs = Option.String('--jobs', { description: 'stages to run at once (default: the number of cores)' });
  ignorefile = Option.String('--ignorefile', { description: 'the ignore file (default: .containerignore or .dockerignore in the context)' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'require HTTPS for the base images\' registries (default true)' });
  certDir = Option.String('--cert-dir', { description: 'the registry\'s certificates (*.crt CAs, a *.cert with its *.key) from this directory instead of its certs.d' });
  authfile = Option.String('--authfile', { description: 'path of the authentication file' });
  platform = Option.String('--platform', { description: 'OS/ARCH: this machine\'s only' });
  logfile = Option.String('--logfile', { description: 'write the build\'s output to this file instead' });
  cacheFrom = Option.Array('--cache-from', [], { description: 'a registry repository to find build steps in (tagged by cache key)' });
  cacheTo = Option.String('--cache-to', { description: 'a registry repository to push the build\'s steps to, for other machines\' --cache-from' });
  secret = Option.Array('--secret', [], { description: 'id=ID,src=FILE or id=ID,env=VAR: a secret RUN --mount=type=secret can read, never stored in the image' });
  securityOpt = Option.Array('--security-opt', [], { description: 'RUN steps\' seccomp=unconfined|PROFILE, no-new-privileges' });
  ulimit = Option.Array('--ulimit', [], { description: 'RUN steps\' NAME=SOFT[:HARD]' });
  dns = Option.Array('--dns', [], { description: 'RUN steps\' DNS servers' });
  dnsSearch = Option.Array('--dns-search', [], { description: 'RUN steps\' DNS search domains' });
  dnsOption = Option.Array('--dns-option', [], { description: 'RUN steps\' resolver options' });
  addHost = Option.Array('--add-host', [], { description: 'HOST:IP in RUN steps\' /etc/hosts' });
  load = Option.Boolean('--load', false, { description: 'buildx: the image goes into the store (always the case)' });
  rest = Option.Rest({ name: 'CONTEXT' });

  async run(): Promise<number> {
    const [{ buildImage }, { Store }, { progressPrinter }] = await Promise.all([import('../../engine/build.js'), import('../../storage/store.js'), import('../progress.js')]);
    if (this.rest.length > 1) throw new UsageError('build takes at most one context directory');
    if (this.format !== undefined && !['oci', 'docker'].includes(this.format)) throw new UsageError(`unknown --format "${this.format}"`, 'use oci or docker');
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    if (this.platform && !this.platform.startsWith(`linux/${arch}`)) throw new UsageError(`--platform ${this.platform}: this machine builds only linux/${arch}`, 'drop --platform, or build on a machine of that platform');
    if (this.authfile && !fs.existsSync(this.authfile)) throw new TspodError('E_USAGE', `credential file is not accessible: stat ${this.authfile}: no such file or directory`);
    if (this.authfile) process.env.REGISTRY_AUTH_FILE = this.authfile;
    const pull = this.pullAlways ? 'always' : this.pullNever ? 'never' : this.pull === true ? 'always' : this.pull === undefined ? 'missing' : String(this.pull);
    if (!['always', 'missing', 'never', 'newer', 'true', 'false'].includes(pull)) throw new UsageError(`--pull ${pull}: use always, missing, never or newer`);
    const layersRaw = this.layers === undefined ? process.env.BUILDAH_LAYERS ?? 'true' : String(this.layers);
    const layers = !['false', '0'].includes(layersRaw.toLowerCase());

    // The context and the Containerfile.
    let contextArg = this.rest[0];
    let stdinText: string | undefined;
    const store = new Store();
    let cleanup = () => {};
    if (contextArg === '-') {
      // A Containerfile on stdin (no context), or a tar of the context.
      const data = readStdin();
      if (data.length >= 262 && data.subarray(257, 262).toString('latin1') === 'ustar') {
        store.init();
        const dir = store.stagingDir();
        cleanup = () => store.discard(dir);
        const t = spawnSync('tar', ['-x', '-C', dir], { input: data });
        if (t.status !== 0) throw new TspodError('E_BUILD_CONTEXT', `the context on stdin is not a tar that extracts: ${t.stderr.toString().trim().split('\n')[0]}`);
        contextArg = dir;
      } else {
        stdinText = data.toString('utf8');
        store.init();
        const dir = store.stagingDir();
        cleanup = () => store.discard(dir);
        contextArg = dir;
      }
    }
    try {
      const files = this.file;
      if (contextArg === undefined) contextArg = files.length && files[0] !== '-' ? path.dirname(path.resolve(files[0])) : '.';
      let context: string;
      try { context = fs.realpathSync(contextArg); } catch { throw new TspodError('E_BUILD_CONTEXT', `the build context ${contextArg} does not exist: stat ${path.resolve(contextArg)}: no such file or directory`); }
      if (!fs.statSync(context).isDirectory()) throw new TspodError('E_BUILD_CONTEXT', `the build context ${contextArg} is not a directory`, { hint: 'give a directory, or - for a Containerfile or a tar on stdin' });
      let text: string;
      let name: string;
      if (stdinText !== undefined && !files.length) { text = stdinText; name = 'stdin'; } else if (files.length) {
        const parts: string[] = [];
        for (const f of files) {
          if (f === '-') { parts.push(stdinText ?? readStdin().toString('utf8')); continue; }
          const p = containerfilePath(f, context);
          try { parts.push(fs.readFileSync(p, 'utf8')); } catch { throw new TspodError('E_BUILD_CONTEXT', `the Containerfile ${f} can't be read: stat ${p}: no such file or directory`); }
        }
        text = parts.join('\n');
        name = files.length === 1 && files[0] !== '-' ? path.basename(files[0]) : 'Containerfile';
      } else {
        const found = ['Containerfile', 'Dockerfile'].map((n) => path.join(context, n)).find((p) => fs.existsSync(p));
        if (!found) throw new TspodError('E_BUILD_CONTEXT', `no Containerfile or Dockerfile in the context directory: stat ${path.join(context, 'Dockerfile')}: no such file or directory`, { hint: 'add one, or name it with -f' });
        text = fs.readFileSync(found, 'utf8');
        name = path.basename(found);
      }

      const buildArgs = new Map<string, string | undefined>();
      for (const file of this.buildArgFile) {
        for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
          if (!line.trim() || line.trim().startsWith('#')) continue;
          const i = line.indexOf('=');
          if (i < 0) buildArgs.set(line.trim(), process.env[line.trim()]); else buildArgs.set(line.slice(0, i), line.slice(i + 1));
        }
      }
      for (const a of this.buildArg) {
        const i = a.indexOf('=');
        if (i < 0) buildArgs.set(a, process.env[a]); else buildArgs.set(a.slice(0, i), a.slice(i + 1));
      }
      const secrets = new Map<string, () => Buffer>();
      for (const spec of this.secret) {
        const kv = new Map(spec.split(',').map((p) => { const i = p.indexOf('='); return [i < 0 ? p : p.slice(0, i), i < 0 ? '' : p.slice(i + 1)] as [string, string]; }));
        const id = kv.get('id');
        const src = kv.get('src') ?? kv.get('source');
        const env = kv.get('env');
        if (!id || (!src && !env)) throw new UsageError(`--secret ${spec}: give id=ID and src=FILE or env=VAR`);
        if (src) {
          const file = path.resolve(src);
          if (!fs.existsSync(file)) throw new TspodError('E_USAGE', `--secret ${spec}: ${file}: no such file or directory`);
          secrets.set(id, () => fs.readFileSync(file));
        } else {
          if (process.env[env!] === undefined) throw new TspodError('E_USAGE', `--secret ${spec}: the environment has no ${env}`);
          secrets.set(id, () => Buffer.from(process.env[env!]!));
        }
      }
      const log = this.logfile ? fs.openSync(this.logfile, 'w') : undefined;
      const say = (line: string) => { if (log !== undefined) fs.writeSync(log, `${line}\n`); else process.stdout.write(`${line}\n`); };
      const proxies = ['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
      const id = await buildImage(store, {
        context, file: { text, name }, tags: this.tag, buildArgs, target: this.target, noCache: this.noCache,
        pull: pull === 'true' ? 'always' : pull === 'false' ? 'missing' : pull as 'always', layers, labels: this.label, annotations: this.annotation,
        format: this.format as 'oci' | undefined, network: this.network, jobs: this.jobs ? Number(this.jobs) : undefined, ignoreFile: this.ignorefile,
        quiet: this.quiet, runEnv: proxies, secrets, cacheFrom: this.cacheFrom, cacheTo: this.cacheTo, squash: this.squash,
        runOptions: { dns: this.dns, dnsSearch: this.dnsSearch, dnsOption: this.dnsOption, addHost: this.addHost, securityOpt: this.securityOpt, ulimits: this.ulimit },
        pullOptions: { tlsVerify: tlsVerifyFlag(this.tlsVerify), certDir: this.certDir, onProgress: progressPrinter(process.stderr, this.quiet) },
        say, onWarning: (m) => process.stderr.write(`WARN[0000] ${m}\n`),
      });
      if (log !== undefined) fs.closeSync(log);
      if (this.iidfile) fs.writeFileSync(this.iidfile, `sha256:${id}`);
      process.stdout.write(`${id}\n`);
      return 0;
    } finally {
      cleanup();
    }
  }
}
