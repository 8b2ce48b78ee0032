// The command-line kit: Podman's flag grammar (clusters, attached values, --flag=false, --no-flag,
// --), positionals, rest and the container's command taken verbatim, and usage errors in its words.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cli, Command, Option } from '../../src/commands/kit.js';

class Run extends Command {
  static paths = [['run'], ['container', 'run']];
  static usage = Command.Usage({ category: 'Containers', description: 'run a command', examples: [['A shell', '$0 run -it alpine sh']] });
  rm = Option.Boolean('--rm', false, { description: 'remove it' });
  interactive = Option.Boolean('-i,--interactive');
  tty = Option.Boolean('-t,--tty');
  detach = Option.Boolean('-d,--detach');
  name = Option.String('--name');
  env = Option.Array('-e,--env');
  hostname = Option.String('-h,--hostname');
  pull = Option.String('--pull', 'missing');
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true });
  sigProxy = Option.Boolean('--sig-proxy', true);
  noTrunc = Option.Boolean('--no-trunc');
  image = Option.String({ name: 'IMAGE' });
  command = Option.Proxy();
  async execute() { return 0; }
}

class Rm extends Command {
  static paths = [['rm']];
  force = Option.Boolean('-f,--force');
  time = Option.String('-t,--time', '10');
  containers = Option.Rest({ required: 1 });
  async execute() { return 0; }
}

const cli = new Cli({ name: 'tspod', version: '1.2.3' });
cli.register(Run);
cli.register(Rm);
cli.register(class Version extends Command { static paths = [['version']]; async execute() { return 0; } });
const parse = <T>(...argv: string[]) => cli.process(argv) as unknown as T;

test('clusters of short flags, attached and separate values, long flags with =', () => {
  const r = parse<Run>('run', '-dit', '--name=web', '-e', 'A=1', '-eB=2', '-e=C=3', '--env', 'D=4', '-h', 'box', 'alpine');
  assert.equal([r.detach, r.interactive, r.tty, r.name, r.env, r.hostname, r.image], [true, true, true, 'web', ['A=1', 'B=2', 'C=3', 'D=4'], 'box', 'alpine']);
  assert.is(r.pull, 'missing', 'defaults');
  assert.is(r.tlsVerify, undefined);
  assert.is(parse<Rm>('rm', '-t5', 'a').time, '5');
});

test('booleans take =true/=false and --no-FLAG; a string may tolerate a bare flag', () => {
  const r = parse<Run>('run', '--sig-proxy=false', '--tls-verify', '--no-trunc', 'alpine');
  assert.equal([r.sigProxy, r.tlsVerify, r.noTrunc], [false, true, true]);
  assert.is(parse<Run>('run', '--no-sig-proxy', '--tls-verify=false', 'x').sigProxy, false);
  assert.is(parse<Run>('run', '--tls-verify=false', 'x').tlsVerify, 'false');
  assert.throws(() => parse('run', '--rm=maybe', 'x'), /invalid argument "maybe" for --rm: it takes true or false/);
  const short = parse<Run>('run', '--tty', '-i=false', 'x');
  assert.equal([short.tty, short.interactive], [true, false], 'a short boolean takes =false too, as pflag reads -i=false');
  assert.is(parse<Run>('run', '-t=true', 'x').tty, true);
});

test('after the image, everything is the container\'s command, flags and -- included', () => {
  const r = parse<Run>('run', '--rm', 'alpine', 'sh', '-c', 'echo --rm -it', '--', '-x');
  assert.is(r.rm, true);
  assert.equal(r.command, ['sh', '-c', 'echo --rm -it', '--', '-x']);
  assert.equal(parse<Run>('run', 'alpine').command, []);
  assert.equal(parse<Run>('run', '--', 'alpine', 'ls').command, ['ls'], '-- ends tspod\'s own flags');
});

test('rest arguments may have flags between them; the longest path wins', () => {
  const r = parse<Rm>('rm', 'a', '-f', 'b', '--', '-c');
  assert.equal([r.force, r.containers], [true, ['a', 'b', '-c']]);
  const c = parse<Run>('container', 'run', 'alpine');
  assert.equal(c.path, ['container', 'run']);
});

test('usage errors say what is wrong in one line, in Podman\'s words', () => {
  assert.throws(() => parse('run', '--bogus', 'x'), /^unknown flag: --bogus$/);
  assert.throws(() => parse('run', '-z', 'x'), /^unknown shorthand flag: 'z' in -z$/);
  assert.throws(() => parse('run', '--name'), /^flag needs an argument: --name$/);
  assert.throws(() => parse('run', '-h'), /^flag needs an argument: 'h' in -h$/, 'run\'s -h is --hostname, as Podman\'s');
  assert.throws(() => parse('run', '--rm'), /^`tspod run` requires IMAGE$/);
  assert.throws(() => parse('rm'), /^`tspod rm` requires at least 1 arg\(s\)$/);
  assert.throws(() => parse('version', 'x'), /^`tspod version` takes no arguments$/);
  assert.throws(() => parse('nope'), /^unrecognized command `tspod nope`$/);
  assert.throws(() => parse('nope', '--invalid'), /^unknown flag: --invalid$/, 'an unknown flag is named before an unknown command');
  assert.throws(() => parse('container'), /^missing command 'tspod container COMMAND'$/);
  assert.throws(() => parse('container', 'nope'), (e: Error & { hint?: string }) => e.message === 'unrecognized command `tspod container nope`' && e.hint === "Try 'tspod container --help' for more information");
});

test('--help (and -h where it is no flag of the command), --version, and no command', async () => {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => { out.push(s); return true; }) as typeof process.stdout.write;
  try {
    await cli.process(['run', '--help']).execute();
    await cli.process(['rm', '-h']).execute();
    await cli.process(['--version']).execute();
    await cli.process([]).execute();
  } finally {
    process.stdout.write = write;
  }
  // Podman's layout, which scripts and its tests read: Usage, Aliases, Examples, Options.
  assert.match(out[0], /^run a command\n\nUsage:\n  tspod run \[options\] IMAGE \[COMMAND \[ARG\.\.\.\]\]\n/);
  assert.match(out[0], /^      --rm  +remove it$/m);
  assert.match(out[0], /^      --pull string  +\(default "missing"\)$/m);
  assert.match(out[0], /^  -e, --env stringArray/m);
  assert.match(out[0], /^Examples:\n  tspod run -it alpine sh$/m);
  assert.match(out[0], /^Aliases:\n  run, container run$/m);
  assert.match(out[1], /^Usage:\n  tspod rm \[options\] ARG \[ARG\.\.\.\]$/m);
  assert.is(out[2], 'tspod version 1.2.3\n');
  assert.match(out[3], /^Manage pods, containers and images\n\nUsage:\n  tspod \[options\] \[command\]\n\nAvailable Commands:\n  container  +Manage containers\n/);
  assert.match(out[3], /^  rm  +\n/m);
  assert.match(out[3], /^  run  +run a command$/m);
  // run has -h as --hostname: there -h is the flag, not help.
  assert.is(parse<Run>('run', '-h', 'box', 'alpine').hostname, 'box');
});

test('a global flag among a command\'s options is handed to the global parser; after the image it is the container\'s', () => {
  const taken: string[][] = [];
  const g = new Cli({ name: 'tspod', version: '1', takeGlobal: (w) => (w[0].startsWith('--log-level') ? (taken.push(w), w[0].includes('=') ? 1 : 2) : 0) });
  g.register(Run);
  const r = g.process(['run', '--log-level', 'debug', '--rm', 'alpine', '--log-level=x']) as unknown as Run;
  assert.equal(taken, [['--log-level', 'debug']]);
  assert.is(r.rm, true);
  assert.equal(r.command, ['--log-level=x']);
  assert.throws(() => g.process(['run', '--nonesuch', 'alpine']), /unknown flag: --nonesuch/);
});

test.run();
