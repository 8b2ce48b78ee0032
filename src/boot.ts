// The boot loader bin/tspod starts: compile the bundled CLI (dist/bundle/cli.cjs) with V8's code
// cache and run it. The cache is per user and per command (`run`, `ps`, ...), written by the first
// run of that command after each build, so it holds the bytecode of the functions that command
// runs. V8 checks it against the source and its own version and flags and rejects a cache that
// does not fit; then this run compiles as usual and writes a new one. Nothing here may import the
// rest of tspod: this file is the part that runs before the cache helps.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import Module from 'node:module';

const bundle = path.join(__dirname, 'cli.cjs');
const source = fs.readFileSync(bundle, 'utf8');

/** The command's name (the first word that is not a global flag), to key its cache. */
function commandWord(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--log-level') { i++; continue; }
    if (args[i].startsWith('-')) continue;
    return /^[a-z-]{1,20}$/.test(args[i]) ? args[i] : 'other';
  }
  return 'none';
}

/** This build's caches start with this; others are an earlier build's, removed when a new one is written. */
function cachePrefix(): string | undefined {
  const home = process.env.HOME;
  const base = process.env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : undefined);
  if (!base) return undefined;
  const st = fs.statSync(bundle);
  return path.join(base, 'tspod', `code-${st.size}-${Math.floor(st.mtimeMs)}-${process.version}-`);
}

const prefix = cachePrefix();
const file = prefix && `${prefix}${commandWord(process.argv.slice(2))}.v8`;

let cachedData: Buffer | undefined;
try { if (file) cachedData = fs.readFileSync(file); } catch { /* first run of this command */ }

const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
// For the startup tests: did this run use the cache, or write one?
if (process.env.TSPOD_DEBUG_MODULES) {
  const how = !cachedData ? 'written' : script.cachedDataRejected ? 'rejected, written' : 'used';
  process.once('exit', () => process.stderr.write(`tspod-code-cache: ${how} ${file ?? '(no cache dir)'}\n`));
}
if (file && (!cachedData || script.cachedDataRejected)) {
  process.once('exit', () => {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, file);
      const dir = path.dirname(file);
      for (const old of fs.readdirSync(dir)) if (old.startsWith('code-') && !path.join(dir, old).startsWith(prefix!)) fs.rmSync(path.join(dir, old), { force: true });
    } catch { /* no cache then: the next run compiles again */ }
  });
}
const cli = new Module(bundle, module);
cli.filename = bundle;
(script.runInThisContext() as (...a: unknown[]) => void).call(cli.exports, cli.exports, Module.createRequire(bundle), cli, bundle, __dirname);
