// The Containerfile parser: directives, comments, continuations, heredocs, flags, forms, stages,
// and the errors that name the line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseContainerfile, BuildSyntaxError } from '../../src/build/parse.js';

test('stages, names, global ARGs, exec and shell forms, flags', () => {
  const f = parseContainerfile([
    'ARG BASE=alpine:3.20',
    'FROM $BASE AS build',
    'RUN --mount=type=cache,target=/root/.cache --network=none make all',
    'COPY --chown=app:app --from=0 ["a b", "/dst/"]',
    'CMD ["sh", "-c", "echo hi"]',
    'from scratch',
    'copy --from=build /out /',
  ].join('\n'));
  assert.is(f.globalArgs.length, 1);
  assert.is(f.stages.length, 2);
  assert.is(f.stages[0].name, 'build');
  assert.is(f.stages[0].from.args, '$BASE AS build');
  const [run, copy, cmd] = f.stages[0].instructions;
  assert.equal(run.flags, [{ name: 'mount', value: 'type=cache,target=/root/.cache' }, { name: 'network', value: 'none' }]);
  assert.is(run.args, 'make all');
  assert.is(run.json, undefined);
  assert.equal(copy.flags.map((x) => x.name), ['chown', 'from']);
  assert.equal(copy.json, ['a b', '/dst/']);
  assert.equal(cmd.json, ['sh', '-c', 'echo hi']);
  assert.is(f.stages[1].from.keyword, 'FROM', 'keywords are case-insensitive');
  assert.is(f.stages[1].instructions[0].keyword, 'COPY');
});

test('continuations join lines, skipping comments and blank lines inside; the escape directive changes the character', () => {
  const f = parseContainerfile('FROM alpine\nRUN apk add \\\n# a comment\n\n    curl \\\n    jq\nENV A=1\n');
  assert.is(f.stages[0].instructions[0].args, 'apk add     curl     jq');
  assert.is(f.stages[0].instructions[1].line, 7);
  const w = parseContainerfile('# escape=`\n# syntax=docker/dockerfile:1.4\nFROM alpine\nRUN echo a `\n b\n');
  assert.is(w.escape, '`');
  assert.is(w.syntax, 'docker/dockerfile:1.4');
  assert.is(w.stages[0].instructions[0].args, 'echo a  b');
  // A directive after a comment is only a comment.
  assert.is(parseContainerfile('# hello\n# escape=`\nFROM alpine\n').escape, '\\');
});

test('heredocs: several per instruction, <<- strips tabs, a quoted terminator means no expansion', () => {
  const f = parseContainerfile('FROM alpine\nRUN <<EOF\necho one\necho $HOME\nEOF\nCOPY <<-"A" <<B /dst/\n\tliteral $X\nA\nb body\nB\nRUN true\n');
  const [run, copy, last] = f.stages[0].instructions;
  assert.equal(run.heredocs, [{ name: 'EOF', content: 'echo one\necho $HOME\n', literal: false }]);
  assert.equal(copy.heredocs, [{ name: 'A', content: 'literal $X\n', literal: true }, { name: 'B', content: 'b body\n', literal: false }]);
  assert.is(copy.args, '<<-"A" <<B /dst/');
  assert.is(last.args, 'true');
  assert.is(last.line, 11);
});

test('errors name the file and line', () => {
  const fails = (text: string, re: RegExp) => {
    try { parseContainerfile(text, 'Containerfile'); assert.unreachable(); } catch (e) { assert.instance(e, BuildSyntaxError); assert.match((e as Error).message, re); }
  };
  fails('FROM alpine\nRUNN true\n', /^Containerfile:2: unknown instruction: RUNN/);
  fails('RUN true\n', /Containerfile:1: RUN before the first FROM/);
  fails('# only a comment\n', /no instructions/);
  fails('FROM alpine\nRUN <<EOF\necho\n', /Containerfile:2: the heredoc <<EOF is never ended/);
  fails('FROM alpine\nRUN\n', /Containerfile:2: RUN needs an argument/);
  fails('ARG X\n', /no FROM/);
});

test.run();
