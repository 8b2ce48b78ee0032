// The pull benchmark's image: a Debian minbase layer (debootstrap), a layer of many small files
// (this project's node_modules tree), and 64 MiB of incompressible bytes, as gzip and as zstd.
// Built once into an OCI layout under /var/tmp/tspod-bench and pushed with skopeo.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { OciLayout } from '../test/fixtures/oci-layout.js';
import { ROOT, skopeoPush } from '../test/fixtures/world.js';

export const CACHE = '/var/tmp/tspod-bench';

function tarDir(dir: string, prefix = '.'): Buffer {
  return execFileSync('tar', ['-C', dir, '--numeric-owner', '--sort=name', '-cf', '-', prefix], { maxBuffer: 1 << 30 });
}

function compress(tool: 'gzip' | 'zstd', data: Buffer): Buffer {
  return execFileSync(tool, tool === 'gzip' ? ['-6', '-c'] : ['-3', '-T0', '-c'], { input: data, maxBuffer: 1 << 30 });
}

const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

export function buildPullImage(): string {
  const dir = path.join(CACHE, 'oci');
  if (fs.existsSync(path.join(dir, 'done'))) return dir;
  const debian = path.join(CACHE, 'debian');
  if (!fs.existsSync(path.join(debian, 'etc/debian_version'))) {
    // Only the bench needs debootstrap: installed here rather than by CI's setup.
    if (spawnSync('sh', ['-c', 'command -v debootstrap']).status !== 0) spawnSync('apt-get', ['install', '-y', '-qq', 'debootstrap'], { stdio: 'inherit' });
    const r = spawnSync('debootstrap', ['--variant=minbase', 'bookworm', debian], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('debootstrap failed');
  }
  const randomDir = path.join(CACHE, 'random');
  fs.mkdirSync(randomDir, { recursive: true });
  fs.writeFileSync(path.join(randomDir, 'random.bin'), crypto.randomBytes(64 << 20));
  const tars = [tarDir(debian), tarDir(ROOT, 'node_modules'), tarDir(randomDir)];
  fs.rmSync(dir, { recursive: true, force: true });
  const layout = new OciLayout(dir);
  for (const tool of ['gzip', 'zstd'] as const) {
    const layers = tars.map((t) => ({ mediaType: `application/vnd.oci.image.layer.v1.tar+${tool}`, ...layout.blob(compress(tool, t)) }));
    const config = Buffer.from(JSON.stringify({
      created: '2024-01-01T00:00:00Z', architecture: 'amd64', os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/bash'] },
      rootfs: { type: 'layers', diff_ids: tars.map(sha) },
    }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...layout.blob(config) }, layers,
    }));
    layout.tag(tool, [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...layout.blob(manifest), platform: { os: 'linux', architecture: 'amd64' } }]);
  }
  fs.writeFileSync(path.join(dir, 'done'), '');
  return dir;
}

export function pushPullImage(registry: string): { gzip: string; zstd: string } {
  const dir = buildPullImage();
  for (const tag of ['gzip', 'zstd']) skopeoPush(dir, tag, `${registry}/pullbench:${tag}`);
  return { gzip: `${registry}/pullbench:gzip`, zstd: `${registry}/pullbench:zstd` };
}
