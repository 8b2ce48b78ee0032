// The Go-template engine behind every --format. Expected outputs were captured from Podman 4.3.1
// on this machine (`podman version --format '...'`, whose templates are Go's text/template), or
// follow Go's documented semantics where Podman can't be given the data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Template, TemplateError, goMap, goType, tabwrite, formatValue } from '../../src/commands/template.js';

const run = (src: string, data: unknown = {}, name = 'version') => new Template(src, name).execute(data);

test('functions and printf as Podman prints them', () => {
  assert.is(run('{{printf "%5.2f|%-4s|%q|%d|%x|%v" 3.14159 "ab" "x" 42 255 true}}'), ' 3.14|ab  |"x"|42|ff|true');
  assert.is(run('{{"a b" | upper}} {{len "héllo"}} {{index (split "a,b,c" ",") 1}} {{join (split "a,b" ",") "+"}} {{title "hello wORLD foo-bar"}} {{1.5}} {{1e21}} {{eq 1 2 1}} {{and 1 0 2}} {{or 0 "" "x"}} {{not 0}} {{print 1 2 "a" 3 "b" "c"}} {{println 1 "a"}}|'),
    'A B 6 b a+b Hello WORLD Foo-Bar 1.5 1e+21 true 0 x true 1 2a3bc 1 a\n|');
  assert.is(run('{{printf "%05d|%-6.2f|%+d|%s" 42 3.14159 5 nil}}'), '00042|3.14  |+5|%!s(<nil>)');
  assert.is(run('{{len (split "a,b" ",")}} {{slice "abcdef" 1 3}} {{index "abc" 1}} {{"x" | printf "%s-%s" "y"}} {{truncate "abcdef" 3}}'), '2 bc 98 y-x abc');
});

test('range, if / else if / else, with, variables and trim markers', () => {
  assert.is(run('{{range $i, $e := split "a,b,c" ","}}{{if $i}}, {{end}}{{$i}}={{$e}}{{end}}|{{range split "" ","}}x{{else}}none{{end}}|{{with $x := "v"}}{{$x}}{{.}}{{end}}|{{if eq 1 2}}a{{else if eq 2 2}}b{{else}}c{{end}}|{{- "  trim  " -}}  |  {{ 3 -}}   x'),
    '0=a, 1=b, 2=c|x|vv|b|  trim  |  3x');
  assert.is(run('{{range .}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}', [1, 2, 3, 4, 5]), '13');
  assert.is(run('{{range .L}}{{.}}{{else}}empty{{end}}', { L: [] }), 'empty');
  assert.is(run('{{$n := 1}}{{range .}}{{$n = .}}{{end}}{{$n}}', [7, 8]), '8');
  assert.is(run('{{/* a comment */}}a{{- /* trimmed */ -}} b'), 'ab');
  assert.is(run('{{if and .A (not .B)}}yes{{end}}', { A: 1, B: '' }), 'yes');
  assert.is(run('{{with .Missing}}x{{else}}no{{end}}', { Missing: null }), 'no');
});

test('fields: structs fail on unknown names, maps print <no value>, methods are called', () => {
  const data = goType({ Id: 'abc', Labels: goMap({ b: '2', a: '1' }), State: { Running: true, ExitCode: 0 }, Name() { return 'computed'; } }, '*define.Version');
  assert.is(run('{{.Id}} {{.State.Running}} {{.State.ExitCode}} {{.Labels.a}} {{.Labels.zzz}} {{.Name}}', data), 'abc true 0 1 <no value> computed');
  assert.is(run('{{.Labels}} {{.State}}', data), 'map[a:1 b:2] {true 0}');
  assert.is(run('{{index .Labels "b"}} {{len .Labels}}', data), '2 2');
  assert.throws(() => run('{{.Nope}}', data), (e: Error) => e instanceof TemplateError && e.message === 'template: version:1:2: executing "version" at <.Nope>: can\'t evaluate field Nope in type *define.Version');
  // Go places a chain at its second field: captured from `podman info --format 'x{{ .Host.Nope }}'`.
  const info = goType({ Host: goType({ Arch: 'amd64' }, '*define.HostInfo') }, '*define.Info');
  assert.throws(() => run('x{{ .Host.Nope }}', info, 'info'), (e: Error) => e.message === 'template: info:1:9: executing "info" at <.Host.Nope>: can\'t evaluate field Nope in type *define.HostInfo');
  assert.throws(() => run('{{.Nope}}', info, 'info'), (e: Error) => e.message === 'template: info:1:2: executing "info" at <.Nope>: can\'t evaluate field Nope in type *define.Info');
  assert.throws(() => run('{{nofunc 1}}'), (e: Error) => e.message === 'template: version:1: function "nofunc" not defined');
  assert.throws(() => run('{{if 1}}x'), /unexpected EOF/);
  assert.throws(() => run('{{end}}'), /unexpected \{\{end\}\}/);
});

test('json is compact and leaves <, > and & alone, like Podman\'s', () => {
  assert.is(run('{{json .}}', { A: 'a<b>&c', N: [1, 2], M: null }), '{"A":"a<b>&c","N":[1,2],"M":null}');
  assert.is(run('{{json .A}}', { A: 'x' }), '"x"');
});

test('values print as Go\'s %v', () => {
  assert.is(formatValue([1, 'a', true]), '[1 a true]');
  assert.is(formatValue(null), '<nil>');
  assert.is(formatValue(undefined), '<no value>');
  assert.is(formatValue(goMap({})), 'map[]');
});

test('tabwriter aligns columns as Podman\'s (minwidth 12, padding 2); the last cell is never padded', () => {
  assert.is(tabwrite('REPOSITORY\tTAG\tID\na.b/c\td\t123\nzzzzzzzzzz.yyyyyyyyy/xxxxxxxxx\tlongtagvalue123\t456\n'),
    'REPOSITORY                      TAG              ID\n' +
    'a.b/c                           d                123\n' +
    'zzzzzzzzzz.yyyyyyyyy/xxxxxxxxx  longtagvalue123  456\n');
  assert.is(tabwrite('a\tb\n'), 'a           b\n');
  assert.is(tabwrite('no tabs here\n'), 'no tabs here\n');
});

test.run();
