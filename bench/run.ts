// Side-by-side benchmarks, tspod against Podman in the same run: the same unprivileged user, the
// same images from the same local registry, the same OCI runtime (runc). The commands are
// alternated (A B A B) and compared by median, so drift on a shared machine hits both alike.
// Run as root after .ci/setup.sh:  npm run bench [-- --runs N] [-- --only NAME]
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { getWorld, startRegistry, TEST_USER, ROOT, skopeoPush } from '../test/fixtures/world.js';
import { OciLayout, gunzipFile } from '../test/fixtures/oci-layout.js';
import { pushPullImage } from './pull-image.js';
import { SHARED_IMAGES } from '../test/fixtures/world.js';

const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const RUNS = Number(arg('--runs')) || 15;
const ONLY = arg('--only');
const HOME = `/home/${TEST_USER}`;
// --tmpfs: the pulls write to /dev/shm (tspod's store, Podman's root, the curl|tar target), to compare
// the pipelines rather than this VM's disk, whose speed drifts by 2-3x from one pull to the next.
const TMPFS = process.argv.includes('--tmpfs') ? '/dev/shm/tspod-bench' : undefined;
const ENV = ['env', '-i', `HOME=${HOME}`, `USER=${TEST_USER}`, 'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', ...(TMPFS ? [`TSPOD_STORE=${TMPFS}/tspod`, `UNTAR_DIR=${TMPFS}`] : [])];
const TSPOD = path.join(ROOT, 'bin/tspod');
const UID = Number(spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout.trim());
// Podman at its best: native overlay, named on every command (with no storage.conf, Debian's Podman
// picks vfs here, which copies whole image roots). vfs, what Debian's default gives, is an extra column.
const PODMAN_RUNC = ['podman', '--runtime', 'runc'];
const PODMAN = [...PODMAN_RUNC, '--storage-driver', 'overlay', ...(TMPFS ? ['--root', `${TMPFS}/podman`, '--runroot', `${TMPFS}/podman-run`] : [])];
// Podman refuses a run root longer than 50 characters.
const PODMAN_VFS = [...PODMAN_RUNC, '--storage-driver', 'vfs', '--root', TMPFS ? `${TMPFS}/podman-vfs` : `${HOME}/.local/share/containers/vfs`, '--runroot', TMPFS ? `${TMPFS}/podman-vfs-run` : `/tmp/podman-vfs-${UID}`];
const WITH_VFS = !process.argv.includes('--no-vfs');

interface Sample { ms: number; rssKb: number }

/** runuser's arguments to run `cmd` as the test user, with the bench's clean environment plus `env`. */
const asUser = (cmd: string[], env: string[] = []) => ['-u', TEST_USER, '--', ...ENV, ...env, ...cmd];

/** Run a command as the test user; wall time, and the peak RSS of its biggest process (GNU time). */
function timed(cmd: string[], env: string[] = []): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('runuser', asUser(['/usr/bin/time', '-f', '%M', ...cmd], env), { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], cwd: '/' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, rssKb: Number(r.stderr.trim().split('\n').pop()) };
}

function quiet(cmd: string[], env: string[] = []): void {
  spawnSync('runuser', asUser(cmd, env), { stdio: 'ignore', cwd: '/' });
}

async function parallel(cmd: string[], n: number): Promise<Sample> {
  const t0 = process.hrtime.bigint();
  const codes = await Promise.all(Array.from({ length: n }, () => new Promise<number>((resolve) => {
    spawn('runuser', asUser(cmd), { stdio: 'ignore', cwd: '/' }).on('exit', (c) => resolve(c ?? -1));
  })));
  if (codes.some((c) => c !== 0)) throw new Error(`${cmd.join(' ')}: exit codes ${codes}`);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, rssKb: 0 };
}

const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))]; };

/**
 * target: the most tspod / the first other may be; maxMs: the most tspod's median may be, where the
 * issue names one. Further others (Podman on vfs) are shown beside, not judged.
 */
interface Row { case: string; tspod: number[]; others: Array<{ name: string; ms: number[] }>; target: number; maxMs?: number }
type Runner = () => Sample | Promise<Sample>;
const rows: Row[] = [];
/** the part of the suite running: `--only run|pull|list|transfer|net` picks a whole part, other text the cases whose names hold it */
let section = 'run';
/** A listing's own median time (Node's start left out) at none, half and all of its items. */
interface Growth { what: string; ms: number[] }
const growth: Growth[] = [];
const GROWTH_NOISE_MS = 10;
/** Linear or better: the half-way time is not below the straight line from none to all (a square law puts it a quarter of the rise below). */
const linearEnough = (g: Growth) => g.ms[1] >= (g.ms[0] + g.ms[2]) / 2 - GROWTH_NOISE_MS;

/**
 * The median of a command's own time, from its TSPOD_TRACE marks (from "commands loaded" to
 * "command finished"): what grows with the items, without Node's start and its noise.
 */
function insideMs(cmd: string[]): number {
  const samples = Array.from({ length: RUNS }, () => {
    const r = spawnSync('runuser', asUser(cmd, ['TSPOD_TRACE=1']), { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], cwd: '/' });
    const at = (label: string) => Number(/trace\s+([\d.]+) ms.*/.exec(r.stderr.split('\n').find((l) => l.endsWith(label)) ?? '')?.[1]);
    const ms = at('command finished') - at('commands loaded');
    if (r.status !== 0 || Number.isNaN(ms)) throw new Error(`${cmd.join(' ')} failed or left no trace (${r.status}): ${r.stderr}`);
    return ms;
  });
  return q(samples, 0.5);
}
const notes: string[] = [];

/** Run tspod and the others alternately (A B C A B C), `before` ahead of each. The first other is the one the target is against. */
async function compare(name: string, runs: number, tspod: Runner, others: Array<[string, Runner]>, target: number, opts: { before?: () => void; maxMs?: number } = {}): Promise<Sample[]> {
  if (ONLY && !name.includes(ONLY) && ONLY !== section) return [];
  const as: Sample[] = [];
  const bs = others.map(() => [] as Sample[]);
  for (let i = 0; i < runs; i++) {
    opts.before?.(); as.push(await tspod());
    for (const [j, [, run]] of others.entries()) { opts.before?.(); bs[j].push(await run()); }
  }
  rows.push({ case: name, tspod: as.map((s) => s.ms), others: others.map(([n], j) => ({ name: n, ms: bs[j].map((s) => s.ms) })), target, maxMs: opts.maxMs });
  process.stderr.write(`  ${name}: done\n`);
  return as;
}

/** Podman on overlay, and on vfs unless --no-vfs: the same command for both. */
const podmans = (args: (podman: string[]) => Runner): Array<[string, Runner]> =>
  [['podman overlay', args(PODMAN)], ...(WITH_VFS ? [['podman vfs', args(PODMAN_VFS)] as [string, Runner]] : [])];

/** Fail loudly if Podman fell back from native overlay: the comparison would flatter tspod. */
function checkPodmanDriver(cmd: string[], want: string): void {
  const r = spawnSync('runuser', asUser([...cmd, 'info', '--format', '{{.Store.GraphDriverName}} {{index .Store.GraphStatus "Native Overlay Diff"}}']), { encoding: 'utf8', cwd: '/' });
  const [driver, nativeDiff] = r.stdout.trim().split(' ');
  if (driver !== want || (want === 'overlay' && nativeDiff !== 'true')) throw new Error(`Podman runs on "${r.stdout.trim()}" here, not ${want}${want === 'overlay' ? ' with native overlay diff' : ''}: ${r.stderr}`);
  notes.push(`Podman ${cmd.join(' ')}: ${r.stdout.trim()}`);
}

async function main(): Promise<void> {
  if (TMPFS) {
    fs.rmSync(TMPFS, { recursive: true, force: true });
    spawnSync('runuser', ['-u', TEST_USER, '--', 'mkdir', '-p', TMPFS]);
    notes.push('Stores on tmpfs (/dev/shm) for every tool (--tmpfs).');
  }
  const { registry } = await getWorld();
  // getWorld empties tspod's store; Podman's must start empty too, or its listings count every
  // earlier run's images and containers (they reached 1,000 rows and 2,048 containers, its lock limit).
  quiet([...PODMAN, 'system', 'reset', '--force']);
  if (WITH_VFS) quiet([...PODMAN_VFS, 'system', 'reset', '--force']);
  checkPodmanDriver(PODMAN, 'overlay');
  if (WITH_VFS) checkPodmanDriver(PODMAN_VFS, 'vfs');
  const image = `${registry}/alpine:3.20`;
  for (const cmd of [[TSPOD, 'pull', '-q', image], [...PODMAN, 'pull', '-q', image], ...(WITH_VFS ? [[...PODMAN_VFS, 'pull', '-q', image]] : [])]) timed(cmd);

  // Startup-bound cases.
  const runNone = (tool: string[]) => () => timed([...tool, 'run', '--rm', '--network', 'none', image, 'true']);
  const runNet = (tool: string[]) => () => timed([...tool, 'run', '--rm', image, 'true']);
  for (const tool of [[TSPOD], PODMAN, ...(WITH_VFS ? [PODMAN_VFS] : [])]) timed([...tool, 'run', '--rm', image, 'true']);
  const runSamples = await compare('run --rm --network none IMAGE true', RUNS, runNone([TSPOD]), podmans(runNone), 0.5);
  await compare('run --rm IMAGE true (default network)', RUNS, runNet([TSPOD]), podmans(runNet), 0.5);
  const eight = (tool: string[]) => () => parallel([...tool, 'run', '--rm', image, 'true'], 8);
  await compare('8 x run --rm IMAGE true at once (wall)', Math.max(3, RUNS / 3), eight([TSPOD]), podmans(eight), 0.4);

  // The detached lifecycle: run -d, stop (the process exits on SIGTERM), rm, as one shell sequence.
  const cycle = (tool: string[]) => () => timed(['sh', '-c', `id=$(${tool.join(' ')} run -d --network none ${image} sh -c 'trap "exit 0" TERM; sleep 60 & wait') && ${tool.join(' ')} stop $id >/dev/null && ${tool.join(' ')} rm $id >/dev/null`]);
  await compare('run -d + stop + rm (one cycle)', RUNS, cycle([TSPOD]), podmans(cycle), 0.5);

  // exec in a running container.
  const execIn = (tool: string[]) => () => timed([...tool, 'exec', 'bench-exec', 'true']);
  if (!ONLY || ONLY === 'run' || 'exec CTR true'.includes(ONLY)) {
    for (const tool of [[TSPOD], PODMAN, ...(WITH_VFS ? [PODMAN_VFS] : [])]) { quiet([...tool, 'rm', '-f', 'bench-exec']); timed([...tool, 'run', '-d', '--name', 'bench-exec', '--network', 'none', image, 'sleep', '3600']); }
    await compare('exec CTR true', RUNS, execIn([TSPOD]), podmans(execIn), 0.5);
    for (const tool of [[TSPOD], PODMAN, ...(WITH_VFS ? [PODMAN_VFS] : [])]) quiet([...tool, 'rm', '-f', ...(tool[0] === TSPOD ? [] : ['-t', '0']), 'bench-exec']);
  }

  // Cold pulls of a ~190 MB three-layer image, and the practical limit of this disk.
  let pullRss: number[] = [];
  section = 'pull';
  if (!ONLY || ONLY.includes('pull')) {
    const refs = pushPullImage(registry);
    const stores = new PullStores(image);
    for (const kind of ['gzip', 'zstd'] as const) {
      const ref = refs[kind];
      const tspodPull = () => timed([TSPOD, 'pull', '-q', ref], [`TSPOD_STORE=${stores.current}/tspod`]);
      const podmanPull = (driver: 'overlay' | 'vfs') => () => timed([...stores.podman(driver), 'pull', '-q', ref]);
      const curlUntar = () => timed([path.join(ROOT, 'bench/curl-untar.sh'), registry, 'pullbench', kind], [`UNTAR_DIR=${stores.current}`]);
      // Five at least: a single slow disk pull moves the median of three.
      const runs = Math.max(5, Math.round(RUNS / 3));
      const pulls = await compare(`cold pull, 3 layers ${kind}`, runs, tspodPull,
        [['podman overlay', podmanPull('overlay')], ...(WITH_VFS ? [['podman vfs', podmanPull('vfs')] as [string, Runner]] : [])], 0.5, { before: () => stores.next() });
      pullRss = pullRss.concat(pulls.map((s) => s.rssKb));
      await compare(`cold pull, 3 layers ${kind} vs curl|${kind} -d|tar -x`, runs, tspodPull, [['curl|tar', curlUntar]], 1.2, { before: () => stores.next() });
    }
    stores.removeAll();
  }

  // Listing: 200 images and 500 containers; and tspod's own time at none, half and all of them, to
  // see how it grows.
  section = 'list';
  const imagesCase = 'images (200 images)', psCase = 'ps -a (500 containers)';
  if (!ONLY || ONLY === 'list' || [imagesCase, psCase].some((name) => name.includes(ONLY))) {
    const imagesAt = [insideMs([TSPOD, 'images'])];
    seedManyImages(registry, 200);
    for (let i = 0; i < 200; i++) {
      for (const tool of [[TSPOD], PODMAN, ...(WITH_VFS ? [PODMAN_VFS] : [])]) quiet([...tool, 'pull', '-q', `${registry}/many:${i}`]);
      if (i === 99) imagesAt.push(insideMs([TSPOD, 'images']));
    }
    await compare(imagesCase, RUNS, () => timed([TSPOD, 'images']), podmans((p) => () => timed([...p, 'images'])), 0.5, { maxMs: 100 });
    growth.push({ what: '`images` with 1 / 101 / 201 images', ms: [...imagesAt, insideMs([TSPOD, 'images'])] });
    const psAt = [insideMs([TSPOD, 'ps', '-a'])];
    await parallelCreate(250, image);
    psAt.push(insideMs([TSPOD, 'ps', '-a']));
    await parallelCreate(250, image);
    await compare(psCase, RUNS, () => timed([TSPOD, 'ps', '-a']), podmans((p) => () => timed([...p, 'ps', '-a'])), 0.5, { maxMs: 100 });
    growth.push({ what: '`ps -a` with 0 / 250 / 500 containers', ms: [...psAt, insideMs([TSPOD, 'ps', '-a'])] });
  }

  section = 'build';
  if (!ONLY || ONLY === 'build') await buildCases(image);

  section = 'transfer';
  let pushRss: number[] = [];
  if (!ONLY || ONLY === 'transfer' || ['push', 'save', 'load', 'commit'].some((w) => ONLY.includes(w))) pushRss = await imageOutCases(registry);

  section = 'net';
  if (!ONLY || ONLY === 'net' || ONLY.includes('-p')) await networkCases(`${registry}/web:latest`);

  section = 'pods';
  if (!ONLY || ONLY === 'pods' || ['pod', 'kube', 'unit'].some((w) => ONLY.includes(w))) await podCases(image, `${registry}/web:latest`);

  section = 'api';
  if (!ONLY || ONLY === 'api' || ['docker', 'compose', 'activation'].some((w) => ONLY.includes(w))) await apiCases(image);

  print(runSamples.map((s) => s.rssKb), pullRss, pushRss);
}

/**
 * The Docker Engine API: the docker CLI and docker-compose against `tspod system service` and
 * `podman system service`, each on its own socket; and the time from socket activation (systemd's
 * systemd-socket-activate holding the socket) to the first answered _ping.
 */
async function apiCases(image: string): Promise<void> {
  const dir = `/tmp/tspod-bench-api-${process.pid}`;
  fs.mkdirSync(dir, { mode: 0o700 });
  spawnSync('chown', [`${TEST_USER}:${TEST_USER}`, dir]);
  const services: Array<[string, string[]]> = [['tspod', [TSPOD]], ['podman overlay', PODMAN], ...(WITH_VFS ? [['podman vfs', PODMAN_VFS] as [string, string[]]] : [])];
  const sock = (label: string) => path.join(dir, `${label.replace(/\W+/g, '-')}.sock`);
  const procs = services.map(([label, tool]) => {
    timed([...tool, 'pull', '-q', image]);
    return spawn('runuser', asUser([...tool, 'system', 'service', '--time', '0', `unix://${sock(label)}`]), { stdio: 'ignore', cwd: '/' });
  });
  const ping = (s: string) => `until curl -sf -o /dev/null --unix-socket ${s} http://d/_ping; do sleep 0.005; done`;
  try {
    for (const [label] of services) {
      for (let i = 0; i < 200 && !fs.existsSync(sock(label)); i++) await new Promise((r) => setTimeout(r, 50));
      quiet(['sh', '-c', ping(sock(label))]);
    }
    const docker = (label: string, args: string) => () => timed(['sh', '-c', `docker ${args} >/dev/null`], [`DOCKER_HOST=unix://${sock(label)}`]);
    const others = (args: string) => services.slice(1).map(([label]) => [label, docker(label, args)] as [string, Runner]);
    await compare('docker run --rm IMAGE true (through the service)', RUNS, docker('tspod', `run --rm ${image} true`), others(`run --rm ${image} true`), 0.5);
    const ps20 = (label: string) => () => timed(['sh', '-c', `pids=""; for i in $(seq 20); do docker ps -q >/dev/null & pids="$pids $!"; done; for p in $pids; do wait $p || exit 1; done`], [`DOCKER_HOST=unix://${sock(label)}`]);
    // Each client must get its answer (a failure stops the bench); the time is shown, not judged.
    await compare('20 concurrent docker ps', RUNS, ps20('tspod'), services.slice(1).map(([label]) => [label, ps20(label)] as [string, Runner]), NaN);
    const project = path.join(dir, 'compose');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'docker-compose.yml'), `version: "3"\nservices:\n  db:\n    image: ${image}\n    command: sleep 300\n  web:\n    image: ${image}\n    command: sleep 300\n    depends_on:\n      - db\n`);
    spawnSync('chown', ['-R', `${TEST_USER}:${TEST_USER}`, project]);
    const up = (label: string) => () => {
      const env = [`DOCKER_HOST=unix://${sock(label)}`];
      const s = timed(['sh', '-c', `cd ${project} && docker-compose up -d 2>/dev/null`], env);
      quiet(['sh', '-c', `cd ${project} && docker-compose down -t 0 2>/dev/null`], env);
      return s;
    };
    await compare('docker-compose up -d of two services', RUNS, up('tspod'), services.slice(1).map(([label]) => [label, up(label)] as [string, Runner]), 0.5);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    spawnSync('pkill', ['-u', TEST_USER, '-f', `system service --time 0 unix://${dir}`]);
  }
  // Socket activation: the socket is systemd-socket-activate's; the service starts on the first connection.
  const activated = (tool: string[], label: string) => async (): Promise<Sample> => {
    const s = path.join(dir, `act-${label.replace(/\W+/g, '-')}.sock`);
    fs.rmSync(s, { force: true });
    const act = spawn('runuser', asUser(['systemd-socket-activate', '-l', s, ...tool, 'system', 'service', '--time', '0']), { stdio: 'ignore', cwd: '/' });
    for (let i = 0; i < 200 && !fs.existsSync(s); i++) await new Promise((r) => setTimeout(r, 10));
    const sample = timed(['sh', '-c', ping(s)]);
    act.kill('SIGTERM');
    spawnSync('pkill', ['-u', TEST_USER, '-f', `system service --time 0$`]);
    await new Promise((r) => setTimeout(r, 200));
    return sample;
  };
  await compare('socket activation to the first answered _ping', RUNS, activated([TSPOD], 'tspod'), services.slice(1).map(([label, tool]) => [label, activated(tool, label)] as [string, Runner]), 0.5);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Pods: create one and run two members in it; kube play a two-container pod until both run (the
 * command returns once they do, for both tools); and a generated --new unit started by a real
 * `systemctl --user start` until its container serves on its published port.
 */
async function podCases(image: string, webImage: string): Promise<void> {
  const tools: Array<[string, string[]]> = [['tspod', [TSPOD]], ['podman overlay', PODMAN], ...(WITH_VFS ? [['podman vfs', PODMAN_VFS] as [string, string[]]] : [])];
  for (const [, tool] of tools) { timed([...tool, 'pull', '-q', webImage]); quiet([...tool, 'pod', 'rm', '-f', '-t', '0', '-a']); }
  const runner = (script: (tool: string) => string, cleanup: (tool: string[]) => void) => (tool: string[]) => () => {
    const sample = timed(['sh', '-c', script(tool.join(' '))]);
    cleanup(tool);
    return sample;
  };
  // Each tool builds its pause image on its first pod: once before the samples.
  for (const [, tool] of tools) { quiet([...tool, 'pod', 'create', '--name', 'bench-warm']); quiet([...tool, 'pod', 'rm', '-f', 'bench-warm']); }
  const podTwo = runner((t) => `${t} pod create --name bench-pod >/dev/null && ${t} run -d --pod bench-pod ${image} sleep 300 >/dev/null && ${t} run -d --pod bench-pod ${image} sleep 300 >/dev/null`,
    (tool) => quiet([...tool, 'pod', 'rm', '-f', '-t', '0', 'bench-pod']));
  await compare('pod create + 2 members running', RUNS, podTwo([TSPOD]), podmans((p) => podTwo(p)), 0.5);
  const yaml = fs.mkdtempSync('/tmp/tspod-bench-kube-');
  fs.chmodSync(yaml, 0o755);
  const file = path.join(yaml, 'pod.yaml');
  fs.writeFileSync(file, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: bench-kube\nspec:\n  containers:\n  - name: a\n    image: ${image}\n    command: ["sleep", "300"]\n  - name: b\n    image: ${image}\n    command: ["sleep", "300"]\n`);
  fs.chmodSync(file, 0o644);
  const play = runner((t) => `${t} kube play ${file} >/dev/null`, (tool) => quiet([...tool, 'pod', 'rm', '-f', '-t', '0', 'bench-kube']));
  await compare('kube play of a 2-container pod until both run', RUNS, play([TSPOD]), podmans((p) => play(p)), 0.5);
  fs.rmSync(yaml, { recursive: true, force: true });
  await unitCases(webImage, tools);
}

/**
 * A generated --new unit (tspod's, and Podman's own generate systemd --new) started by a real
 * systemd --user (../shared/systemd-user/) until the container answers on its published port.
 */
async function unitCases(webImage: string, tools: Array<[string, string[]]>): Promise<void> {
  const run = `/tmp/tspod-bench-sd-${process.pid}`;
  const cgroup = fs.existsSync('/sys/fs/cgroup/unified') ? `/sys/fs/cgroup/unified/tspod-bench-sd-${process.pid}` : `/sys/fs/cgroup/tspod-bench-sd-${process.pid}`;
  fs.mkdirSync(run, { mode: 0o700 });
  spawnSync('chown', [`${TEST_USER}:${TEST_USER}`, run]);
  spawn('setsid', ['unshare', '-m', '--propagation', 'private', 'bash', path.join(ROOT, '../shared/systemd-user/user-systemd.sh'), TEST_USER, run, cgroup], { stdio: 'ignore', detached: true }).unref();
  const user = (cmd: string[]) => spawnSync('runuser', asUser(cmd, [`XDG_RUNTIME_DIR=${run}`]), { encoding: 'utf8', cwd: '/' });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) { await new Promise((r) => setTimeout(r, 100)); up = user(['systemctl', '--user', 'show-environment']).status === 0; }
  const units = `${HOME}/.config/systemd/user`;
  spawnSync('runuser', ['-u', TEST_USER, '--', 'mkdir', '-p', units]);
  const names: string[] = [];
  try {
    if (!up) { notes.push('systemctl --user start case skipped: systemd --user did not start here.'); return; }
    const ports = new Map<string, number>();
    for (const [label, tool] of tools) {
      const name = `bench-unit-${label.replace(/\W+/g, '-')}`;
      const port = freePort();
      ports.set(label, port);
      user([...tool, 'rm', '-f', '-t', '0', name]);
      const made = user([...tool, 'create', '--name', name, '-p', `${port}:80`, webImage]);
      if (made.status !== 0) throw new Error(`${label} create: ${made.stderr}`);
      const gen = spawnSync('runuser', asUser([...tool, 'generate', 'systemd', '--new', '--name', '--files', name], [`XDG_RUNTIME_DIR=${run}`]), { encoding: 'utf8', cwd: units });
      if (gen.status !== 0) throw new Error(`${label} generate systemd: ${gen.stderr}`);
      user([...tool, 'rm', '-f', '-t', '0', name]);
      names.push(`container-${name}.service`);
    }
    user(['systemctl', '--user', 'daemon-reload']);
    const start = (label: string, unit: string) => () => {
      const s = timed(['sh', '-c', `systemctl --user start ${unit} && ${FIRST_BYTE(ports.get(label)!)}`], [`XDG_RUNTIME_DIR=${run}`]);
      user(['systemctl', '--user', 'stop', unit]);
      return s;
    };
    await compare('systemctl --user start of a generated --new unit until it serves', RUNS, start('tspod', names[0]),
      tools.slice(1).map(([label], i) => [label, start(label, names[i + 1])] as [string, Runner]), 0.5);
  } finally {
    for (const n of names) { user(['systemctl', '--user', 'stop', n]); fs.rmSync(path.join(units, n), { force: true }); }
    user(['systemctl', '--user', 'exit']);
    spawnSync('sh', ['-c', `sleep 1; find ${cgroup} -depth -type d -exec rmdir {} \\; 2>/dev/null; pkill -u ${TEST_USER} -f ${run}; rm -rf ${run}`]);
  }
}

/** A port nobody listens on, found by binding port 0 (the test user then binds it: above 1024). */
function freePort(): number {
  const r = spawnSync('python3', ['-c', 'import socket;s=socket.socket();s.bind(("0.0.0.0",0));print(s.getsockname()[1])'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

/** Poll the port with curl until the server answers: the first byte that reaches the host. */
const FIRST_BYTE = (port: number) => `until curl -s -o /dev/null -m 1 http://127.0.0.1:${port}/; do sleep 0.005; done`;

/**
 * Published ports: throughput of a 200 MB download through -p from the container's httpd (and the
 * same curl from an httpd on the host, the limit here), and the time from `run -d -p` to the first
 * byte, one and eight at once.
 */
async function networkCases(webImage: string): Promise<void> {
  for (const tool of [[TSPOD], PODMAN, ...(WITH_VFS ? [PODMAN_VFS] : [])]) timed([...tool, 'pull', '-q', webImage]);
  const www = fs.mkdtempSync('/tmp/tspod-bench-www-');
  fs.chmodSync(www, 0o755);
  spawnSync('sh', ['-c', `head -c ${200 << 20} /dev/urandom > ${www}/big.bin && chmod 644 ${www}/big.bin`]);
  const serve = ['-v', `${www}:/srv:ro`, webImage, '/opt/bb/busybox', 'httpd', '-f', '-p', '80', '-h', '/srv'];
  const download = (port: number) => () => timed(['curl', '-s', '-o', '/dev/null', '-f', `http://127.0.0.1:${port}/big.bin`]);
  const tools: Array<[string, string[]]> = [['tspod', [TSPOD]], ['podman overlay', PODMAN], ...(WITH_VFS ? [['podman vfs', PODMAN_VFS] as [string, string[]]] : [])];
  const hostPort = freePort();
  const hostHttpd = spawn('runuser', asUser(['/bin/busybox', 'httpd', '-f', '-p', `127.0.0.1:${hostPort}`, '-h', www]), { stdio: 'ignore' });
  // A user network of each tool's own (Podman's: netavark in its rootless netns, rootlessport per port).
  for (const [, tool] of tools) { quiet([...tool, 'network', 'rm', '-f', 'bench-net']); quiet([...tool, 'network', 'create', 'bench-net']); }
  try {
    for (const network of ['default', 'bench-net']) {
      const ports = tools.map(() => freePort());
      tools.forEach(([, tool], i) => quiet([...tool, 'run', '-d', '--name', 'bench-web', ...(network === 'default' ? [] : ['--network', network]), '-p', `${ports[i]}:80`, ...serve]));
      for (const p of [...ports, hostPort]) timed(['sh', '-c', FIRST_BYTE(p)]);
      const mb = 200 * 1.048576;
      const label = network === 'default' ? 'default network' : 'user network';
      const rs = await compare(`curl 200 MB through -p (${label})`, RUNS, download(ports[0]),
        [...tools.slice(1).map(([name], i) => [name, download(ports[i + 1])] as [string, Runner]), ['host httpd', download(hostPort)]], 1.0);
      if (rs.length) {
        const row = rows[rows.length - 1];
        notes.push(`Throughput through -p on the ${label}, MB/s (median): tspod ${(mb / (q(row.tspod, 0.5) / 1000)).toFixed(0)}, ${row.others.map((o) => `${o.name} ${(mb / (q(o.ms, 0.5) / 1000)).toFixed(0)}`).join(', ')} (the host's own httpd is this machine's limit).`);
      }
      for (const [, tool] of tools) quiet([...tool, 'rm', '-f', '-t', '0', 'bench-web']);
    }
    await compare('run --rm --network NET true (user network)', RUNS, () => timed([TSPOD, 'run', '--rm', '--network', 'bench-net', webImage, 'true']),
      podmans((p) => () => timed([...p, 'run', '--rm', '--network', 'bench-net', webImage, 'true'])), 0.5);
  } finally {
    hostHttpd.kill();
    for (const [, tool] of tools) { quiet([...tool, 'rm', '-f', '-t', '0', 'bench-web']); quiet([...tool, 'network', 'rm', '-f', 'bench-net']); }
  }

  // run -d -p until the first byte reaches the host; the container is removed after each sample.
  const untilServed = (tool: string[]) => () => {
    const port = freePort();
    const s = timed(['sh', '-c', `${tool.join(' ')} run -d --name bench-fb -p ${port}:80 ${webImage} >/dev/null && ${FIRST_BYTE(port)}`]);
    quiet([...tool, 'rm', '-f', '-t', '0', 'bench-fb']);
    return s;
  };
  await compare('run -d -p H:80 httpd until its first byte', RUNS, untilServed([TSPOD]), podmans(untilServed), 0.5);
  const eightServed = (tool: string[]) => () => {
    const ps = Array.from({ length: 8 }, () => freePort());
    const script = ps.map((p, i) => `(${tool.join(' ')} run -d --name bench-fb${i} -p ${p}:80 ${webImage} >/dev/null && ${FIRST_BYTE(p)}) &`).join(' ') + ' wait';
    const s = timed(['sh', '-c', script]);
    quiet([...tool, 'rm', '-f', '-t', '0', ...ps.map((_, i) => `bench-fb${i}`)]);
    return s;
  };
  await compare('8 x run -d -p httpd at once, until every first byte (wall)', Math.max(3, Math.round(RUNS / 3)), eightServed([TSPOD]), podmans(eightServed), 0.5);
  fs.rmSync(www, { recursive: true, force: true });
}

/**
 * push of the pull bench's image to an empty registry (a new one for every sample, so neither tool
 * finds a blob there or a place to mount one from), save, and load into an empty store.
 */
async function imageOutCases(registry: string): Promise<number[]> {
  const ref = pushPullImage(registry).gzip;
  const stores = new PullStores(`${registry}/alpine:3.20`);
  stores.next();
  const tspodEnv = [`TSPOD_STORE=${stores.current}/tspod`];
  timed([TSPOD, 'pull', '-q', ref], tspodEnv);
  timed([...stores.podman('overlay'), 'pull', '-q', ref]);
  const layerHexes = spawnSync('runuser', asUser([TSPOD, 'image', 'inspect', '--format', '{{range .RootFS.Layers}}{{.}} {{end}}', ref], tspodEnv), { encoding: 'utf8' }).stdout.trim().split(/\s+/).map((d) => d.slice(7));
  const work = fs.mkdtempSync('/tmp/tspod-bench-out-');
  fs.chmodSync(work, 0o777);
  const pushTo = (cmd: string[], env: string[] = []) => async (): Promise<Sample> => {
    const reg = await startRegistry();
    try { return timed([...cmd, 'push', '-q', '--tls-verify=false', ref, `${reg.host}/pushed:1`], env); } finally { reg.proc.kill('SIGKILL'); fs.rmSync(reg.dir, { recursive: true, force: true }); }
  };
  const limit = async (): Promise<Sample> => {
    const reg = await startRegistry();
    try { return timed([TSPOD, 'unshare', path.join(ROOT, 'bench/tar-gzip-curl.sh'), `${stores.current}/tspod`, reg.host, ...layerHexes], tspodEnv); } finally { reg.proc.kill('SIGKILL'); fs.rmSync(reg.dir, { recursive: true, force: true }); }
  };
  const pushes = await compare('push, 3 layers gzip, to an empty registry', Math.max(3, Math.round(RUNS / 3)), pushTo([TSPOD], tspodEnv), [['podman overlay', pushTo(stores.podman('overlay'))], ['tar|gzip|curl', limit]], 0.5);
  const archive = (tool: string) => path.join(work, `${tool}.tar`);
  const save = (cmd: string[], tool: string, env: string[] = []) => () => { fs.rmSync(archive(tool), { force: true }); return timed([...cmd, 'save', '-q', '-o', archive(tool), ref], env); };
  await compare('save, 3 layers (docker-archive)', Math.max(3, Math.round(RUNS / 3)), save([TSPOD], 'tspod', tspodEnv), [['podman overlay', save(stores.podman('overlay'), 'podman')]], 0.5);
  // Both load the same archive (tspod's) into empty stores.
  const loadStores = new PullStores(`${registry}/alpine:3.20`);
  await compare('load, 3 layers, into an empty store', Math.max(3, Math.round(RUNS / 3)),
    () => timed([TSPOD, 'load', '-q', '-i', archive('tspod')], [`TSPOD_STORE=${loadStores.current}/tspod`]),
    [['podman overlay', () => timed([...loadStores.podman('overlay'), 'load', '-q', '-i', archive('tspod')])]], 0.5, { before: () => loadStores.next() });
  loadStores.removeAll();
  // commit of a container that wrote 100 MB in 2,000 files (made, and removed after, outside the timing).
  const alpine = `${registry}/alpine:3.20`;
  const write = 'mkdir /w && for i in $(seq 2000); do head -c 51200 /dev/urandom > /w/f$i; done';
  let n = 0;
  const commitOf = (cmd: string[], env: string[] = []) => () => {
    const name = `bench-commit-${++n}`;
    timed([...cmd, 'run', '--name', name, '--network', 'none', alpine, 'sh', '-c', write], env);
    const s = timed([...cmd, 'commit', '-q', name, `localhost/${name}:1`], env);
    quiet([...cmd, 'rm', '-f', name], env);
    quiet([...cmd, 'rmi', `localhost/${name}:1`], env);
    return s;
  };
  await compare('commit, 100 MB in 2,000 files', Math.max(3, Math.round(RUNS / 3)), commitOf([TSPOD], tspodEnv), [['podman overlay', commitOf(stores.podman('overlay'))]], 0.5);
  stores.removeAll();
  fs.rmSync(work, { recursive: true, force: true });
  return pushes.map((p) => p.rssKb);
}

/**
 * build of a small app (a dependency step that writes ~2,000 files, then the source and a step
 * over it): cold with --no-cache, fully cached, and after an edit of one source file.
 */
async function buildCases(base: string): Promise<void> {
  const ctx = fs.mkdtempSync('/tmp/tspod-bench-build-');
  fs.mkdirSync(path.join(ctx, 'src'));
  fs.writeFileSync(path.join(ctx, 'package.json'), '{"name":"app","dependencies":{"left-pad":"1"}}\n');
  fs.writeFileSync(path.join(ctx, 'src/main.js'), 'console.log("v0")\n');
  fs.writeFileSync(path.join(ctx, 'Containerfile'), [
    `FROM ${base}`,
    // No WORKDIR: buildah 1.28 fails a COPY after it over this base ("history lists 1 non-empty layers, but we have 2").
    'COPY package.json /app/',
    // ~2,000 files of 2 KiB: what an `npm ci` of a small app leaves.
    'RUN mkdir -p /app/node_modules && for i in $(seq 2000); do head -c 2048 /dev/zero > /app/node_modules/m$i.js; done',
    'COPY src /app/src',
    'RUN cat /app/src/main.js > /app/build.js',
    'CMD ["cat", "/app/build.js"]',
    '',
  ].join('\n'));
  spawnSync('chmod', ['-R', 'a+rwX', ctx]);
  const build = (tool: string[], extra: string[] = []) => () => timed([...tool, 'build', '-q', ...extra, '-t', 'localhost/bench-build:1', ctx]);
  for (const tool of [[TSPOD], PODMAN, ...(WITH_VFS ? [PODMAN_VFS] : [])]) timed([...tool, 'build', '-q', '-t', 'localhost/bench-build:1', ctx]);
  await compare('build --no-cache (2,000-file dependency step, then the source)', Math.max(3, Math.round(RUNS / 3)), build([TSPOD], ['--no-cache']), podmans((p) => build(p, ['--no-cache'])), 0.5);
  await compare('build, fully cached', RUNS, build([TSPOD]), podmans((p) => build(p)), 0.3);
  let edits = 0;
  const edit = () => fs.writeFileSync(path.join(ctx, 'src/main.js'), `console.log("v${++edits}")\n`);
  await compare('build after a source edit', RUNS, build([TSPOD]), podmans((p) => build(p)), 0.5, { before: edit });
  for (const tool of [[TSPOD], PODMAN, ...(WITH_VFS ? [PODMAN_VFS] : [])]) { quiet([...tool, 'rmi', '-f', 'localhost/bench-build:1']); quiet([...tool, 'image', 'prune', '-f']); }
  fs.rmSync(ctx, { recursive: true, force: true });
}

function seedManyImages(registry: string, n: number): void {
  const dir = fs.mkdtempSync('/tmp/tspod-bench-many-');
  const layout = new OciLayout(dir);
  const tar = gunzipFile(path.join(SHARED_IMAGES, 'alpine-minirootfs-3.20.3-x86_64.tar.gz'));
  for (let i = 0; i < n; i++) layout.tag(String(i), [layout.image({ layers: [{ tar }], config: { Labels: { n: String(i) } } })]);
  for (let i = 0; i < n; i++) skopeoPush(dir, String(i), `${registry}/many:${i}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A fresh set of stores (tspod's, Podman's, the curl|tar target) for every pull sample, each holding
 * only the small image, rather than emptying one store between samples: on this VM's ext4, which has
 * no journal, creating files within a minute of deleting thousands is 3-6x slower (the inode allocator
 * reads past each recently deleted inode), and that, not the pull, decided the disk figures.
 * On disk they are all removed at the end; on tmpfs, which has no such cost, each goes with the next.
 */
class PullStores {
  private readonly base = TMPFS ? path.join(TMPFS, 'pulls') : path.join(HOME, '.cache/tspod-bench-pulls');
  private readonly runBase = `${TMPFS ?? '/tmp'}/tspod-bench-pr`;
  private n = 0;
  current = '';
  constructor(private readonly warmImage: string) { this.removeAll(); }

  podman(driver: 'overlay' | 'vfs'): string[] { return [...PODMAN_RUNC, '--storage-driver', driver, '--root', `${this.current}/podman-${driver}`, '--runroot', this.runroot(driver)]; }
  // Podman refuses a run root longer than 50 characters.
  private runroot(driver: string): string { return `${this.runBase}/${this.n}${driver[0]}`; }

  next(): void {
    if (TMPFS && this.current) for (const dir of [this.current, this.runroot('overlay'), this.runroot('vfs')]) fs.rmSync(dir, { recursive: true, force: true });
    this.current = path.join(this.base, String(++this.n));
    spawnSync('runuser', ['-u', TEST_USER, '--', 'mkdir', '-p', this.current, this.runroot('overlay'), this.runroot('vfs')]);
    quiet([TSPOD, 'pull', '-q', this.warmImage], [`TSPOD_STORE=${this.current}/tspod`]);
    quiet([...this.podman('overlay'), 'pull', '-q', this.warmImage]);
    if (WITH_VFS) quiet([...this.podman('vfs'), 'pull', '-q', this.warmImage]);
    spawnSync('sync');
  }

  removeAll(): void { for (const dir of [this.base, this.runBase]) fs.rmSync(dir, { recursive: true, force: true }); }
}

async function parallelCreate(n: number, image: string): Promise<void> {
  // Exited containers, made 8 at a time by each tool.
  for (let i = 0; i < n; i += 8) {
    const k = Math.min(8, n - i);
    await Promise.all([parallel([TSPOD, 'run', '--network', 'none', image, 'true'], k), parallel([...PODMAN, 'create', image, 'true'], k), ...(WITH_VFS ? [parallel([...PODMAN_VFS, 'create', image, 'true'], k)] : [])]);
  }
}

function print(runRss: number[], pullRss: number[], pushRss: number[] = []): void {
  const f = (n: number) => n.toFixed(0).padStart(7);
  const cell = (text: string) => text.replaceAll('|', '\\|'); // a pipe inside a cell would split it
  const lines = [
    `machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Linux ${os.release()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${new Date().toISOString()}`,
    '',
    '| case | tspod ms (p90) | podman overlay / other ms (p90) | ratio | target | result | podman vfs ms (p90) | ratio |',
    '| --- | ---: | ---: | ---: | --- | --- | ---: | ---: |',
  ];
  const out = [];
  const ms = (xs: number[]) => `${f(q(xs, 0.5))} (${q(xs, 0.9).toFixed(0)})`;
  for (const r of rows) {
    const [ref, ...extra] = r.others;
    const ratio = q(r.tspod, 0.5) / q(ref.ms, 0.5);
    // A NaN target: no ratio asked for, only that every sample succeeded (a failed command throws).
    const pass = Number.isNaN(r.target) || (ratio <= r.target && (r.maxMs === undefined || q(r.tspod, 0.5) <= r.maxMs));
    out.push({ ...r, tspodMedian: q(r.tspod, 0.5), tspodP90: q(r.tspod, 0.9), others: r.others.map((o) => ({ ...o, median: q(o.ms, 0.5), p90: q(o.ms, 0.9), ratio: q(r.tspod, 0.5) / q(o.ms, 0.5) })), ratio, pass });
    const target = Number.isNaN(r.target) ? 'all answer' : `<= ${r.target}${r.maxMs === undefined ? '' : `, <= ${r.maxMs} ms`}`;
    const vfs = extra.find((o) => o.name === 'podman vfs');
    lines.push(`| ${cell(r.case)} | ${ms(r.tspod)} | ${ms(ref.ms)}${ref.name === 'podman overlay' ? '' : ` ${cell(ref.name)}`} | ${ratio.toFixed(2)} | ${target} | ${pass ? 'pass' : 'FAIL'} | ${vfs ? ms(vfs.ms) : ''} | ${vfs ? (q(r.tspod, 0.5) / q(vfs.ms, 0.5)).toFixed(2) : ''} |`);
  }
  const peak = (xs: number[]) => (xs.length ? Math.max(...xs) / 1024 : 0);
  if (runRss.length) lines.push(`| peak RSS of tspod during run | ${peak(runRss).toFixed(0)} MB | | | <= 80 MB | ${peak(runRss) <= 80 ? 'pass' : 'FAIL'} | | |`);
  if (pullRss.length) lines.push(`| peak RSS of tspod during the cold pulls | ${peak(pullRss).toFixed(0)} MB | | | <= 120 MB | ${peak(pullRss) <= 120 ? 'pass' : 'FAIL'} | | |`);
  if (pushRss.length) lines.push(`| peak RSS of tspod during the pushes | ${peak(pushRss).toFixed(0)} MB | | | <= 120 MB | ${peak(pushRss) <= 120 ? 'pass' : 'FAIL'} | | |`);
  for (const g of growth) {
    lines.push(`| growth: ${g.what}, inside Node | ${g.ms.map((m) => m.toFixed(0)).join(' / ')} ms | | | half-way not below the line by > ${GROWTH_NOISE_MS} ms | ${linearEnough(g) ? 'pass' : 'FAIL'} | | |`);
  }
  for (const n of notes) lines.push('', n);
  console.log(lines.join('\n'));
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench/results/latest.json'), JSON.stringify({ date: new Date().toISOString(), runs: RUNS, rows: out, growth, runRssKb: runRss, pullRssKb: pullRss, notes }, null, 2));
  fs.writeFileSync(path.join(ROOT, 'bench/results/latest.md'), lines.join('\n') + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
