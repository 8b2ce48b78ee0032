// The module rules of DESIGN.md, held by a test: imports point down only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../src');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => d.isDirectory() ? files(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []);
}

/** Value imports (static and dynamic), as module areas: "commands", "engine", "registry", ... or a package name. */
function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [
    ...[...text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]),
    ...[...text.matchAll(/import\('([^']+)'\)/g)].map((m) => m[1]),
  ];
  return specs.map((s) => s.startsWith('.') ? area(path.resolve(path.dirname(file), s)) : s.replace(/^node:.*/, 'node'));
}

function area(p: string): string {
  const rel = path.relative(SRC, p.replace(/\.js$/, '.ts'));
  return rel.split(path.sep)[0].replace(/\.ts$/, '');
}

const all = files(SRC).map((f) => ({ area: area(f), file: path.relative(SRC, f), deps: imports(f) }));

test('nothing below the CLI imports commands', () => {
  for (const m of all) if (m.area !== 'commands' && m.area !== 'cli') assert.not.ok(m.deps.includes('commands'), `${m.file} imports commands`);
});

test('only commands and the API service use the engine', () => {
  for (const m of all) if (!['commands', 'api', 'engine', 'cli'].includes(m.area)) assert.not.ok(m.deps.includes('engine'), `${m.file} imports engine`);
});

test('the API service is a front end: only its command starts it', () => {
  for (const m of all) if (m.area !== 'commands' && m.area !== 'api') assert.not.ok(m.deps.includes('api'), `${m.file} imports api`);
});

test('the registry client and the store never import each other', () => {
  for (const m of all) {
    if (m.area === 'registry') assert.not.ok(m.deps.includes('storage'), `${m.file} imports storage`);
    if (m.area === 'storage') assert.not.ok(m.deps.includes('registry'), `${m.file} imports registry`);
  }
});

test('native code only in sys, undici only in registry', () => {
  for (const m of all) {
    if (m.area !== 'sys') assert.not.ok(/tspod_sys|'koffi'/.test(fs.readFileSync(path.join(SRC, m.file), 'utf8')), `${m.file} loads native code`);
    // The client requires parts of undici by path ('undici/lib/...'), so the text is checked too.
    if (m.area !== 'registry') assert.not.ok(m.deps.includes('undici') || fs.readFileSync(path.join(SRC, m.file), 'utf8').includes("'undici"), `${m.file} loads undici`);
  }
});

test('copy knows only the source and destination interfaces', () => {
  for (const m of all) if (m.area === 'copy') for (const d of m.deps) assert.ok(['copy', 'errors', 'digest', 'node'].includes(d), `${m.file} imports ${d}`);
});

test.run();
