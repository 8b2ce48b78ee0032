// Bundle the CLI with esbuild (dist/bundle/tspod.mjs): the commands in one module, and each part the
// engine loads on demand (registry client, unpacking, runtime...) in a chunk of its own. Fewer, larger
// modules save Node's loader 30-40 ms per `run` against the plain tsc output, and a command still
// loads only what it uses.
import fs from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: clear out the last build's, or they pile up.
fs.rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: { tspod: 'src/cli.ts' },
  outdir: 'dist/bundle',
  outExtension: { '.js': '.mjs' },
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Packages stay in node_modules: a chunk that needs one imports it, so a command that never loads
  // that chunk never loads the package (and tests can see which packages a command loaded).
  external: ['undici', 'smol-toml', 'zstd-napi', 'koffi'],
  // CommonJS packages inside (clipanion, undici) need a real require() for Node's own modules.
  banner: { js: "import { createRequire as __tspodRequire } from 'node:module'; const require = __tspodRequire(import.meta.url);" },
  logLevel: 'warning',
});
