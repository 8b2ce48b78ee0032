// The launcher finds the command past the global flags (doctor runs outside the user namespace):
// the boolean globals it knows must be GLOBAL_FLAGS' booleans, or it would take a command for a value.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { GLOBAL_FLAGS } from '../../src/commands/globals.js';

const SRC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../src');

test('the launcher\'s boolean globals are GLOBAL_FLAGS\' booleans (and help, version, remote)', () => {
  const c = fs.readFileSync(path.join(SRC, 'launcher/tspod.c'), 'utf8');
  const listed = /BOOLEAN_GLOBALS\[\] = \{ ([^}]*) \}/.exec(c)![1].split(',').map((s) => s.trim().replace(/"/g, '')).filter((s) => s && s !== 'NULL');
  const booleans = GLOBAL_FLAGS.filter((f) => f.kind === 'boolean').flatMap((f) => f.names);
  assert.equal([...listed].sort(), [...new Set([...booleans, '--remote', '-r', '--help', '-h', '--version', '-v'])].sort());
});

test.run();
