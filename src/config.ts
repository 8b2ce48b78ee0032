// containers.conf, read as Podman reads it, for the keys that govern what tspod does: the files
// are merged in order (a later file's key wins), CONTAINERS_CONF names the only file to read.
// Loaded by the commands that need it (run, create, info), never at startup; and parsed only when
// a file changed: the result is kept in the runtime directory (tmpfs), keyed by each file's size
// and mtime, because Debian's own containers.conf alone costs ~20 ms to parse at every run.
import fs from 'node:fs';
import path from 'node:path';
import { parseToml } from './toml.js';
import { runtimeDir, userConfigHome } from './paths.js';
import { TspodError } from './errors.js';
import { parseRamSize } from './units.js';

export interface ContainersConf {
  /** the files read, in order */
  files: string[];
  /** [engine] runtime: a name (looked up in runtimes, then on PATH) or a path */
  runtime?: string;
  /** [engine.runtimes]: name -> candidate paths */
  runtimes: Record<string, string[]>;
  /** [containers] env: KEY=VALUE set in every container, under the image's and the user's */
  env: string[];
  /** [containers] tz */
  tz?: string;
  /** [containers] log_size_max, bytes (-1: no limit) */
  logSizeMax?: number;
  /** [containers] dns_servers, dns_searches, dns_options: under --dns, --dns-search, --dns-option */
  dnsServers?: string[];
  dnsSearches?: string[];
  dnsOptions?: string[];
  /** [containers] no_hosts: leave the image's /etc/hosts */
  noHosts?: boolean;
  /** [containers] base_hosts_file: the entries every container's /etc/hosts starts with (default: the host's /etc/hosts) */
  baseHostsFile?: string;
  /** [containers] host_containers_internal_ip */
  hostContainersInternalIp?: string;
  /** [containers] default_sysctls: NAME=VALUE set in every container that owns the namespace */
  defaultSysctls?: string[];
  /** [engine] infra_image: the image of pods' infra containers */
  infraImage?: string;
  /** [engine] events_logger ("file", or "none": no events kept) and events_logfile_path */
  eventsLogger?: string;
  eventsLogfilePath?: string;
  /** events_logfile_max_size: bytes the events log may reach before its older half goes */
  eventsLogfileMaxSize?: number;
  /** [containers] seccomp_profile: the default profile's file */
  seccompProfile?: string;
  /** [containers] ipcns, userns, shm_size, init, init_path */
  ipcns?: string;
  userns?: string;
  shmSize?: string;
  init?: boolean;
  initPath?: string;
}

function confFiles(): string[] {
  if (process.env.CONTAINERS_CONF) return [process.env.CONTAINERS_CONF];
  const files: string[] = [];
  for (const base of ['/usr/share/containers/containers.conf', '/etc/containers/containers.conf', path.join(userConfigHome(), 'containers/containers.conf')]) {
    files.push(base);
    try { files.push(...fs.readdirSync(`${base}.d`).filter((n) => n.endsWith('.conf')).sort().map((n) => path.join(`${base}.d`, n))); } catch { /* none */ }
  }
  return files;
}

let cached: ContainersConf | undefined;
/** Bumped whenever parseConf reads a new setting. */
const CONF_FIELDS = 6;

export function containersConf(): ContainersConf {
  if (cached) return cached;
  const files = confFiles();
  // The fields read change with tspod's version: a cache of another version is not used.
  const key = JSON.stringify([CONF_FIELDS, ...files.map((f) => { try { const st = fs.statSync(f); return [f, st.size, st.mtimeMs]; } catch { return [f]; } })]);
  const cacheFile = path.join(runtimeDir(), 'containers-conf.json');
  try {
    const saved = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { key: string; conf: ContainersConf };
    if (saved.key === key) return (cached = saved.conf);
  } catch { /* none yet, or damaged: parse */ }
  cached = parseConf(files);
  try {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
    const tmp = `${cacheFile}.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify({ key, conf: cached }));
    fs.renameSync(tmp, cacheFile);
  } catch { /* no runtime dir: parse again next time */ }
  return cached;
}

function parseConf(files: string[]): ContainersConf {
  const conf: ContainersConf = { files: [], runtimes: {}, env: [] };
  for (const file of files) {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
      if (process.env.CONTAINERS_CONF && (e as NodeJS.ErrnoException).code === 'ENOENT') throw new TspodError('E_CONFIG', `CONTAINERS_CONF names ${file}, which does not exist: create it or unset CONTAINERS_CONF`);
      continue;
    }
    let doc: Record<string, Record<string, unknown>>;
    try { doc = parseToml(text) as typeof doc; } catch (e) {
      throw new TspodError('E_CONFIG', `cannot parse ${file}: ${(e as Error).message.split('\n')[0]}: fix the TOML syntax of that file`);
    }
    conf.files.push(file);
    const engine = doc.engine ?? {}, containers = doc.containers ?? {};
    if (typeof engine.runtime === 'string') conf.runtime = engine.runtime;
    if (typeof engine.infra_image === 'string' && engine.infra_image) conf.infraImage = engine.infra_image;
    if (typeof engine.events_logger === 'string') conf.eventsLogger = engine.events_logger;
    if (typeof engine.events_logfile_path === 'string' && engine.events_logfile_path) conf.eventsLogfilePath = engine.events_logfile_path;
    if (typeof engine.events_logfile_max_size === 'number' || typeof engine.events_logfile_max_size === 'bigint') conf.eventsLogfileMaxSize = Number(engine.events_logfile_max_size);
    else if (typeof engine.events_logfile_max_size === 'string') conf.eventsLogfileMaxSize = parseRamSize(engine.events_logfile_max_size);
    if (engine.runtimes && typeof engine.runtimes === 'object') {
      for (const [name, paths] of Object.entries(engine.runtimes as Record<string, unknown>)) if (Array.isArray(paths)) conf.runtimes[name] = paths.map(String);
    }
    if (Array.isArray(containers.env)) conf.env = containers.env.map(String);
    if (typeof containers.tz === 'string') conf.tz = containers.tz;
    if (typeof containers.log_size_max === 'number' || typeof containers.log_size_max === 'bigint') conf.logSizeMax = Number(containers.log_size_max);
    const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
    conf.dnsServers = strings(containers.dns_servers) ?? conf.dnsServers;
    conf.dnsSearches = strings(containers.dns_searches) ?? conf.dnsSearches;
    conf.dnsOptions = strings(containers.dns_options) ?? conf.dnsOptions;
    if (typeof containers.no_hosts === 'boolean') conf.noHosts = containers.no_hosts;
    if (typeof containers.base_hosts_file === 'string') conf.baseHostsFile = containers.base_hosts_file;
    if (typeof containers.host_containers_internal_ip === 'string') conf.hostContainersInternalIp = containers.host_containers_internal_ip;
    conf.defaultSysctls = strings(containers.default_sysctls) ?? conf.defaultSysctls;
    if (typeof containers.seccomp_profile === 'string' && containers.seccomp_profile) conf.seccompProfile = containers.seccomp_profile;
    if (typeof containers.ipcns === 'string') conf.ipcns = containers.ipcns;
    if (typeof containers.userns === 'string') conf.userns = containers.userns;
    if (typeof containers.shm_size === 'string') conf.shmSize = containers.shm_size;
    if (typeof containers.init === 'boolean') conf.init = containers.init;
    if (typeof containers.init_path === 'string') conf.initPath = containers.init_path;
  }
  return conf;
}

/** The runtime to use: --runtime (global or the command's), else containers.conf, else automatic; a name from [engine.runtimes] becomes its first existing path. */
export function runtimeChoice(flag?: string): { name: string; path?: string } | undefined {
  const conf = containersConf();
  const choice = flag ?? process.env.TSPOD_RUNTIME ?? conf.runtime;
  if (!choice) return undefined;
  const paths = conf.runtimes[choice];
  if (paths) {
    const found = paths.find((p) => { try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; } });
    if (!found) throw new TspodError('E_RUNTIME', `OCI runtime "${choice}" not found at ${paths.join(', ')} ([engine.runtimes] in ${conf.files.join(', ')}): install it or fix the path`);
    return { name: choice, path: found };
  }
  return { name: path.basename(choice), path: choice.includes('/') ? choice : undefined };
}
