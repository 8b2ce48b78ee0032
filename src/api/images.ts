// /images, /build, /commit: Docker's image endpoints over the engine's pull, push, build, save and
// load. Long work streams Docker's JSON progress lines; a failure once they have begun is a line
// with "error", as the docker CLI expects.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type http from 'node:http';
import type { Store, ImageRecord } from '../storage/store.js';
import { TspodError } from '../errors.js';
import { unixSeconds } from '../units.js';
import { findImage, pullImage, listImages, removeImages, tagImage, inspectImage, imageHistory, readImageConfig } from '../engine/images.js';
import type { ProgressEvent } from '../copy/types.js';
import { type Router, flag, filterList, badRequest, notFound, conflict } from './http.js';
import { findContainer } from '../engine/containers.js';

/** Docker treats registries on the loopback (127.0.0.0/8, localhost) as insecure; others follow registries.conf. */
export const tlsVerifyForHost = (host: string): boolean | undefined => (/^(localhost|127\.\d+\.\d+\.\d+)(:\d+)?$/.test(host) ? false : undefined);
const tlsVerifyFor = (ref: string): boolean | undefined => tlsVerifyForHost(ref.split('/')[0]);

const sha = (id: string) => (id.startsWith('sha256:') ? id : `sha256:${id}`);

async function image(store: Store, name: string): Promise<ImageRecord> {
  const img = await findImage(store, name);
  if (!img) throw notFound(`No such image: ${name}`);
  return img;
}

/** X-Registry-Auth: base64url JSON with username and password (or an identity token we cannot use). */
function registryAuth(headers: http.IncomingHttpHeaders): { username: string; password: string } | undefined {
  const raw = headers['x-registry-auth'];
  if (typeof raw !== 'string' || !raw) return undefined;
  try {
    const a = JSON.parse(Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as { username?: string; password?: string };
    return a.username && a.password ? { username: a.username, password: a.password } : undefined;
  } catch { return undefined; }
}

/** Docker's pull and push progress: one JSON line per step of each layer. */
function progressLines(write: (o: object) => void, verb: 'Download' | 'Push') {
  const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);
  return (e: ProgressEvent) => {
    if (e.type === 'layer-skip') write({ status: verb === 'Push' ? 'Layer already exists' : 'Already exists', progressDetail: {}, id: short(e.digest) });
    else if (e.type === 'layer-start') write({ status: verb === 'Push' ? 'Preparing' : 'Pulling fs layer', progressDetail: {}, id: short(e.digest) });
    else if (e.type === 'layer-bytes') write({ status: verb === 'Push' ? 'Pushing' : 'Downloading', progressDetail: { current: e.bytes, total: e.size }, id: short(e.digest) });
    else if (e.type === 'layer-done') write({ status: verb === 'Push' ? 'Pushed' : 'Pull complete', progressDetail: {}, id: short(e.digest) });
  };
}

/** A streamed JSON-lines answer; an error after it began becomes Docker's error line. */
async function jsonStream(res: http.ServerResponse, work: (write: (o: object) => void) => Promise<void>): Promise<void> {
  const write = (o: object) => { if (!res.writableEnded) res.write(`${JSON.stringify(o)}\n`); };
  try { await work(write); } catch (e) {
    const message = (e as Error).message;
    write({ errorDetail: { message }, error: message });
  }
  res.end();
}

function summary(store: Store, img: ImageRecord, containers: Map<string, number>) {
  let labels: Record<string, string> | null = null;
  try { labels = (readImageConfig(store, img).config as { Labels?: Record<string, string> } | undefined)?.Labels ?? null; } catch { /* no config */ }
  return {
    Id: sha(img.id), ParentId: img.parent ? sha(img.parent) : '', RepoTags: img.names.length ? img.names : null, RepoDigests: img.repoDigests,
    Created: unixSeconds(img.created), Size: img.size, VirtualSize: img.size, SharedSize: -1, Labels: labels, Containers: containers.get(img.id) ?? 0,
  };
}

export function imageRoutes(r: Router, store: Store): void {
  r.add('GET', '/images/json', (req, reply) => {
    const filters = filterList(req.query).map(([k, v]) => `${k}=${v}`);
    const uses = new Map<string, number>();
    for (const c of store.listContainers()) uses.set(c.imageId, (uses.get(c.imageId) ?? 0) + 1);
    const images = listImages(store, { filters, intermediate: flag(req.query, 'all') });
    reply.json(images.map((i) => summary(store, i, uses)));
  });

  r.add('POST', '/images/create', async (req, reply) => {
    const from = req.query.get('fromImage');
    if (req.query.get('fromSrc')) throw badRequest('import through the API (fromSrc) is not served; use `tspod import`');
    if (!from) throw badRequest('fromImage is required');
    const tag = req.query.get('tag');
    const ref = tag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : from;
    const res = reply.stream('application/json');
    await jsonStream(res, async (write) => {
      write({ status: `Pulling from ${from}`, id: tag || 'latest' });
      let digest = '';
      const report = await pullImage(store, ref, {
        platform: req.query.get('platform') || undefined, tlsVerify: tlsVerifyFor(ref),
        onProgress: (e) => { if (e.type === 'resolved') digest = e.digest; progressLines(write, 'Download')(e); },
      });
      if (digest) write({ status: `Digest: ${digest}` });
      write({ status: `Status: Downloaded newer image for ${report.name}` });
    });
  });

  r.add('GET', '/images/get', async (req, reply) => {
    const names = req.query.getAll('names');
    if (!names.length) throw badRequest('names is required');
    for (const n of names) await image(store, n);
    await saveTo(store, names, reply.stream('application/x-tar'));
  });

  r.add('POST', '/images/load', async (req, reply) => {
    const { loadImages } = await import('../engine/transfer.js');
    store.init();
    const dir = store.stagingDir();
    try {
      const file = path.join(dir, 'archive.tar');
      await new Promise<void>((resolve, reject) => { const out = fs.createWriteStream(file); req.stream.pipe(out); out.on('finish', resolve); out.on('error', reject); req.stream.on('error', reject); });
      const report = await loadImages(store, file, {});
      const res = reply.stream('application/json');
      // Docker says the same quiet or not (quiet only drops progress).
      for (const n of report.names) res.write(`${JSON.stringify({ stream: `Loaded image: ${n}\n` })}\n`);
      res.end();
    } finally {
      store.discard(dir);
    }
  });

  r.add('POST', '/images/prune', async (req, reply) => {
    const { pruneImages } = await import('../engine/system.js');
    const all = filterList(req.query).some(([k, v]) => k === 'dangling' && ['false', '0'].includes(v));
    const deleted = await pruneImages(store, { all });
    reply.json({ ImagesDeleted: deleted.map((id) => ({ Deleted: sha(id) })), SpaceReclaimed: 0 });
  });

  r.add('POST', '/build', async (req, reply) => {
    const { buildImage } = await import('../engine/build.js');
    const q = req.query;
    store.init();
    const dir = store.stagingDir();
    const res = reply.stream('application/json');
    const stream = (text: string) => { if (!res.writableEnded) res.write(`${JSON.stringify({ stream: text })}\n`); };
    try {
      await jsonStream(res, async () => {
        await new Promise<void>((resolve, reject) => {
          const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
          let err = '';
          tar.stderr.on('data', (d: Buffer) => { err += d.toString(); });
          req.stream.pipe(tar.stdin);
          tar.on('error', reject);
          tar.on('close', (code) => (code === 0 ? resolve() : reject(new TspodError('E_BUILD_CONTEXT', `the build context is not a tar that extracts: ${err.trim().split('\n')[0]}`))));
        });
        const fileName = q.get('dockerfile') || 'Dockerfile';
        const candidates = [fileName, ...(q.get('dockerfile') ? [] : ['Containerfile'])].map((f) => path.join(dir, f));
        const found = candidates.find((f) => fs.existsSync(f));
        if (!found || !path.resolve(found).startsWith(dir)) throw new TspodError('E_BUILD_CONTEXT', `Cannot locate specified Dockerfile: ${fileName}`);
        const parseJson = <T>(name: string): T | undefined => { const v = q.get(name); if (!v) return undefined; try { return JSON.parse(v) as T; } catch { throw badRequest(`${name} is not JSON`); } };
        const buildArgs = new Map(Object.entries(parseJson<Record<string, string>>('buildargs') ?? {}));
        const labels = Object.entries(parseJson<Record<string, string>>('labels') ?? {}).map(([k, v]) => `${k}=${v}`);
        const id = await buildImage(store, {
          context: dir, file: { text: fs.readFileSync(found, 'utf8'), name: path.basename(found) }, tags: q.getAll('t'), buildArgs, labels,
          target: q.get('target') || undefined, noCache: flag(q, 'nocache'), pull: flag(q, 'pull') ? 'always' : 'missing', quiet: flag(q, 'q'),
          network: q.get('networkmode') && q.get('networkmode') !== 'default' ? q.get('networkmode')! : undefined, format: 'docker',
          say: (line) => stream(`${line}\n`), onWarning: (m) => stream(`WARN: ${m}\n`),
        });
        res.write(`${JSON.stringify({ aux: { ID: sha(id) } })}\n`);
        stream(`Successfully built ${id.slice(0, 12)}\n`);
        for (const t of q.getAll('t')) stream(`Successfully tagged ${t}\n`);
      });
    } finally {
      store.discard(dir);
    }
  });

  r.add('POST', '/commit', async (req, reply) => {
    const { commitContainer } = await import('../engine/commit.js');
    const q = req.query;
    const ref = q.get('container');
    if (!ref) throw badRequest('container is required');
    try { findContainer(store, ref); } catch { throw notFound(`No such container: ${ref}`); }
    const repo = q.get('repo');
    const name = repo ? `${repo}:${q.get('tag') || 'latest'}` : undefined;
    const changes = q.getAll('changes').flatMap((c) => c.split('\n')).filter(Boolean);
    // docker commit pauses by default; where no freezer cgroup can (rootless on cgroup v1) it commits the running container as it is.
    const { canPause } = await import('../engine/lifecycle.js');
    const id = await commitContainer(store, ref, name, { message: q.get('comment') || undefined, author: q.get('author') || undefined, pause: flag(q, 'pause', true) && await canPause(), changes, format: 'docker' });
    reply.json({ Id: sha(id) }, 201);
  });

  // Image names have slashes: the routes with a name come after the fixed ones.
  r.add('GET', '/images/{name*}/json', async (req, reply) => {
    const img = await image(store, req.params.name);
    const i = await inspectImage(store, req.params.name);
    const cfg = readImageConfig(store, img);
    reply.json({
      Id: sha(i.Id), RepoTags: i.RepoTags, RepoDigests: i.RepoDigests, Parent: img.parent ? sha(img.parent) : '', Comment: '', Created: i.Created ?? '',
      Container: '', ContainerConfig: {}, DockerVersion: '', Author: (cfg as { author?: string }).author ?? '', Config: i.Config, Architecture: i.Architecture, Os: i.Os,
      Size: i.Size, VirtualSize: i.Size, GraphDriver: { Name: 'overlay', Data: null }, RootFS: { Type: 'layers', Layers: i.RootFS.Layers }, Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    });
  });

  r.add('GET', '/images/{name*}/history', async (req, reply) => {
    const img = await image(store, req.params.name);
    reply.json(imageHistory(store, img).map((h) => ({ Id: h.id ? sha(h.id) : '<missing>', Created: unixSeconds(h.created), CreatedBy: h.createdBy, Tags: h.id === img.id ? img.names : null, Size: h.size, Comment: h.comment })));
  });

  r.add('POST', '/images/{name*}/tag', async (req, reply) => {
    const repo = req.query.get('repo');
    if (!repo) throw badRequest('repo is required');
    await image(store, req.params.name);
    await tagImage(store, req.params.name, [`${repo}:${req.query.get('tag') || 'latest'}`]);
    reply.empty(201);
  });

  r.add('POST', '/images/{name*}/push', async (req, reply) => {
    const { pushImage } = await import('../engine/transfer.js');
    const tag = req.query.get('tag');
    const ref = tag ? `${req.params.name}:${tag}` : req.params.name;
    await image(store, ref);
    const res = reply.stream('application/json');
    await jsonStream(res, async (write) => {
      write({ status: `The push refers to repository [${req.params.name}]` });
      const report = await pushImage(store, ref, undefined, { credentials: registryAuth(req.headers), tlsVerify: tlsVerifyFor(ref), onProgress: progressLines(write, 'Push') });
      write({ status: `${tag || 'latest'}: digest: ${report.digest} size: 0` });
      write({ progressDetail: {}, aux: { Tag: tag || 'latest', Digest: report.digest, Size: 0 } });
    });
  });

  r.add('GET', '/images/{name*}/get', async (req, reply) => {
    await image(store, req.params.name);
    await saveTo(store, [req.params.name], reply.stream('application/x-tar'));
  });

  r.add('DELETE', '/images/{name*}', async (req, reply) => {
    await image(store, req.params.name);
    const report = await removeImages(store, [req.params.name], { force: flag(req.query, 'force') });
    if (report.inUse?.length) throw conflict(`conflict: unable to remove repository reference "${req.params.name}" (must force) - container is using its referenced image`);
    reply.json([...report.untagged.map((u) => ({ Untagged: u })), ...report.deleted.map((d) => ({ Deleted: sha(d) }))]);
  });
}

/** A docker-archive of `names`, streamed as it is written. */
async function saveTo(store: Store, names: string[], res: http.ServerResponse): Promise<void> {
  const { saveImages } = await import('../engine/transfer.js');
  store.init();
  const dir = store.stagingDir();
  try {
    const file = path.join(dir, 'save.tar');
    await saveImages(store, names, { output: file, format: 'docker-archive' });
    await new Promise<void>((resolve, reject) => { const s = fs.createReadStream(file); s.pipe(res); s.on('end', resolve); s.on('error', reject); });
  } finally {
    store.discard(dir);
  }
}
