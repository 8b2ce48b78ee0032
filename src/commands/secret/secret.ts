// secret create, ls, inspect, rm, exists: Podman's file driver.
import fs from 'node:fs';
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

async function engine() {
  const [secrets, { Store }] = await Promise.all([import('../../engine/secrets.js'), import('../../storage/store.js')]);
  return { ...secrets, store: new Store().init() };
}

export class SecretCreateCommand extends TspodCommand {
  static paths = [['secret', 'create']];
  static usage = TspodCommand.Usage({
    category: 'Secrets',
    description: 'create a secret from a file, or from stdin with -',
    details: 'The data is kept in a file only you can read; containers given `--secret NAME` find it at /run/secrets/NAME.',
    examples: [['From a file', '$0 secret create dbpass ./dbpass.txt'], ['From stdin', 'printf hunter2 | $0 secret create dbpass -']],
  });

  driver = Option.String('-d,--driver', 'file', { description: 'Secret driver (file)' });
  label = Option.Array('-l,--label', [], { description: 'KEY=VALUE metadata' });
  replace = Option.Boolean('--replace', false, { description: 'Replace a secret of the same name' });
  name = Option.String({ name: 'NAME' });
  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    const e = await engine();
    const { TspodError } = await import('../../errors.js');
    let data: Buffer;
    try { data = this.file === '-' ? fs.readFileSync(0) : fs.readFileSync(this.file); } catch (err) {
      throw new TspodError('E_USAGE', `cannot read secret data from ${this.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    const rec = e.createSecret(e.store, this.name, data, { driver: this.driver, labels: this.label, replace: this.replace });
    process.stdout.write(`${rec.id}\n`);
    return 0;
  }
}

export class SecretListCommand extends TspodCommand {
  static paths = [['secret', 'ls'], ['secret', 'list']];
  static usage = TspodCommand.Usage({ category: 'Secrets', description: 'list secrets', examples: [['List', '$0 secret ls']] });

  format = Option.String('--format', { description: 'Go template or json' });
  noHeading = Option.Boolean('-n,--noheading', false, { description: 'Do not print headers' });
  filter = Option.Array('-f,--filter', [], { description: 'name=NAME, id=ID' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print IDs only' });

  async run(): Promise<number> {
    const e = await engine();
    const [{ writeReport }, { parseFilters, matchesAll }, { goTime }] = await Promise.all([import('../report.js'), import('../../engine/filters.js'), import('../format.js')]);
    const filters = parseFilters(this.filter, ['name', 'id'], 'secret ls');
    const secrets = e.listSecrets(e.store).filter((s) => matchesAll(filters, (k, v) => (k === 'name' ? s.name.includes(v) : s.id.startsWith(v))));
    if (this.quiet && !this.format) { process.stdout.write(secrets.map((s) => `${s.id}\n`).join('')); return 0; }
    const { humanDuration } = await import('../format.js');
    const ago = (iso: string) => `${humanDuration(Date.now() - Date.parse(iso))} ago`;
    const rows = secrets.map((s) => ({ ID: s.id, Name: s.name, Driver: s.driver, CreatedAt: ago(s.created), UpdatedAt: ago(s.created), Created: goTime(s.created), Labels: s.labels }));
    writeReport({ name: 'secret ls', format: this.format, rows, defaultFormat: '{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}', headers: { ID: 'ID', CreatedAt: 'CREATED', UpdatedAt: 'UPDATED' }, noHeading: this.noHeading });
    return 0;
  }
}

export class SecretInspectCommand extends TspodCommand {
  static paths = [['secret', 'inspect']];
  static usage = TspodCommand.Usage({ category: 'Secrets', description: 'show the details of secrets (never their data)', examples: [['Inspect', '$0 secret inspect dbpass']] });

  format = Option.String('-f,--format', { description: 'json (default), or a Go template' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const e = await engine();
    const { printReports } = await import('../report.js');
    printReports(this.names.map((n) => e.inspectSecret(e.store, e.findSecret(e.store, n))), this.format, 'secret inspect');
    return 0;
  }
}

export class SecretRemoveCommand extends TspodCommand {
  static paths = [['secret', 'rm'], ['secret', 'remove']];
  static usage = TspodCommand.Usage({ category: 'Secrets', description: 'remove secrets', examples: [['Remove', '$0 secret rm dbpass'], ['All', '$0 secret rm -a']] });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all secrets' });
  names = Option.Rest();

  async run(): Promise<number> {
    const e = await engine();
    const { UsageError } = await import('../../errors.js');
    if (!this.all && !this.names.length) throw new UsageError('give secret names, or --all');
    const targets = this.all ? e.listSecrets(e.store) : this.names.map((n) => e.findSecret(e.store, n));
    for (const s of targets) { e.removeSecret(e.store, s); process.stdout.write(`${s.id}\n`); }
    return 0;
  }
}

export class SecretExistsCommand extends TspodCommand {
  static paths = [['secret', 'exists']];
  static usage = TspodCommand.Usage({ category: 'Secrets', description: 'exit 0 when the secret exists, 1 when not', examples: [['Check', '$0 secret exists dbpass']] });

  name = Option.String({ name: 'NAME' });

  async run(): Promise<number> {
    const e = await engine();
    try { e.findSecret(e.store, this.name); return 0; } catch { return 1; }
  }
}
