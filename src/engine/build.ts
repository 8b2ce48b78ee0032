// The build executor: a parsed Containerfile's stages, run as far as the target needs them.
// Every step makes an image of the store (with --layers): RUN through the same path as `tspod run`
// (a container over the layers so far, its upper dir made a layer by the one layer writer), COPY
// and ADD as a layer written straight from the sources, the rest as config alone. Each step is
// looked up first in the build cache, keyed by its parent image, its instruction after
// substitution, and for COPY/ADD what it copies; a hit reuses the image, so an unchanged rebuild
// gives the same id and writes nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TspodError, UsageError } from '../errors.js';
import { mark } from '../trace.js';
import { lowerStat } from './commit.js';
import type { ImageRecord, Store } from '../storage/store.js';
import { parseContainerfile, type Containerfile, type Instruction, type Stage } from '../build/parse.js';
import { expand, keyValues, shellWords } from '../build/words.js';
import { IgnoreRules } from '../build/ignore.js';
import { copyDigest, copyLayer, resolveSources, type CopyPlan, type Source } from '../build/copy.js';

export interface BuildOptions {
  context: string;
  /** the Containerfile's text and the name to give in errors */
  file: { text: string; name: string };
  tags: string[];
  buildArgs: Map<string, string | undefined>;
  target?: string;
  noCache?: boolean;
  pull?: 'always' | 'missing' | 'never' | 'newer';
  layers?: boolean;
  labels?: string[];
  annotations?: string[];
  format?: 'oci' | 'docker';
  network?: string;
  jobs?: number;
  ignoreFile?: string;
  runtime?: string;
  quiet?: boolean;
  /** what RUN containers get besides: --dns, --dns-search, --dns-option, --add-host */
  runOptions?: Pick<import('./create.js').CreateOptions, 'dns' | 'dnsSearch' | 'dnsOption' | 'addHost'> & { securityOpt?: string[]; ulimits?: string[] };
  /** --squash: the final stage's new layers as one */
  squash?: boolean;
  /** --cache-from REPO (several) and --cache-to REPO: step images in a registry, tagged by cache key */
  cacheFrom?: string[];
  cacheTo?: string;
  /** --secret id=ID,src=FILE|env=VAR: each secret's bytes, read when a RUN mounts it */
  secrets?: Map<string, () => Buffer>;
  /** extra env for RUN (the caller's proxies) */
  runEnv?: string[];
  pullOptions?: import('./images.js').PullOptions;
  /** step announcements and results (stdout in Podman) */
  say: (line: string) => void;
  onWarning?: (m: string) => void;
}

type Config = Record<string, unknown> & {
  Env?: string[]; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string; User?: string; Labels?: Record<string, string>;
  Shell?: string[]; Healthcheck?: unknown; OnBuild?: string[]; StopSignal?: string;
};
interface ImageDoc { architecture?: string; os?: string; created?: string; author?: string; config?: Config; rootfs?: { type: string; diff_ids: string[] }; history?: Array<Record<string, unknown>> }

/** Where a stage is, step by step. */
interface State {
  /** the image the next step builds on ('' before the first layer of a scratch stage) */
  imageId: string;
  doc: ImageDoc;
  layers: string[];
  /** ARGs in scope, with their values */
  args: Map<string, string>;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const arch = () => (process.arch === 'x64' ? 'amd64' : process.arch);

/** A step failed: Podman's words, the step named. */
function stepError(text: string, e: unknown): TspodError {
  const err = e as TspodError;
  return new TspodError(err.code ?? 'E_BUILD', `building at STEP "${text}": ${(e as Error).message}`, { exitCode: err.exitCode, hint: err.hint, cause: e });
}

/**
 * The build cache: key -> image id, one file per key in the store (shared by every build of the
 * user, written atomically). With --cache-from/--cache-to, a registry repository holds step images
 * tagged by key too, so CI runners share their steps: image ids are config digests, so a step
 * pulled from there keys the next steps exactly as it would have here.
 */
class Cache {
  private readonly dir: string;
  private readonly pushes: Array<Promise<void>> = [];
  private remoteFailed = false;
  constructor(private readonly store: Store, private readonly remote: { from: string[]; to?: string; tlsVerify?: boolean; onWarning?: (m: string) => void } = { from: [] }) {
    this.dir = path.join(store.root, 'build-cache');
  }

  async lookup(key: string): Promise<ImageRecord | undefined> {
    let id: string | undefined;
    try { id = fs.readFileSync(path.join(this.dir, key), 'utf8').trim(); } catch { /* not here */ }
    const local = id && this.store.readImages().find((i) => i.id === id);
    if (local) return local;
    for (const repo of this.remote.from) {
      const name = `${repo}:${key}`;
      try {
        const { pullImage } = await import('./images.js');
        const r = await pullImage(this.store, name, { tlsVerify: this.remote.tlsVerify });
        // A cache image carries no name of its own here: it is an intermediate step.
        this.store.withLock(() => { for (const n of this.store.readImages().find((i) => i.id === r.id)?.names ?? []) if (n.endsWith(`:${key}`)) this.store.untag(r.id, n); });
        this.writeKey(key, r.id);
        return this.store.readImages().find((i) => i.id === r.id);
      } catch (e) {
        const code = (e as TspodError).code;
        if (code !== 'E_MANIFEST_UNKNOWN' && code !== 'E_IMAGE_UNKNOWN' && !/manifest unknown|not found/i.test((e as Error).message) && !this.remoteFailed) {
          this.remoteFailed = true;
          this.remote.onWarning?.(`--cache-from ${repo}: ${(e as Error).message}; building without it`);
        }
      }
    }
    return undefined;
  }

  record(key: string, id: string): void {
    this.writeKey(key, id);
    const to = this.remote.to;
    if (!to) return;
    this.pushes.push((async () => {
      const { pushImage } = await import('./transfer.js');
      try { await pushImage(this.store, id, `${to}:${key}`, { tlsVerify: this.remote.tlsVerify }); } catch (e) {
        this.remote.onWarning?.(`--cache-to ${to}: step ${id.slice(0, 12)} was not pushed: ${(e as Error).message}`);
      }
    })());
  }

  /** Wait for the --cache-to pushes. */
  async flush(): Promise<void> { await Promise.all(this.pushes); }

  private writeKey(key: string, id: string): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.store.writeAtomic(path.join(this.dir, key), id);
  }
}

function readDoc(store: Store, id: string): ImageDoc {
  return JSON.parse(store.readBlob(`sha256:${id}`).toString('utf8')) as ImageDoc;
}

function envMap(env: string[] | undefined): Map<string, string> {
  return new Map((env ?? []).map((e) => { const i = e.indexOf('='); return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)]; }));
}

/** The stage names/indexes a stage needs before it can run. */
function dependencies(stage: Stage, byName: Map<string, Stage>, all: Stage[], globalVars: Map<string, string>): Stage[] {
  const out = new Set<Stage>();
  const ref = (name: string | undefined) => {
    if (name === undefined) return;
    const s = byName.get(name.toLowerCase()) ?? (/^\d+$/.test(name) ? all[Number(name)] : undefined);
    if (s && s.index < stage.index) out.add(s);
  };
  ref(expand(stage.from.args.split(/\s+/)[0], globalVars));
  for (const ins of stage.instructions) {
    for (const f of ins.flags) if (f.name === 'from') ref(f.value);
    for (const f of ins.flags) if (f.name === 'mount') ref(/(?:^|,)from=([^,]+)/.exec(f.value ?? '')?.[1]);
  }
  return [...out];
}

/** Limit how many stages run at once. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) { this.free = Math.max(1, n); }
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    return () => { const next = this.waiting.shift(); if (next) next(); else this.free++; };
  }
}

const interrupted = { value: false };
/** the RUN containers running now, killed on an interrupt */
const runningSteps = new Set<import('../storage/store.js').ContainerRecord>();
const interruptedError = () => new TspodError('E_INTERRUPTED', 'the build was interrupted; nothing was tagged', { exitCode: 130 });

export async function buildImage(store: Store, o: BuildOptions): Promise<string> {
  interrupted.value = false;
  store.init();
  // RUN containers of builds that were killed (SIGKILL gives no chance to clean up): gone now.
  await (await import('./containers.js')).listContainers(store, { all: true, external: true });
  const cf = parseContainerfile(o.file.text, o.file.name);
  if (cf.syntax) o.onWarning?.(`the "# syntax=${cf.syntax}" directive is ignored: tspod reads the Dockerfile syntax itself`);
  const useLayers = o.layers ?? true;
  // ARGs before FROM: their defaults, then --build-arg; seen by FROM lines only.
  const globalVars = new Map<string, string>();
  for (const ins of cf.globalArgs) {
    for (const [k, v] of keyValues(ins.args, cf.escape, false)) {
      const given = o.buildArgs.get(k);
      const value = given ?? (v === undefined ? undefined : expand(v, globalVars, cf.escape));
      if (value !== undefined) globalVars.set(k, value);
    }
  }
  const byName = new Map(cf.stages.filter((s) => s.name).map((s) => [s.name!, s] as [string, Stage]));
  const target = o.target === undefined ? cf.stages[cf.stages.length - 1] : byName.get(o.target.toLowerCase());
  if (!target) throw new UsageError(`the target stage "${o.target}" is not in ${o.file.name}`, `stages: ${cf.stages.map((s) => s.name ?? String(s.index)).join(', ')}`);
  // The stages the target needs, each run once, independent ones at the same time.
  const needed = new Set<Stage>();
  const visit = (s: Stage) => { if (needed.has(s)) return; needed.add(s); for (const d of dependencies(s, byName, cf.stages, globalVars)) visit(d); };
  visit(target);
  const results = new Map<Stage, Promise<string>>();
  const slots = new Slots(o.jobs ?? os.availableParallelism());
  const cache = new Cache(store, { from: o.cacheFrom ?? [], to: o.cacheTo, tlsVerify: o.pullOptions?.tlsVerify, onWarning: o.onWarning });
  const run = (s: Stage): Promise<string> => {
    let p = results.get(s);
    if (!p) {
      p = (async () => {
        for (const d of dependencies(s, byName, cf.stages, globalVars)) await run(d);
        const release = await slots.take();
        try {
          return await runStage(store, cf, s, s === target, { o, globalVars, cache, useLayers, stageImage: async (name) => {
            const dep = byName.get(name.toLowerCase()) ?? (/^\d+$/.test(name) ? cf.stages[Number(name)] : undefined);
            return dep && dep.index < s.index ? run(dep) : undefined;
          } });
        } finally { release(); }
      })();
      results.set(s, p);
    }
    return p;
  };
  // Ctrl-C or SIGTERM: a RUN's container gets the signal (the run path forwards it); between
  // steps the build stops at the next one, so every `finally` takes back its container and mounts.
  const onSignal = () => {
    interrupted.value = true;
    // A container's PID 1 ignores SIGINT unless it handles it: the RUN is killed, as buildah does.
    // The signal may come while its record does not say running yet: tried again until the step is over.
    void Promise.all([import('./lifecycle.js'), import('./containers.js')]).then(async ([{ killContainer }, { current }]) => {
      while (runningSteps.size) {
        for (const rec of runningSteps) {
          const now = current(store, rec.id);
          if (now?.state === 'running') await killContainer(store, now, 'KILL').catch(() => {});
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  };
  const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of SIGNALS) process.on(sig, onSignal);
  let id: string;
  const { deferHelperDeaths } = await import('../sys/proc.js');
  const helpersGone = deferHelperDeaths();
  try {
    id = await run(target);
    await cache.flush();
  } finally {
    for (const sig of SIGNALS) process.off(sig, onSignal);
    helpersGone();
  }
  if (interrupted.value) throw interruptedError();
  // Names go on at the end, after every stage: a failed build tags nothing.
  const { tagImage, tagName } = await import('./images.js');
  if (o.tags.length) await tagImage(store, id, o.tags);
  for (const t of o.tags) if (!o.quiet) o.say(`Successfully tagged ${tagName(t)}`);
  return id;
}

interface StageContext {
  o: BuildOptions;
  globalVars: Map<string, string>;
  cache: Cache;
  useLayers: boolean;
  /** the image a stage name or index stands for, built first if it must be */
  stageImage(name: string): Promise<string | undefined>;
}

async function baseImage(store: Store, name: string, o: BuildOptions): Promise<ImageRecord> {
  const { findImage, pullImage } = await import('./images.js');
  const { ImageNotFoundError } = await import('../errors.js');
  const pull = o.pull ?? 'missing';
  let img = pull === 'always' || pull === 'newer' ? undefined : await findImage(store, name);
  if (!img) {
    if (pull === 'never') throw new TspodError('E_IMAGE_UNKNOWN', `creating build container: ${name}: image not known`, { hint: 'pull it first, or build with --pull=missing' });
    try {
      const r = await pullImage(store, name, o.pullOptions);
      img = store.readImages().find((i) => i.id === r.id);
    } catch (e) {
      img = pull === 'newer' ? await findImage(store, name) : undefined;
      if (!img) throw e;
    }
    if (!img) throw new ImageNotFoundError(name);
  }
  return img;
}

async function runStage(store: Store, cf: Containerfile, stage: Stage, final: boolean, ctx: StageContext): Promise<string> {
  const { o } = ctx;
  const total = stage.instructions.length + 1;
  const prefix = cf.stages.length > 1 ? `[${stage.index + 1}/${cf.stages.length}] ` : '';
  const announce = (n: number, ins: Instruction) => { if (!o.quiet) o.say(`${prefix}STEP ${n}/${total}: ${display(ins)}`); };
  announce(1, stage.from);
  const fromName = expand(stage.from.args.split(/\s+/)[0], ctx.globalVars, cf.escape);
  const platform = stage.from.flags.find((f) => f.name === 'platform')?.value;
  if (platform && !platform.startsWith(`linux/${arch()}`)) throw new UsageError(`FROM --platform=${platform}: this machine builds only linux/${arch()}`, 'drop --platform, or build on a machine of that platform');
  let state: State;
  if (fromName.toLowerCase() === 'scratch') {
    state = { imageId: '', doc: { architecture: arch(), os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, layers: [], args: new Map() };
  } else {
    const fromStage = await ctx.stageImage(fromName);
    const img = fromStage ? store.readImages().find((i) => i.id === fromStage)! : await baseImage(store, fromName, o);
    state = { imageId: img.id, doc: readDoc(store, img.id), layers: [...img.layers], args: new Map() };
  }
  const baseLayers = state.layers.length;
  // --label and --annotation go on the target's last image.
  const extra: Instruction[] = final && o.labels?.length ? [{ keyword: 'LABEL', line: 0, flags: [], args: o.labels.map((l) => JSON.stringify(l)).join(' '), heredocs: [] }] : [];
  // ONBUILD triggers of the base run first, as Docker runs them; the new image does not inherit them.
  const triggers = (state.doc.config?.OnBuild ?? []).map((t) => onBuildTrigger(t, o.file.name, stage.from.line));
  if (triggers.length) state = { ...state, doc: { ...state.doc, config: { ...state.doc.config, OnBuild: undefined } } };
  const steps = [...triggers, ...stage.instructions, ...extra];
  for (let i = 0; i < steps.length; i++) {
    const ins = steps[i];
    const last = i === steps.length - 1;
    if (interrupted.value) throw interruptedError();
    if (ins.line) announce(i + 2, ins);
    try {
      state = await runStep(store, cf, ins, state, ctx, final && last);
    } catch (e) {
      throw e instanceof TspodError && e.message.startsWith('building at STEP') ? e : stepError(display(ins), e);
    }
  }
  // A stage that only names its base still makes an image of its own for the final one (as buildah's COMMIT).
  if (!steps.length && final) state = await commitStep(store, state, { createdBy: `/bin/sh -c #(nop) FROM ${fromName}`, empty: true }, ctx, undefined, true);
  if (final && o.squash && state.layers.length - baseLayers > 1) state = await squash(store, state, baseLayers, ctx);
  if (final) state = await finalImage(store, state, ctx);
  return state.imageId;
}

function display(ins: Instruction): string {
  const flags = ins.flags.map((f) => (f.value === undefined ? `--${f.name}` : `--${f.name}=${f.value}`)).join(' ');
  return `${ins.keyword} ${flags ? `${flags} ` : ''}${ins.args}`.trim();
}

/** Variables a line may use: ARGs in scope, then the image's ENV (ENV wins, as in Docker). */
function vars(state: State): Map<string, string> {
  return new Map([...state.args, ...envMap(state.doc.config?.Env)]);
}

/** The shell form of RUN, CMD and ENTRYPOINT: the stage's SHELL (default /bin/sh -c). */
function shellForm(state: State, text: string): string[] {
  return [...(state.doc.config?.Shell ?? DEFAULT_SHELL), text];
}

interface StepResult { createdBy: string; empty: boolean; diffId?: string }

async function runStep(store: Store, cf: Containerfile, ins: Instruction, state: State, ctx: StageContext, final: boolean): Promise<State> {
  const { o } = ctx;
  const v = vars(state);
  const x = (s: string) => expand(s, v, cf.escape);
  const cfg: Config = { ...(state.doc.config ?? {}) };
  const next: State = { ...state, args: new Map(state.args), doc: { ...state.doc, config: cfg } };
  const nop = (what: string): StepResult => ({ createdBy: `/bin/sh -c #(nop) ${what}`, empty: true });
  const { applyChanges } = await import('./changes.js');
  const change = (text: string) => { next.doc.config = applyChanges(next.doc.config ?? {}, [text]) as Config; };
  switch (ins.keyword) {
    case 'ARG': {
      // Declared here: the --build-arg value, else the default, else (redeclared) the global one.
      for (const [k, d] of keyValues(ins.args, cf.escape, false)) {
        const value = o.buildArgs.has(k) ? o.buildArgs.get(k) ?? process.env[k] : d !== undefined ? x(d) : ctx.globalVars.get(k);
        if (value !== undefined) next.args.set(k, value); else next.args.delete(k);
      }
      // An ARG changes no image; it changes the key of the steps after it through their expansion and env.
      return next;
    }
    case 'ENV': case 'LABEL': case 'EXPOSE': case 'STOPSIGNAL': case 'USER': {
      const text = ins.keyword === 'ENV' || ins.keyword === 'LABEL'
        ? keyValues(ins.args, cf.escape).map(([k, val]) => `${x(k)}=${JSON.stringify(x(val ?? ''))}`).join(' ')
        : x(ins.args);
      change(`${ins.keyword} ${text}`);
      return step(store, next, state, `${ins.keyword} ${text}`, async () => nop(`${ins.keyword} ${text}`), ctx, final);
    }
    case 'MAINTAINER': {
      next.doc.author = x(ins.args);
      return step(store, next, state, `MAINTAINER ${ins.args}`, async () => nop(`MAINTAINER ${ins.args}`), ctx, final);
    }
    case 'CMD': case 'ENTRYPOINT': {
      const words = ins.json ?? shellForm(state, ins.args);
      change(`${ins.keyword} ${JSON.stringify(words)}`);
      return step(store, next, state, `${ins.keyword} ${JSON.stringify(words)}`, async () => nop(`${ins.keyword} ${JSON.stringify(words)}`), ctx, final);
    }
    case 'SHELL': {
      if (!ins.json) throw new UsageError('SHELL takes the JSON form, e.g. SHELL ["/bin/bash", "-c"]');
      cfg.Shell = ins.json;
      return step(store, next, state, `SHELL ${JSON.stringify(ins.json)}`, async () => nop(`SHELL ${JSON.stringify(ins.json)}`), ctx, final);
    }
    case 'VOLUME': {
      const list = (ins.json ?? shellWords(x(ins.args), cf.escape)).map((p) => path.posix.resolve('/', p));
      change(`VOLUME ${JSON.stringify(list)}`);
      return step(store, next, state, `VOLUME ${JSON.stringify(list)}`, async () => nop(`VOLUME ${JSON.stringify(list)}`), ctx, final);
    }
    case 'ONBUILD': {
      cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.args];
      return step(store, next, state, `ONBUILD ${ins.args}`, async () => nop(`ONBUILD ${ins.args}`), ctx, final);
    }
    case 'HEALTHCHECK': {
      cfg.Healthcheck = healthcheck(ins);
      return step(store, next, state, `HEALTHCHECK ${JSON.stringify(cfg.Healthcheck)}`, async () => nop(`HEALTHCHECK ${ins.args}`), ctx, final);
    }
    case 'WORKDIR': {
      const dir = path.posix.resolve(cfg.WorkingDir || '/', x(ins.args));
      cfg.WorkingDir = dir;
      // The directory is made in the image if it has none (Podman does, so a later COPY . finds it).
      return step(store, next, state, `WORKDIR ${dir}`, async () => {
        const missing = missingDirs(store, state.layers, dir);
        if (!missing.length) return nop(`WORKDIR ${dir}`);
        const { StoreDestination } = await import('../storage/destination.js');
        const diffId = await new StoreDestination(store, o.onWarning).addLayer(() => dirsLayer(missing));
        return { createdBy: `/bin/sh -c #(nop) WORKDIR ${dir}`, empty: false, diffId };
      }, ctx, final);
    }
    case 'RUN': return runInstruction(store, cf, ins, state, next, ctx, final);
    case 'COPY': case 'ADD': return copyInstruction(store, cf, ins, state, next, ctx, final);
    case 'FROM': throw new TspodError('E_INTERNAL', 'FROM inside a stage');
  }
  return next;
}

function healthcheck(ins: Instruction): unknown {
  const rest = ins.args.trim();
  if (/^NONE$/i.test(rest)) return { Test: ['NONE'] };
  const m = /^CMD\s+(.*)$/is.exec(rest);
  if (!m) throw new UsageError('HEALTHCHECK takes [OPTIONS] CMD command, or NONE');
  let test: string[];
  try { const j = JSON.parse(m[1]) as unknown; test = Array.isArray(j) ? ['CMD', ...(j as string[])] : ['CMD-SHELL', m[1]]; } catch { test = ['CMD-SHELL', m[1]]; }
  const ns = (v?: string) => {
    if (!v) return undefined;
    const mm = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v);
    if (!mm) throw new UsageError(`HEALTHCHECK: "${v}" is not a duration`, 'use e.g. 30s, 1m');
    return Math.round(Number(mm[1]) * { ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 }[mm[2] ?? 's']!);
  };
  const flag = (n: string) => ins.flags.find((f) => f.name === n)?.value;
  return { Test: test, Interval: ns(flag('interval')), Timeout: ns(flag('timeout')), StartPeriod: ns(flag('start-period')), Retries: flag('retries') ? Number(flag('retries')) : undefined };
}

/** The directories of `dir` (and above) that no layer has. */
function missingDirs(store: Store, layers: string[], dir: string): string[] {
  const out: string[] = [];
  const has = lowerStat(store, layers);
  const parts = dir.split('/').filter(Boolean);
  for (let n = 1; n <= parts.length; n++) {
    const rel = parts.slice(0, n).join('/');
    if (!has(rel)) out.push(rel);
  }
  return out;
}

async function* dirsLayer(dirs: string[]): AsyncGenerator<Buffer> {
  const { tarHeader, TAR_END } = await import('../layers/tar-writer.js');
  for (const d of dirs) yield tarHeader({ name: `${d}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: Math.floor(Date.now() / 1000) });
  yield TAR_END;
}

/** Look the step up in the cache, else do it and record the image it made. */
async function step(store: Store, next: State, parent: State, key: string, work: () => Promise<StepResult>, ctx: StageContext, final: boolean, extraKey = ''): Promise<State> {
  const cacheKey = crypto.createHash('sha256').update(JSON.stringify([parent.imageId || 'scratch', key, extraKey, [...parent.args].sort(), ctx.o.format ?? 'oci'])).digest('hex');
  const useCache = ctx.useLayers && !ctx.o.noCache;
  const hit = useCache ? await ctx.cache.lookup(cacheKey) : undefined;
  if (hit) {
    if (!ctx.o.quiet) ctx.o.say(`--> Using cache ${hit.id}`);
    const state: State = { imageId: hit.id, doc: readDoc(store, hit.id), layers: [...hit.layers], args: next.args };
    if (final && !ctx.o.quiet) ctx.o.say(`COMMIT ${ctx.o.tags[0] ?? ''}`.trim());
    if (!ctx.o.quiet) ctx.o.say(`--> ${hit.id.slice(0, 11)}`);
    return state;
  }
  const result = await work();
  const state = await commitStep(store, next, result, ctx, ctx.useLayers ? cacheKey : undefined, final);
  return state;
}

/** An ONBUILD trigger of the base image, as the instruction it is. */
function onBuildTrigger(text: string, file: string, line: number): Instruction {
  const ins = parseContainerfile(`FROM scratch\n${text}\n`, file).stages[0].instructions[0];
  if (!ins || ['ONBUILD', 'FROM', 'MAINTAINER'].includes(ins.keyword)) throw new TspodError('E_BUILD_SYNTAX', `${file}:${line}: the base image's ONBUILD trigger "${text}" is not one that can run`);
  return { ...ins, line: 0 };
}

/**
 * The target's image as it leaves the build. The OCI image config has no HEALTHCHECK, SHELL or
 * ONBUILD: in OCI format the image goes without them (with Podman's warning), while the build's own
 * steps keep them; its config is the last step's minus those fields, created at the same moment, so
 * an unchanged rebuild still gives the same id. --annotation goes into its (OCI) manifest.
 */
async function finalImage(store: Store, state: State, ctx: StageContext): Promise<State> {
  const cfg = state.doc.config ?? {};
  const dropped = ctx.o.format === 'docker' ? [] : (['Healthcheck', 'Shell', 'OnBuild'] as const).filter((k) => cfg[k] !== undefined && cfg[k] !== null);
  const annotations = Object.fromEntries((ctx.o.annotations ?? []).map((a) => { const i = a.indexOf('='); return i < 0 ? [a, ''] : [a.slice(0, i), a.slice(i + 1)]; }));
  if (!dropped.length && !Object.keys(annotations).length) return state;
  if (dropped.length) ctx.o.onWarning?.(`${dropped.map((d) => d.toUpperCase()).join(', ')} ${dropped.length > 1 ? 'are' : 'is'} not supported for OCI image format and will be ignored. Must use \`docker\` format`);
  if (Object.keys(annotations).length && ctx.o.format === 'docker') ctx.o.onWarning?.('annotations are not supported for docker image format: use --format oci');
  const config = { ...cfg };
  for (const k of dropped) delete config[k];
  const doc: ImageDoc = { ...state.doc, config };
  const id = await recordImage(store, doc, state.layers, ctx.o.format === 'docker' ? 'v2s2' : 'oci', state.imageId, ctx.o.onWarning, annotations);
  if (id !== state.imageId && !ctx.o.quiet) ctx.o.say(`--> ${id.slice(0, 11)}`);
  return { ...state, imageId: id, doc };
}

/** --squash: the stage's new layers as one, over the base's own; the image is not a cache entry. */
async function squash(store: Store, state: State, baseLayers: number, ctx: StageContext): Promise<State> {
  const [{ mergedLayer }, { StoreDestination }, { isRootless }] = await Promise.all([import('../layers/writer.js'), import('../storage/destination.js'), import('../paths.js')]);
  const fresh = state.layers.slice(baseLayers).reverse().map((d) => store.diffDir(d));
  const diffId = await new StoreDestination(store, ctx.o.onWarning).addLayer(() => mergedLayer(fresh, { overlayXattrPrefix: isRootless() ? 'user.overlay.' : 'trusted.overlay.' }));
  const history = state.doc.history ?? [];
  const base: State = { ...state, layers: state.layers.slice(0, baseLayers), doc: { ...state.doc, history: history.slice(0, historyOfLayers(history, baseLayers)) } };
  return commitStep(store, base, { createdBy: '/bin/sh -c #(nop) squashed', empty: false, diffId }, ctx, undefined, false);
}

/** How many history entries cover the first `n` layers (entries with empty_layer cover none). */
function historyOfLayers(history: Array<Record<string, unknown>>, n: number): number {
  let layers = 0;
  for (let i = 0; i < history.length; i++) {
    if (!history[i].empty_layer) layers++;
    if (layers > n) return i;
  }
  return history.length;
}

/** An image of the build into the store (its layers are there already), through the one copier, with the image it was made from. */
async function recordImage(store: Store, doc: ImageDoc, layers: string[], format: 'oci' | 'v2s2', parent: string, onWarning?: (m: string) => void, annotations?: Record<string, string>): Promise<string> {
  const [{ BuiltImageSource }, { StoreDestination }, { copyImage }] = await Promise.all([import('../layers/source.js'), import('../storage/destination.js'), import('../copy/copy.js')]);
  const id = await copyImage(new BuiltImageSource('', doc, layers, annotations), new StoreDestination(store, onWarning, { built: true }), { concurrency: 1, format });
  if (parent) store.withLock(() => store.setParent(id, parent));
  return id;
}

/** Make the step's image: the config as it now stands over the layers so far (and the step's new one). */
async function commitStep(store: Store, next: State, r: StepResult, ctx: StageContext, cacheKey: string | undefined, final: boolean): Promise<State> {
  const created = new Date().toISOString();
  const layers = r.diffId ? [...next.layers, r.diffId] : next.layers;
  const doc: ImageDoc = {
    ...next.doc, created, architecture: next.doc.architecture ?? arch(), os: next.doc.os ?? 'linux',
    rootfs: { type: 'layers', diff_ids: layers },
    history: [...(next.doc.history ?? []), { created, created_by: r.createdBy, ...(r.empty ? { empty_layer: true } : {}) }],
  };
  if (final && !ctx.o.quiet) ctx.o.say(`COMMIT ${ctx.o.tags[0] ?? ''}`.trim());
  const id = await recordImage(store, doc, layers, ctx.o.format === 'docker' ? 'v2s2' : 'oci', next.imageId, ctx.o.onWarning);
  mark('build: step image recorded');
  if (cacheKey) ctx.cache.record(cacheKey, id);
  if (!ctx.o.quiet) ctx.o.say(`--> ${id.slice(0, 11)}`);
  return { imageId: id, doc, layers, args: next.args };
}

async function runInstruction(store: Store, cf: Containerfile, ins: Instruction, state: State, next: State, ctx: StageContext, final: boolean): Promise<State> {
  const { o } = ctx;
  const network = ins.flags.find((f) => f.name === 'network')?.value ?? o.network;
  for (const f of ins.flags) if (f.name !== 'network' && f.name !== 'mount') throw new UsageError(`RUN --${f.name} is not supported`, 'RUN takes --network and --mount');
  const mountSpecs = ins.flags.filter((f) => f.name === 'mount').map((f) => parseRunMount(expand(f.value ?? '', vars(state), cf.escape), state));
  // Heredocs: `RUN <<EOF` runs the document as the shell's script; `RUN cmd <<EOF` gives the shell
  // the heredoc as written, so it feeds cmd's stdin (the shell expands it, or not when quoted).
  let argv: string[];
  if (ins.heredocs.length) {
    const h = ins.heredocs[0];
    argv = /^<<-?["']?\w+["']?\s*$/.test(ins.args.trim()) ? shellForm(state, h.content) : shellForm(state, `${ins.args}\n${h.content}${h.name}`);
  } else argv = ins.json ?? shellForm(state, ins.args);
  const createdBy = ins.json ? `/bin/sh -c #(nop) RUN ${JSON.stringify(ins.json)}` : `${argv.slice(0, -1).join(' ')} ${argv[argv.length - 1]}`;
  if (!state.layers.length) throw new TspodError('E_BUILD_RUN', 'RUN needs a base image with a command to run: this stage is FROM scratch with no layers', { hint: 'COPY a static binary in first, or start FROM an image' });
  const argEnv = [...state.args].filter(([k]) => !envMap(state.doc.config?.Env).has(k)).map(([k, val]) => `${k}=${val}`);
  // What the step runs under is part of what it is: its network, mounts, seccomp and limits.
  const confinement = JSON.stringify([o.runOptions?.securityOpt ?? [], o.runOptions?.ulimits ?? []]);
  return step(store, next, state, `RUN ${JSON.stringify(argv)} ${network ?? ''} ${JSON.stringify(mountSpecs)} ${confinement}`, async () => {
    const scratch = store.stagingDir();
    const releases: Array<() => void> = [];
    try {
    const { volumes, tmpfs } = await runMounts(store, mountSpecs, ctx, scratch, releases);
    const [{ createContainer }, { startContainer }, { removeContainer }, { containerLayer }, { StoreDestination }, { current }] = await Promise.all([
      import('./create.js'), import('./start.js'), import('./lifecycle.js'), import('./commit.js'), import('../storage/destination.js'), import('./containers.js'),
    ]);
    const { securityOpt, ulimits, ...dnsAndHosts } = o.runOptions ?? {};
    const rec = await createContainer(store, {
      ...dnsAndHosts, confinement: { securityOpt, ulimits }, image: state.imageId, command: argv, entrypoint: [], env: [...(o.runEnv ?? []), ...argEnv], network, runtime: o.runtime, pull: 'never', imageVolumes: false, volatileRoot: true, volumes, tmpfs,
      labels: ['io.tspod.build=1'], builderPid: process.pid, onWarning: o.onWarning,
    });
    try {
      let code: number | undefined;
      runningSteps.add(rec);
      if (interrupted.value) throw interruptedError();
      try { code = await startContainer(store, rec, { attach: true, interactive: false, streams: { stdout: true, stderr: true } }); } catch (e) {
        // As buildah, which runs the runtime itself: a runtime that fails is the step's exit status.
        const status = (e as { runtimeStatus?: number }).runtimeStatus;
        if (status === undefined) throw e;
        throw new TspodError('E_BUILD_RUN', (e as Error).message, { exitCode: status, hint: (e as TspodError).hint });
      }
      if (code && interrupted.value) throw interruptedError();
      if (code) throw new TspodError('E_BUILD_RUN', `while running runtime: exit status ${code}`, { exitCode: code, hint: 'the RUN command failed; nothing was tagged' });
      const img = store.readImages().find((i) => i.id === state.imageId)!;
      mark('build: RUN ended');
      const diffId = await containerLayer(store, rec, img, new StoreDestination(store, o.onWarning), true);
      mark('build: RUN layer stored');
      return { createdBy, empty: false, diffId };
    } finally {
      runningSteps.delete(rec);
      const now = current(store, rec.id);
      if (now) await removeContainer(store, now, { force: true, volumes: true }).catch(() => {});
    }
    } finally {
      for (const r of releases.reverse()) r();
      store.discard(scratch);
    }
  }, ctx, final);
}

/** One RUN --mount, as BuildKit's syntax has it. */
interface RunMount { type: 'cache' | 'secret' | 'bind' | 'tmpfs'; target: string; source?: string; from?: string; id?: string; readOnly: boolean; required?: boolean }

function parseRunMount(spec: string, state: State): RunMount {
  const kv = new Map<string, string>();
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    kv.set(i < 0 ? part : part.slice(0, i), i < 0 ? 'true' : part.slice(i + 1));
  }
  const type = (kv.get('type') ?? 'bind') as RunMount['type'];
  if (!['cache', 'secret', 'bind', 'tmpfs'].includes(type)) throw new UsageError(`RUN --mount=${spec}: type "${type}" is not supported`, 'use type=cache, secret, bind or tmpfs');
  const workdir = state.doc.config?.WorkingDir || '/';
  const rawTarget = kv.get('target') ?? kv.get('dst') ?? kv.get('destination');
  const id = kv.get('id');
  if (type === 'secret') {
    const sid = id ?? (rawTarget ? path.posix.basename(rawTarget) : undefined);
    if (!sid) throw new UsageError(`RUN --mount=${spec}: a secret needs id=ID`);
    return { type, id: sid, target: path.posix.resolve(workdir, rawTarget ?? `/run/secrets/${sid}`), readOnly: true, required: kv.get('required') === 'true' };
  }
  if (!rawTarget) throw new UsageError(`RUN --mount=${spec}: target= is missing`, 'say where the mount goes, e.g. target=/root/.cache');
  const target = path.posix.resolve(workdir, rawTarget);
  const ro = kv.has('ro') || kv.get('readonly') === 'true' || kv.get('rw') === 'false';
  if (type === 'bind') return { type, target, source: kv.get('source') ?? kv.get('src') ?? '.', from: kv.get('from'), readOnly: !(kv.has('rw') || kv.get('readwrite') === 'true') };
  return { type, target, id: id ?? target, from: kv.get('from'), source: kv.get('source'), readOnly: ro };
}

/** What the mounts of a RUN are, as -v and --tmpfs give them to the container. */
async function runMounts(store: Store, specs: RunMount[], ctx: StageContext, scratch: string, releases: Array<() => void>): Promise<{ volumes: string[]; tmpfs: string[] }> {
  const volumes: string[] = [];
  const tmpfs: string[] = [];
  for (const m of specs) {
    if (m.type === 'tmpfs') { tmpfs.push(m.target); continue; }
    if (m.type === 'cache') {
      // Kept per user between builds, shared by every build that names the same id.
      const dir = path.join(store.root, 'build-cache-mounts', crypto.createHash('sha256').update(m.id!).digest('hex').slice(0, 32));
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      volumes.push(`${dir}:${m.target}${m.readOnly ? ':ro' : ''}`);
      continue;
    }
    if (m.type === 'secret') {
      const secret = ctx.o.secrets?.get(m.id!);
      if (!secret) {
        if (m.required) throw new TspodError('E_BUILD_SECRET', `RUN --mount=type=secret,id=${m.id}: no such secret was given`, { hint: `give it: --secret id=${m.id},src=FILE` });
        continue;
      }
      // A copy only this build reads: the source may change or go while the step runs.
      const file = path.join(scratch, `secret-${m.id}`);
      fs.writeFileSync(file, secret(), { mode: 0o400 });
      volumes.push(`${file}:${m.target}:ro`);
      continue;
    }
    // bind: from the context (default) or a stage's or image's root, read-only unless rw (then a copy, whose changes are dropped).
    let root = ctx.o.context;
    if (m.from !== undefined) {
      const id = await ctx.stageImage(m.from) ?? (await baseImage(store, m.from, ctx.o)).id;
      const img = store.readImages().find((i) => i.id === id)!;
      const sub = path.join(scratch, `from-${releases.length}`);
      fs.mkdirSync(sub);
      const r = await imageRoot(store, img, sub);
      root = r.root;
      releases.push(r.release);
    }
    const { resolveInRoot } = await import('../runtime/rootpath.js');
    let src = resolveInRoot(root, `/${m.source}`);
    if (!fs.existsSync(src)) throw new TspodError('E_BUILD_MOUNT', `RUN --mount=type=bind,source=${m.source}: no such file or directory in ${m.from ?? 'the build context'}`);
    if (!m.readOnly) {
      const copy = path.join(scratch, `rw-${volumes.length}`);
      fs.cpSync(src, copy, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      src = copy;
    }
    volumes.push(`${src}:${m.target}${m.readOnly ? ':ro' : ''}`);
  }
  return { volumes, tmpfs };
}

/** --chown USER[:GROUP] by id or by name, as the image's /etc/passwd and /etc/group say. */
function resolveOwner(store: Store, layers: string[], spec: string | undefined): { uid: number; gid: number } {
  if (!spec) return { uid: 0, gid: 0 };
  const [u, g] = spec.split(':');
  const read = (file: string) => {
    for (const d of [...layers].reverse()) { try { return fs.readFileSync(path.join(store.diffDir(d), file), 'utf8').split('\n').map((l) => l.split(':')); } catch { /* next */ } }
    return [] as string[][];
  };
  const lookup = (name: string, file: string, what: string) => {
    if (/^\d+$/.test(name)) return Number(name);
    const row = read(file).find((r) => r[0] === name);
    if (!row) throw new TspodError('E_BUILD_COPY', `--chown ${spec}: no ${what} "${name}" in the image's /${file}`, { hint: 'use a numeric id, or one the image has' });
    return Number(row[2]);
  };
  const uid = lookup(u, 'etc/passwd', 'user');
  let gid: number;
  if (g !== undefined) gid = lookup(g, 'etc/group', 'group');
  else if (/^\d+$/.test(u)) gid = uid;
  else gid = Number(read('etc/passwd').find((r) => r[0] === u)?.[3] ?? uid);
  return { uid, gid };
}

async function copyInstruction(store: Store, cf: Containerfile, ins: Instruction, state: State, next: State, ctx: StageContext, final: boolean): Promise<State> {
  const { o } = ctx;
  const v = vars(state);
  const x = (s: string) => expand(s, v, cf.escape);
  const flag = (n: string) => ins.flags.find((f) => f.name === n)?.value;
  for (const f of ins.flags) if (!['from', 'chown', 'chmod', 'link'].includes(f.name)) throw new UsageError(`${ins.keyword} --${f.name} is not supported`);
  const words = ins.json ?? shellWords(ins.args, cf.escape);
  const heredocs = new Map(ins.heredocs.map((h) => [h.name, h]));
  const args = words.map((w) => (/^<<-?["']?\w+["']?$/.test(w) ? w : x(w)));
  if (args.length < 2) throw new UsageError(`${ins.keyword} takes SOURCE... DEST`);
  const destGiven = args[args.length - 1];
  const srcGiven = args.slice(0, -1);
  const workdir = state.doc.config?.WorkingDir || '/';
  const dest = path.posix.resolve(workdir, destGiven);
  const chmod = flag('chmod') !== undefined ? parseInt(flag('chmod')!, 8) : undefined;
  if (chmod !== undefined && (Number.isNaN(chmod) || chmod > 0o7777)) throw new UsageError(`--chmod ${flag('chmod')}: not an octal mode`);
  const owner = resolveOwner(store, state.layers, flag('chown') ? x(flag('chown')!) : undefined);
  const scratch = store.stagingDir();
  let release = () => {};
  try {
    // Where the sources come from: the context, another stage or image (--from), heredocs, URLs (ADD).
    let root = o.context;
    let ignore = IgnoreRules.forContext(o.context, o.ignoreFile);
    const from = flag('from');
    if (from !== undefined) {
      const id = await ctx.stageImage(x(from)) ?? (await baseImage(store, x(from), o)).id;
      const img = store.readImages().find((i) => i.id === id)!;
      ({ root, release } = await imageRoot(store, img, scratch));
      ignore = IgnoreRules.none();
    }
    const sources: Source[] = [];
    let keepOwners = false;
    for (const s of srcGiven) {
      const h = /^<<-?["']?(\w+)["']?$/.exec(s);
      if (h && heredocs.has(h[1])) {
        const doc = heredocs.get(h[1])!;
        const file = path.join(scratch, `heredoc-${sources.length}`, h[1]);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, doc.literal ? doc.content : x(doc.content), { mode: 0o644 });
        sources.push({ full: file, rel: h[1] });
        continue;
      }
      if (/^https?:\/\//.test(s)) {
        if (ins.keyword === 'COPY') throw new UsageError(`source can't be a URL for COPY`, 'use ADD to fetch a URL');
        sources.push(await fetchSource(s, scratch));
        continue;
      }
      const found = resolveSources(root, s, ignore);
      for (const f of found) {
        if (ins.keyword === 'ADD' && from === undefined && fs.statSync(f.full).isFile() && isArchive(f.full)) {
          const into = path.join(scratch, `archive-${sources.length}`);
          fs.mkdirSync(into);
          const t = spawnSync('tar', ['-xf', f.full, '-C', into, '--no-same-permissions', '--same-owner'], { encoding: 'utf8' });
          if (t.status !== 0) throw new TspodError('E_BUILD_COPY', `ADD ${f.rel}: the archive does not extract: ${t.stderr.trim().split('\n')[0]}`);
          sources.push({ full: into, rel: '' });
          keepOwners = true;
        } else sources.push(f);
      }
    }
    const destSt = lowerStat(store, state.layers)(dest.slice(1));
    const destIsDir = destGiven.endsWith('/') || sources.length > 1 || !!destSt?.isDirectory() || destGiven === '.';
    const dirOf = destIsDir || sources.every((s) => fs.statSync(s.full).isDirectory()) ? dest : path.posix.dirname(dest);
    const missingParents = missingDirs(store, state.layers, dirOf).filter((d) => `/${d}` !== dest || !sources.some((s) => fs.statSync(s.full).isDirectory()));
    const plan: CopyPlan = { sources, dest, destIsDir, owner, chmod, destExists: !!destSt?.isDirectory(), missingParents, keepOwners: keepOwners && !flag('chown') };
    const digest = await copyDigest(plan);
    const text = `${ins.keyword} ${flag('chown') ? `--chown=${flag('chown')} ` : ''}${flag('chmod') ? `--chmod=${flag('chmod')} ` : ''}${srcGiven.join(' ')} ${dest}`;
    return await step(store, next, state, text, async () => {
      const { StoreDestination } = await import('../storage/destination.js');
      const diffId = await new StoreDestination(store, o.onWarning).addLayer(() => copyLayer(plan));
      return { createdBy: `/bin/sh -c #(nop) ${ins.keyword} ${from !== undefined ? `--from=${from} ` : ''}dir:${digest} in ${dest} `, empty: false, diffId };
    }, ctx, final, digest);
  } finally {
    release();
    store.discard(scratch);
  }
}

function isArchive(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(512);
    const n = fs.readSync(fd, b, 0, 512, 0);
    if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true; // gzip
    if (n >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return true;
    if (n >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true; // xz
    if (n >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return true; // zstd
    return n >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar';
  } finally { fs.closeSync(fd); }
}

/** ADD URL: fetched into the scratch directory, named as the URL's last path element, mode 0600 as Docker does. */
async function fetchSource(url: string, scratch: string): Promise<Source> {
  const name = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'index.html');
  const dir = path.join(scratch, `url-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, name);
  const { getUrl } = await import('../registry/client.js');
  let res: Awaited<ReturnType<typeof getUrl>>;
  try { res = await getUrl(url); } catch (e) {
    throw new TspodError('E_BUILD_ADD', `ADD ${url}: cannot fetch it: ${(e as Error).message}`, { hint: 'check the URL and the network' });
  }
  if (res.statusCode !== 200) { await res.body.dump(); throw new TspodError('E_BUILD_ADD', `ADD ${url}: the server answered ${res.statusCode}`, { hint: 'check the URL' }); }
  fs.writeFileSync(file, Buffer.from(await res.body.arrayBuffer()), { mode: 0o600 });
  const modified = [res.headers['last-modified']].flat()[0];
  if (modified) { const t = new Date(modified); if (!Number.isNaN(t.getTime())) fs.utimesSync(file, t, t); }
  return { full: file, rel: name };
}

/** An image's root, to copy from (COPY --from): its one layer as it is, or a read-only overlay of them. */
async function imageRoot(store: Store, img: ImageRecord, scratch: string): Promise<{ root: string; release(): void }> {
  if (img.layers.length === 0) { const empty = path.join(scratch, 'empty-root'); fs.mkdirSync(empty); return { root: empty, release: () => {} }; }
  if (img.layers.length === 1) return { root: store.diffDir(img.layers[0]), release: () => {} };
  const [{ mountRoot }, { containerLowers }, { chooseDriver }, { isRootless }] = await Promise.all([import('../runtime/rootfs.js'), import('../storage/mapped.js'), import('../storage/driver.js'), import('../paths.js')]);
  const target = path.join(scratch, 'from', 'root');
  for (const d of ['from', 'from-upper', 'from-work', 'from/root']) fs.mkdirSync(path.join(scratch, d));
  const release = mountRoot({ storeRoot: store.root, lowers: containerLowers(store, img.layers), upper: path.join(scratch, 'from-upper'), work: path.join(scratch, 'from-work'), target, rootless: isRootless(), driver: chooseDriver() });
  return { root: target, release };
}
