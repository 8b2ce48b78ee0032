// Bundle the CLI with esbuild: dist/bundle/cli.cjs holds all of tspod's code in one CommonJS file
// (engine parts stay lazy: esbuild turns each `import()` into a call that evaluates that part on
// first use), and dist/bundle/tspod.cjs is the boot loader that compiles it with V8's code cache.
// One file and a code cache spare Node's ESM loader and the parse and compile of every function a
// command runs: `run` starts ~20 ms sooner than from ES module chunks (README, bench).
import fs from 'node:fs';
import { build } from 'esbuild';

fs.rmSync('dist/bundle', { recursive: true, force: true });

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/bundle/cli.cjs',
  // Packages stay in node_modules: the code that needs one requires it, so a command that never
  // gets there never loads it (and tests can see which packages a command loaded).
  external: ['undici', 'smol-toml', 'zstd-napi'],
  // The sources are ES modules that find their packages from import.meta.url.
  define: { 'import.meta.url': '__tspodModuleUrl' },
  banner: { js: "const __tspodModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// esbuild gives every module's `import fs from 'node:fs'` its own __toESM wrapper, which defines a
// getter per property of the builtin: 63 wrappers, ~3 ms at every start. One per builtin will do.
const cli = fs.readFileSync('dist/bundle/cli.cjs', 'utf8');
const wrapped = /__toESM\(require\("(node:[\w/]+)"\), 1\)/g;
if (!wrapped.test(cli)) throw new Error('dist/bundle/cli.cjs: no __toESM(require("node:...")) left to share: has esbuild changed its output?');
fs.writeFileSync('dist/bundle/cli.cjs', cli.replace(wrapped, '__tspodBuiltin("$1")').replace('\n// src/', `
var __tspodBuiltins = new Map();
var __tspodBuiltin = (id) => {
  let m = __tspodBuiltins.get(id);
  if (!m) __tspodBuiltins.set(id, m = __toESM(require(id), 1));
  return m;
};

// src/`));

// vm.Script has no ES module loader: a dynamic import() left in the bundle would fail at run time.
const left = /[^\w$.]import\(/.exec(fs.readFileSync('dist/bundle/cli.cjs', 'utf8'));
if (left) throw new Error('dist/bundle/cli.cjs has a dynamic import() esbuild did not inline: import that module statically');

await build({ ...common, entryPoints: ['src/boot.ts'], outfile: 'dist/bundle/tspod.cjs' });
