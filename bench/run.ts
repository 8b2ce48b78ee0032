// Side-by-side benchmarks, tspod against Podman in the same run: the same unprivileged user, the
// same images from the same local registry, the same OCI runtime (runc). The two commands are
// alternated (A B A B) and compared by median, so drift on a shared machine hits both alike.
// Run as root after .ci/setup.sh:  node dist/bench/run.js [--runs N]
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { getWorld, TEST_USER, ROOT } from '../test/fixtures/world.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;
const home = `/home/${TEST_USER}`;
const envArgs = ['env', '-i', `HOME=${home}`, `USER=${TEST_USER}`, 'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'];

function asUser(cmd: string[]): { ms: number; status: number | null; err: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('runuser', ['-u', TEST_USER, '--', ...envArgs, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], cwd: '/' });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, status: r.status, err: r.stderr };
}

const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]; };

interface Case { name: string; tspod: string[]; podman: string[]; target: number }

async function main(): Promise<void> {
  const { registry } = await getWorld();
  const image = `${registry}/alpine:3.20`;
  const tspod = path.join(ROOT, 'bin/tspod');
  const podman = ['podman', '--runtime', 'runc'];
  for (const cmd of [[tspod, 'pull', '-q', image], [...podman, 'pull', '-q', image]]) {
    const r = asUser(cmd);
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.err}`);
  }
  const cases: Case[] = [
    { name: 'run --rm --network none IMAGE true', tspod: [tspod, 'run', '--rm', '--network', 'none', image, 'true'], podman: [...podman, 'run', '--rm', '--network', 'none', image, 'true'], target: 0.5 },
    { name: 'run --rm IMAGE true (default network)', tspod: [tspod, 'run', '--rm', image, 'true'], podman: [...podman, 'run', '--rm', image, 'true'], target: 0.5 },
  ];
  const rows = [];
  for (const c of cases) {
    asUser(c.tspod); asUser(c.podman); // warm caches for both
    const a: number[] = [], b: number[] = [];
    for (let i = 0; i < runs; i++) {
      const x = asUser(c.tspod); if (x.status !== 0) throw new Error(`tspod: ${x.err}`);
      const y = asUser(c.podman); if (y.status !== 0) throw new Error(`podman: ${y.err}`);
      a.push(x.ms); b.push(y.ms);
    }
    const ratio = quantile(a, 0.5) / quantile(b, 0.5);
    rows.push({ case: c.name, tspodMedian: quantile(a, 0.5), tspodP90: quantile(a, 0.9), podmanMedian: quantile(b, 0.5), podmanP90: quantile(b, 0.9), ratio, target: c.target, pass: ratio <= c.target });
  }
  const f = (n: number) => n.toFixed(0).padStart(6);
  console.log(`machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, ${os.release()}; ${runs} runs each, alternated`);
  console.log('case                                    tspod med  p90   podman med  p90   ratio  target  result');
  for (const r of rows) console.log(`${r.case.padEnd(40)}${f(r.tspodMedian)} ${f(r.tspodP90)}  ${f(r.podmanMedian)} ${f(r.podmanP90)}   ${r.ratio.toFixed(2)}   <=${r.target}   ${r.pass ? 'pass' : 'FAIL'}`);
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench/results/latest.json'), JSON.stringify({ date: new Date().toISOString(), runs, rows }, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });
