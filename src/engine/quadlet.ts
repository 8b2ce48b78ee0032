// Quadlet: .container, .volume, .network, .kube, .pod and .image files (Podman's Quadlet keys)
// turned into systemd units that run tspod. `tspod quadlet` is the systemd user generator that
// writes them (and the .wants links their [Install] asks for); --dryrun prints them.
// Unlike Podman 4.4's Quadlet, no --cgroups=split: it fails on cgroup v1, and tspod's conmon runs
// in the unit's own cgroup anyway.
import fs from 'node:fs';
import path from 'node:path';
import { userConfigHome, hostUid } from '../paths.js';

const KINDS = ['container', 'volume', 'network', 'kube', 'pod', 'image'] as const;
type Kind = typeof KINDS[number];

interface Section { name: string; entries: Array<[string, string]> }
interface Source { file: string; name: string; kind: Kind; sections: Section[] }
export interface QuadletUnit { name: string; text: string; source: string; wantedBy: string[]; requiredBy: string[] }

/** The directories Quadlet reads for a user, the first holding a name winning. */
export function quadletDirs(): string[] {
  const uid = hostUid();
  if (uid === 0) return ['/etc/containers/systemd', '/usr/share/containers/systemd'];
  return [path.join(userConfigHome(), 'containers', 'systemd'), `/etc/containers/systemd/users/${uid}`, '/etc/containers/systemd/users'];
}

/** A unit file's sections, in order; continuation lines (a trailing \) joined, comments dropped. */
export function parseUnitFile(text: string): Section[] {
  const sections: Section[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i].trim()}`;
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) { sections.push({ name: head[1], entries: [] }); continue; }
    const eq = line.indexOf('=');
    if (eq <= 0 || !sections.length) throw new Error(`"${line}" is not KEY=VALUE in a [Section]`);
    sections[sections.length - 1].entries.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** Words as systemd splits a command line or a list: spaces outside quotes, "..." and '...' quoted, \ escapes. */
export function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '', quote = '', any = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === '\'') { quote = c; any = true; }
    else if (c === '\\' && i + 1 < s.length) { cur += s[++i]; any = true; }
    else if (/\s/.test(c)) { if (cur || any) out.push(cur); cur = ''; any = false; }
    else cur += c;
  }
  if (quote) throw new Error(`unbalanced quotes in "${s}"`);
  if (cur || any) out.push(cur);
  return out;
}

/** A word on an Exec line: quoted when systemd would split it; specifiers (%N) are left to systemd. */
function quote(w: string): string {
  return /[\s"'\\;]/.test(w) || w === '' ? `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : w;
}

const boolean = (v: string) => ['1', 'yes', 'true', 'on'].includes(v.toLowerCase());

/** Read every Quadlet file of the directories (drop-ins NAME.d/*.conf appended), the first of a name winning. */
export function readQuadletSources(dirs: string[]): { sources: Source[]; errors: string[] } {
  const seen = new Set<string>();
  const sources: Source[] = [];
  const errors: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try { names = fs.readdirSync(dir).sort(); } catch { continue; }
    for (const name of names) {
      const kind = path.extname(name).slice(1) as Kind;
      if (!KINDS.includes(kind) || seen.has(name)) continue;
      seen.add(name);
      const file = path.join(dir, name);
      try {
        let text = fs.readFileSync(file, 'utf8');
        const dropins = path.join(dir, `${name}.d`);
        try { for (const d of fs.readdirSync(dropins).filter((f) => f.endsWith('.conf')).sort()) text += `\n${fs.readFileSync(path.join(dropins, d), 'utf8')}`; } catch { /* none */ }
        sources.push({ file, name, kind, sections: parseUnitFile(text) });
      } catch (e) { errors.push(`${file}: ${(e as Error).message}`); }
    }
  }
  return { sources, errors };
}

const SECTION: Record<Kind, string> = { container: 'Container', volume: 'Volume', network: 'Network', kube: 'Kube', pod: 'Pod', image: 'Image' };
const base = (name: string) => name.replace(/\.[^.]+$/, '');
/** The service a Quadlet file becomes: foo.container is foo.service, foo.volume foo-volume.service, ... */
export const serviceName = (name: string) => (name.endsWith('.container') || name.endsWith('.kube') ? `${base(name)}.service` : `${base(name)}-${path.extname(name).slice(1)}.service`);

class UnsupportedKey extends Error {}

/** Turn the files into units; a file with an unknown key or a bad reference is reported and skipped, as Quadlet does. */
export function generateQuadlet(sources: Source[], o: { executable: string }): { units: QuadletUnit[]; errors: string[] } {
  const units: QuadletUnit[] = [];
  const errors: string[] = [];
  const byName = new Map(sources.map((s) => [s.name, s]));
  for (const src of sources) {
    try { units.push(generateOne(src, byName, sources, o.executable)); } catch (e) { errors.push(`${src.file}: ${(e as Error).message}`); }
  }
  return { units, errors };
}

function entriesOf(src: Source, section: string): Array<[string, string]> {
  return src.sections.filter((s) => s.name === section).flatMap((s) => s.entries);
}

/** The object name a .volume/.network/.pod/.image file stands for (VolumeName=, NetworkName=, ... or systemd-NAME). */
function objectName(src: Source): string {
  const key = { volume: 'VolumeName', network: 'NetworkName', pod: 'PodName', image: 'Image', container: 'ContainerName', kube: '' }[src.kind];
  const given = entriesOf(src, SECTION[src.kind]).filter(([k]) => k === key || (src.kind === 'image' && k === 'ImageTag')).pop()?.[1];
  return given ?? `systemd-${base(src.name)}`;
}

function generateOne(src: Source, byName: Map<string, Source>, all: Source[], exe: string): QuadletUnit {
  const own = entriesOf(src, SECTION[src.kind]);
  const unitLines: string[] = [`SourcePath=${src.file}`, 'RequiresMountsFor=%t/containers'];
  const service: string[] = [];
  const globals: string[] = [];
  const args: string[] = [];
  /** A reference to another Quadlet file: its object's name, and this unit ordered after (and needing) its service. */
  const ref = (value: string, kind: Kind, bind = false): string => {
    if (!value.endsWith(`.${kind}`)) return value;
    const other = byName.get(value);
    if (!other) throw new Error(`requires ${value}, which is not in any Quadlet directory`);
    const svc = serviceName(value);
    unitLines.push(`${bind ? 'BindsTo' : 'Requires'}=${svc}`, `After=${svc}`);
    return objectName(other);
  };
  const handled = (keys: Record<string, (v: string) => void>) => {
    for (const [k, v] of own) {
      const h = keys[k];
      if (!h) throw new UnsupportedKey(`unsupported key '${k}' in group '${SECTION[src.kind]}'`);
      h(v);
    }
  };
  const flag = (name: string) => (v: string) => args.push(name, v);
  const words = (name: string) => (v: string) => { for (const w of splitWords(v)) args.push(name, w); };
  const common = { PodmanArgs: (v: string) => args.push(...splitWords(v)), GlobalArgs: (v: string) => globals.push(...splitWords(v)) };
  let exec: string[] = [];
  const name = serviceName(src.name);
  if (src.kind === 'container') {
    let image = '';
    let cname = `systemd-%N`;
    let notify = 'conmon';
    let user: string | undefined, group: string | undefined;
    let entrypointExec: string[] = [];
    handled({
      ...common,
      Image: (v) => { image = ref(v, 'image'); }, Exec: (v) => { entrypointExec = splitWords(v); }, ContainerName: (v) => { cname = v; },
      PublishPort: flag('-p'), Volume: (v) => { const [s, ...rest] = v.split(':'); args.push('-v', [ref(s, 'volume'), ...rest].join(':')); },
      Mount: (v) => args.push('--mount', v.split(',').map((p) => (p.startsWith('source=') || p.startsWith('src=') ? p.replace(/=(.*)$/, (_, x: string) => `=${ref(x, 'volume')}`) : p)).join(',')),
      Tmpfs: flag('--tmpfs'), Environment: words('-e'), EnvironmentFile: flag('--env-file'), EnvironmentHost: (v) => { if (boolean(v)) args.push('--env-host'); },
      Network: (v) => { const [n, ...rest] = v.split(':'); args.push('--network', [ref(n, 'network'), ...rest].join(':')); },
      Pod: (v) => { if (!v.endsWith('.pod')) throw new Error(`Pod=${v}: give the name of a .pod file`); ref(v, 'pod', true); args.push('--pod-id-file', `%t/${serviceName(v).replace(/\.service$/, '')}.pod-id`); },
      Label: words('-l'), Annotation: words('--annotation'), User: (v) => { user = v; }, Group: (v) => { group = v; }, UserNS: flag('--userns'),
      Notify: (v) => { notify = boolean(v) ? 'container' : 'conmon'; },
      HealthCmd: flag('--health-cmd'), HealthInterval: flag('--health-interval'), HealthRetries: flag('--health-retries'), HealthTimeout: flag('--health-timeout'),
      HealthStartPeriod: flag('--health-start-period'), HealthOnFailure: flag('--health-on-failure'),
      AddCapability: words('--cap-add'), DropCapability: words('--cap-drop'), ReadOnly: (v) => { if (boolean(v)) args.push('--read-only'); },
      ReadOnlyTmpfs: (v) => args.push(`--read-only-tmpfs=${boolean(v)}`), WorkingDir: flag('-w'), HostName: flag('--hostname'), Timezone: flag('--tz'),
      LogDriver: flag('--log-driver'), Secret: flag('--secret'), Ulimit: flag('--ulimit'), Sysctl: words('--sysctl'), ShmSize: flag('--shm-size'),
      DNS: flag('--dns'), DNSSearch: flag('--dns-search'), DNSOption: flag('--dns-option'), IP: flag('--ip'), ExposeHostPort: flag('--expose'), AddDevice: flag('--device'),
      NoNewPrivileges: (v) => { if (boolean(v)) args.push('--security-opt', 'no-new-privileges'); }, SeccompProfile: (v) => args.push('--security-opt', `seccomp=${v}`),
      RunInit: (v) => { if (boolean(v)) args.push('--init'); }, StopTimeout: flag('--stop-timeout'), Pull: flag('--pull'), StopSignal: flag('--stop-signal'),
      AutoUpdate: (v) => args.push('--label', `io.containers.autoupdate=${v}`), Entrypoint: flag('--entrypoint'), Memory: flag('--memory'),
      GroupAdd: flag('--group-add'), Unmask: flag('--security-opt'), Mask: flag('--security-opt'),
    });
    if (!image) throw new Error('no Image key specified');
    if (user !== undefined || group !== undefined) args.push('--user', group === undefined ? user! : `${user ?? ''}:${group}`);
    exec = [exe, ...globals, 'run', `--name=${cname}`, '--cidfile=%t/%N.cid', '--replace', '--rm', `--sdnotify=${notify}`, '-d', ...args, image, ...entrypointExec];
    const rm = [exe, ...globals, 'rm', '-v', '-f', '-i', '--cidfile=%t/%N.cid'].map(quote).join(' ');
    service.push('Environment=PODMAN_SYSTEMD_UNIT=%n', 'KillMode=mixed', `ExecStop=${rm}`, `ExecStopPost=-${rm}`,
      'Delegate=yes', 'Type=notify', 'NotifyAccess=all', 'SyslogIdentifier=%N');
  } else if (src.kind === 'volume' || src.kind === 'network') {
    const opts: string[] = [];
    if (src.kind === 'volume') {
      handled({
        ...common, VolumeName: () => {}, Label: words('--label'), Driver: (v) => { if (v !== 'local') throw new Error(`Driver=${v}: tspod has the local driver only`); },
        Device: (v) => opts.push(`device=${v}`), Type: (v) => opts.push(`type=${v}`), Options: (v) => opts.push(`o=${v}`),
        User: (v) => opts.push(`uid=${v}`), Group: (v) => opts.push(`gid=${v}`), Copy: (v) => { if (!boolean(v)) args.push('--opt', 'nocopy'); },
      });
    } else {
      handled({
        ...common, NetworkName: () => {}, Label: words('--label'), Subnet: flag('--subnet'), Gateway: flag('--gateway'), IPRange: flag('--ip-range'),
        Internal: (v) => { if (boolean(v)) args.push('--internal'); }, Driver: flag('--driver'), DisableDNS: (v) => { if (boolean(v)) args.push('--disable-dns'); },
      });
    }
    exec = [exe, ...globals, src.kind, 'create', '--ignore', ...opts.flatMap((x) => ['--opt', x]), ...args, objectName(src)];
    service.push('Type=oneshot', 'RemainAfterExit=yes', 'SyslogIdentifier=%N');
  } else if (src.kind === 'image') {
    handled({
      ...common, Image: () => {}, ImageTag: () => {}, TLSVerify: (v) => args.push(`--tls-verify=${boolean(v)}`), AllTags: (v) => { if (boolean(v)) args.push('--all-tags'); },
    });
    const image = own.filter(([k]) => k === 'Image').pop()?.[1];
    if (!image) throw new Error('no Image key specified');
    exec = [exe, ...globals, 'image', 'pull', ...args, image];
    service.push('Type=oneshot', 'RemainAfterExit=yes', 'SyslogIdentifier=%N');
  } else if (src.kind === 'kube') {
    let yaml = '';
    handled({
      ...common, Yaml: (v) => { yaml = path.resolve(path.dirname(src.file), v); }, Network: (v) => args.push('--network', ref(v, 'network')),
      ConfigMap: (v) => args.push('--configmap', path.resolve(path.dirname(src.file), v)), LogDriver: flag('--log-driver'),
    });
    if (!yaml) throw new Error('no Yaml key specified');
    exec = [exe, ...globals, 'kube', 'play', '--replace', '--service-container=true', ...args, yaml];
    service.push('Environment=PODMAN_SYSTEMD_UNIT=%n', 'KillMode=mixed', 'Type=notify', 'NotifyAccess=all', 'SyslogIdentifier=%N',
      `ExecStopPost=${[exe, ...globals, 'kube', 'down', yaml].map(quote).join(' ')}`);
  } else {
    // .pod: the pod made at start (its infra is the unit's main process); its .container members bound to it.
    handled({ ...common, PodName: () => {}, Network: (v) => args.push('--network', ref(v, 'network')), PublishPort: flag('--publish'), Label: words('--label') });
    const members = all.filter((s) => s.kind === 'container' && entriesOf(s, 'Container').some(([k, v]) => k === 'Pod' && v === src.name)).map((s) => serviceName(s.name));
    if (members.length) unitLines.push(`Wants=${members.join(' ')}`, `Before=${members.join(' ')}`);
    const files = ['--pod-id-file=%t/%N.pod-id'];
    service.push('Environment=PODMAN_SYSTEMD_UNIT=%n', 'Type=forking', 'PIDFile=%t/%N.pid', 'SyslogIdentifier=%N',
      `ExecStartPre=${[exe, ...globals, 'pod', 'create', '--infra-conmon-pidfile=%t/%N.pid', ...files, '--exit-policy=stop', '--replace', ...args, '--name', objectName(src)].map(quote).join(' ')}`,
      `ExecStop=${[exe, ...globals, 'pod', 'stop', ...files, '--ignore', '--time=10'].map(quote).join(' ')}`,
      `ExecStopPost=${[exe, ...globals, 'pod', 'rm', ...files, '--ignore', '--force'].map(quote).join(' ')}`);
    exec = [exe, ...globals, 'pod', 'start', ...files];
  }
  // The user's own sections pass through ([Unit] and [Service] merged with ours, theirs last so theirs win); the Quadlet group is kept as X-NAME, which systemd ignores.
  const text: string[] = [`# Automatically generated by tspod quadlet from ${src.file}`, '', '[X-' + SECTION[src.kind] + ']', ...own.map(([k, v]) => `${k}=${v}`), ''];
  const userSection = (n: string) => entriesOf(src, n).map(([k, v]) => `${k}=${v}`);
  text.push('[Unit]', ...unitLines, ...userSection('Unit'), '');
  text.push('[Service]', ...service, ...userSection('Service'), `ExecStart=${exec.map(quote).join(' ')}`, '');
  const install = entriesOf(src, 'Install');
  if (install.length) text.push('[Install]', ...install.map(([k, v]) => `${k}=${v}`), '');
  for (const s of src.sections) {
    if ([SECTION[src.kind], 'Unit', 'Service', 'Install'].includes(s.name)) continue;
    text.push(`[${s.name}]`, ...s.entries.map(([k, v]) => `${k}=${v}`), '');
  }
  const list = (k: string) => install.filter(([key]) => key === k).flatMap(([, v]) => splitWords(v));
  return { name, text: text.join('\n'), source: src.file, wantedBy: list('WantedBy'), requiredBy: list('RequiredBy') };
}

/**
 * As a generator: the units into OUTPUT, with the .wants/.requires links their [Install] asks
 * for (a generator's units cannot be enabled with systemctl).
 */
export function writeQuadletUnits(output: string, units: QuadletUnit[]): void {
  fs.mkdirSync(output, { recursive: true });
  for (const u of units) {
    fs.writeFileSync(path.join(output, u.name), u.text);
    for (const [targets, suffix] of [[u.wantedBy, 'wants'], [u.requiredBy, 'requires']] as const) {
      for (const t of targets) {
        const dir = path.join(output, `${t}.${suffix}`);
        fs.mkdirSync(dir, { recursive: true });
        try { fs.symlinkSync(path.join('..', u.name), path.join(dir, u.name)); } catch { /* there already */ }
      }
    }
  }
}
