// Variable expansion, quoting and KEY=VALUE pairs as Docker reads them, and Docker's ignore-file
// rules (the last matching pattern decides; an ignored directory is entered only for an exception
// written under it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { expand, keyValues, shellWords } from '../../src/build/words.js';
import { IgnoreRules } from '../../src/build/ignore.js';

const vars = new Map([['A', 'x'], ['EMPTY', ''], ['PATH', '/bin']]);

test('expansion: $V, ${V}, defaults and alternates, unknown as empty, escaped dollars kept', () => {
  assert.is(expand('$A/${A}-$NOPE.', vars), 'x/x-.');
  assert.is(expand('${NOPE:-def} ${A:-def} ${EMPTY:-e}', vars), 'def x e');
  assert.is(expand('${A:+alt} ${NOPE:+alt}|', vars), 'alt |');
  assert.is(expand('\\$A costs $5', vars), '$A costs $5');
  assert.is(expand('price `$A', vars, '`'), 'price $A');
});

test('shell words: quotes removed, escaped blanks kept, single quotes literal', () => {
  assert.equal(shellWords(`a "b c" 'd e' f\\ g`), ['a', 'b c', 'd e', 'f g']);
  assert.equal(shellWords(`['/etc/foo', '/etc/bar']`), ['[/etc/foo,', '/etc/bar]']);
  assert.equal(shellWords(`"a\\"b" 'x\\y'`), ['a"b', 'x\\y']);
});

test('KEY=VALUE pairs, the legacy KEY VALUE form, and bare ARG names', () => {
  assert.equal(keyValues('A=1 B="two words" C=\'3\''), [['A', '1'], ['B', 'two words'], ['C', '3']]);
  assert.equal(keyValues('MYENV this is  the value'), [['MYENV', 'this is the value']]);
  assert.equal(keyValues('NAME OTHER=1', '\\', false), [['NAME', undefined], ['OTHER', '1']]);
});

test('ignore rules: globs, **, exceptions, directories, comments', () => {
  const r = new IgnoreRules(['# comment', '*.log', '!important.log', 'cache/', '**/*.tmp', '/rooted', './dot']);
  assert.ok(r.ignored('a.log'));
  assert.not.ok(r.ignored('important.log'));
  assert.not.ok(r.ignored('sub/a.log'), '* stays within one path element');
  assert.ok(r.ignored('cache') && r.ignored('cache/deep/file'), 'a directory takes what it holds');
  assert.ok(r.ignored('x.tmp') && r.ignored('a/b/c.tmp'));
  assert.ok(r.ignored('rooted') && r.ignored('dot'));
  assert.not.ok(r.ignored('keep.txt'));
  assert.ok(IgnoreRules.none().empty);
});

test('an ignored directory is walked only for an exception written under it (subdir1 yes, subdir2 no)', () => {
  const r = new IgnoreRules(['test*', '!test2*', 'subdir1', 'subdir2', '!*/sub1*', '!subdir1/sub3*']);
  const dir = { isDirectory: () => true } as fs.Stats;
  const file = { isDirectory: () => false } as fs.Stats;
  const skip = r.skipper('');
  const kept = [['subdir1', dir], ['subdir1/sub1', file], ['subdir1/sub2', file], ['subdir1/sub3.txt', file], ['subdir2', dir], ['subdir2/sub1', file], ['test1', file], ['test2', file]]
    .filter(([rel, st]) => !skip(rel as string, st as fs.Stats)).map(([rel]) => rel);
  assert.equal(kept, ['subdir1/sub1', 'subdir1/sub3.txt', 'test2']);
});

test.run();
