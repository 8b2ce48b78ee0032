// Side-by-side benchmarks, tspod against Podman in the same run: the same unprivileged user, the
// same images from the same local registry, the same OCI runtime (runc). The commands are
// alternated (A B A B) and compared by median, so drift on a shared machine hits both alike.
// Run as root after .ci/setup.sh:  npm run bench [-- --runs N] [-- --only NAME]
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { getWorld, TEST_USER, ROOT, skopeoPush } from '../test/fixtures/world.js';
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
const PODMAN_RUNC = ['podman', '--runtime', 'runc'];
const PODMAN = [...PODMAN_RUNC, ...(TMPFS ? ['--root', `${TMPFS}/podman`, '--runroot', `${TMPFS}/podman-run`] : [])];

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

/** target: the most tspod/other may be; maxMs: the most tspod's median may be, where the issue names one */
interface Row { case: string; tspod: number[]; other: number[]; otherName: string; target: number; maxMs?: number; unit: string }
const rows: Row[] = [];
/** the part of the suite running: `--only run|pull|list` picks a whole part, other text the cases whose names hold it */
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

async function compare(name: string, runs: number, a: () => Sample | Promise<Sample>, b: () => Sample | Promise<Sample>, target: number, otherName = 'podman', before?: () => void, maxMs?: number): Promise<Sample[]> {
  if (ONLY && !name.includes(ONLY) && ONLY !== section) return [];
  const as: Sample[] = [], bs: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    before?.(); as.push(await a());
    before?.(); bs.push(await b());
  }
  rows.push({ case: name, tspod: as.map((s) => s.ms), other: bs.map((s) => s.ms), otherName, target, maxMs, unit: 'ms' });
  process.stderr.write(`  ${name}: done\n`);
  return as;
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
  const image = `${registry}/alpine:3.20`;
  for (const cmd of [[TSPOD, 'pull', '-q', image], [...PODMAN, 'pull', '-q', image]]) timed(cmd);

  // Startup-bound cases.
  const runNone = (tool: string[]) => () => timed([...tool, 'run', '--rm', '--network', 'none', image, 'true']);
  const runNet = (tool: string[]) => () => timed([...tool, 'run', '--rm', image, 'true']);
  timed([TSPOD, 'run', '--rm', image, 'true']); timed([...PODMAN, 'run', '--rm', image, 'true']);
  const runSamples = await compare('run --rm --network none IMAGE true', RUNS, runNone([TSPOD]), runNone(PODMAN), 0.5);
  await compare('run --rm IMAGE true (default network)', RUNS, runNet([TSPOD]), runNet(PODMAN), 0.5);
  await compare('8 x run --rm IMAGE true at once (wall)', Math.max(3, RUNS / 3), () => parallel([TSPOD, 'run', '--rm', image, 'true'], 8), () => parallel([...PODMAN, 'run', '--rm', image, 'true'], 8), 0.5);

  // The detached lifecycle: run -d, stop (the process exits on SIGTERM), rm, as one shell sequence.
  const cycle = (tool: string[]) => () => timed(['sh', '-c', `id=$(${tool.join(' ')} run -d --network none ${image} sh -c 'trap "exit 0" TERM; sleep 60 & wait') && ${tool.join(' ')} stop $id >/dev/null && ${tool.join(' ')} rm $id >/dev/null`]);
  await compare('run -d + stop + rm (one cycle)', RUNS, cycle([TSPOD]), cycle(PODMAN), 0.5);

  // Cold pulls of a ~190 MB three-layer image, and the practical limit of this disk.
  let pullRss: number[] = [];
  section = 'pull';
  if (!ONLY || ONLY.includes('pull')) {
    const refs = pushPullImage(registry);
    const stores = new PullStores(image);
    for (const kind of ['gzip', 'zstd'] as const) {
      const ref = refs[kind];
      const tspodPull = () => timed([TSPOD, 'pull', '-q', ref], [`TSPOD_STORE=${stores.current}/tspod`]);
      const podmanPull = () => timed([...stores.podman(), 'pull', '-q', ref]);
      const curlUntar = () => timed([path.join(ROOT, 'bench/curl-untar.sh'), registry, 'pullbench', kind], [`UNTAR_DIR=${stores.current}`]);
      // Five at least: a single slow disk pull moves the median of three.
      const runs = Math.max(5, Math.round(RUNS / 3));
      const pulls = await compare(`cold pull, 3 layers ${kind}`, runs, tspodPull, podmanPull, 0.5, 'podman', () => stores.next());
      pullRss = pullRss.concat(pulls.map((s) => s.rssKb));
      await compare(`cold pull, 3 layers ${kind} vs curl|${kind} -d|tar -x`, runs, tspodPull, curlUntar, 1.5, 'curl|tar', () => stores.next());
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
      quiet([TSPOD, 'pull', '-q', `${registry}/many:${i}`]); quiet([...PODMAN, 'pull', '-q', `${registry}/many:${i}`]);
      if (i === 99) imagesAt.push(insideMs([TSPOD, 'images']));
    }
    await compare(imagesCase, RUNS, () => timed([TSPOD, 'images']), () => timed([...PODMAN, 'images']), 0.5, 'podman', undefined, 150);
    growth.push({ what: '`images` with 1 / 101 / 201 images', ms: [...imagesAt, insideMs([TSPOD, 'images'])] });
    const psAt = [insideMs([TSPOD, 'ps', '-a'])];
    await parallelCreate(250, image);
    psAt.push(insideMs([TSPOD, 'ps', '-a']));
    await parallelCreate(250, image);
    await compare(psCase, RUNS, () => timed([TSPOD, 'ps', '-a']), () => timed([...PODMAN, 'ps', '-a']), 0.5, 'podman', undefined, 150);
    growth.push({ what: '`ps -a` with 0 / 250 / 500 containers', ms: [...psAt, insideMs([TSPOD, 'ps', '-a'])] });
  }

  print(runSamples.map((s) => s.rssKb), pullRss);
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

  podman(): string[] { return [...PODMAN_RUNC, '--root', `${this.current}/podman`, '--runroot', this.runroot()]; }
  // Podman refuses a run root longer than 50 characters.
  private runroot(): string { return `${this.runBase}/${this.n}`; }

  next(): void {
    if (TMPFS && this.current) for (const dir of [this.current, this.runroot()]) fs.rmSync(dir, { recursive: true, force: true });
    this.current = path.join(this.base, String(++this.n));
    spawnSync('runuser', ['-u', TEST_USER, '--', 'mkdir', '-p', this.current, this.runroot()]);
    quiet([TSPOD, 'pull', '-q', this.warmImage], [`TSPOD_STORE=${this.current}/tspod`]);
    quiet([...this.podman(), 'pull', '-q', this.warmImage]);
    spawnSync('sync');
  }

  removeAll(): void { for (const dir of [this.base, this.runBase]) fs.rmSync(dir, { recursive: true, force: true }); }
}

async function parallelCreate(n: number, image: string): Promise<void> {
  // Exited containers, made 8 at a time by each tool.
  for (let i = 0; i < n; i += 8) {
    await Promise.all([parallel([TSPOD, 'run', '--network', 'none', image, 'true'], Math.min(8, n - i)), parallel([...PODMAN, 'create', image, 'true'], Math.min(8, n - i))]);
  }
}

function print(runRss: number[], pullRss: number[]): void {
  const f = (n: number) => n.toFixed(0).padStart(7);
  const cell = (text: string) => text.replaceAll('|', '\\|'); // a pipe inside a cell would split it
  const lines = [
    `machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Linux ${os.release()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${new Date().toISOString()}`,
    '',
    '| case | tspod median ms | tspod p90 | other median ms | other p90 | other | ratio | target | result |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |',
  ];
  const out = [];
  for (const r of rows) {
    const ratio = q(r.tspod, 0.5) / q(r.other, 0.5);
    const pass = ratio <= r.target && (r.maxMs === undefined || q(r.tspod, 0.5) <= r.maxMs);
    out.push({ ...r, tspodMedian: q(r.tspod, 0.5), tspodP90: q(r.tspod, 0.9), otherMedian: q(r.other, 0.5), otherP90: q(r.other, 0.9), ratio, pass });
    const target = `<= ${r.target}${r.maxMs === undefined ? '' : `, <= ${r.maxMs} ms`}`;
    lines.push(`| ${cell(r.case)} | ${f(q(r.tspod, 0.5))} | ${f(q(r.tspod, 0.9))} | ${f(q(r.other, 0.5))} | ${f(q(r.other, 0.9))} | ${cell(r.otherName)} | ${ratio.toFixed(2)} | ${target} | ${pass ? 'pass' : 'FAIL'} |`);
  }
  const peak = (xs: number[]) => (xs.length ? Math.max(...xs) / 1024 : 0);
  if (runRss.length) lines.push(`| peak RSS of tspod during run | ${peak(runRss).toFixed(0)} MB | | | | | | <= 80 MB | ${peak(runRss) <= 80 ? 'pass' : 'FAIL'} |`);
  if (pullRss.length) lines.push(`| peak RSS of tspod during the cold pulls | ${peak(pullRss).toFixed(0)} MB | | | | | | <= 120 MB | ${peak(pullRss) <= 120 ? 'pass' : 'FAIL'} |`);
  for (const g of growth) {
    lines.push(`| growth: ${g.what}, inside Node | ${g.ms.map((m) => m.toFixed(0)).join(' / ')} ms | | | | | | half-way not below the line by > ${GROWTH_NOISE_MS} ms | ${linearEnough(g) ? 'pass' : 'FAIL'} |`);
  }
  console.log(lines.join('\n'));
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench/results/latest.json'), JSON.stringify({ date: new Date().toISOString(), runs: RUNS, rows: out, growth, runRssKb: runRss, pullRssKb: pullRss, notes }, null, 2));
  fs.writeFileSync(path.join(ROOT, 'bench/results/latest.md'), lines.join('\n') + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
