// Bundle the CLI into one ES module (dist/tspod.mjs): one file to load instead of some forty saves
// Node's module loader about 30 ms per `run`. Packages the bundle holds (undici, tar-stream...) are
// wrapped lazily by esbuild, so a command still evaluates only what it imports. The native addons
// stay outside and load from node_modules when needed.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/tspod.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['zstd-napi', 'koffi'],
  // CommonJS packages inside (clipanion, undici) need a real require() for Node's own modules.
  banner: { js: "import { createRequire as __tspodRequire } from 'node:module'; const require = __tspodRequire(import.meta.url);" },
  logLevel: 'warning',
});
