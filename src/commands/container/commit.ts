import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { UsageError } from '../../errors.js';

export class CommitCommand extends TspodCommand {
  static paths = [['commit'], ['container', 'commit']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'make an image of a container: its changes as one more layer over its image',
    details: 'Files deleted in the container become whiteouts that every tool honours. A running container keeps running (with --pause it is frozen while its files are read).',
    examples: [
      ['Commit under a name', '$0 commit web localhost/web:fixed'],
      ['With a new command and a message', '$0 commit -c \'CMD ["httpd", "-f"]\' -m "fixed the config" web web:2'],
    ],
  });

  change = Option.Array('-c,--change', [], { description: 'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)' });
  message = Option.String('-m,--message', { description: 'commit message (the image history\'s comment)' });
  author = Option.String('-a,--author', { description: 'author of the image' });
  pause = Option.Boolean('-p,--pause', false, { description: 'pause the container while it is committed' });
  format = Option.String('-f,--format', { description: 'oci (default) or docker' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'print only the image id' });
  squash = Option.Boolean('--squash', false, { description: 'not supported: the image keeps its layers' });
  container = Option.String({ name: 'CONTAINER' });
  rest = Option.Rest({ name: 'IMAGE' });

  async run(): Promise<number> {
    const [{ commitContainer }, { Store }] = await Promise.all([import('../../engine/commit.js'), import('../../storage/store.js')]);
    const id = await commitContainer(new Store(), this.container, this.rest[0], {
      changes: this.change, message: this.message, author: this.author, pause: this.pause, format: this.format as 'oci' | undefined,
      onWarning: (m) => process.stderr.write(`Warning: ${m}\n`),
    });
    process.stdout.write(`${id}\n`);
    return 0;
  }
}

export class DiffCommand extends TspodCommand {
  static paths = [['diff'], ['container', 'diff'], ['image', 'diff']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'list the files a container (or an image\'s top layer) added, changed or deleted',
    examples: [['What did the container change?', '$0 diff web'], ['As JSON', '$0 diff --format json web']],
  });

  format = Option.String('--format', { description: 'json' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod is aware of' });
  rest = Option.Rest({ name: 'CONTAINER|IMAGE' });

  async run(): Promise<number> {
    const [{ changesOf }, { Store }, { checkTargetFlags, resolveTargets }] = await Promise.all([import('../../engine/commit.js'), import('../../storage/store.js'), import('./targets.js')]);
    const store = new Store();
    checkTargetFlags({ names: this.rest, latest: this.latest });
    if (!this.latest && this.rest.length !== 1) throw new UsageError('diff takes one container or image');
    const target = this.latest ? (await resolveTargets(store, { names: [], latest: true }))[0].rec.id : this.rest[0];
    const changes = await changesOf(store, target);
    if (this.format === 'json') {
      const by = (k: string) => changes.filter((c) => c.kind === k).map((c) => c.path);
      const doc: Record<string, string[]> = {};
      if (by('C').length) doc.changed = by('C');
      if (by('A').length) doc.added = by('A');
      if (by('D').length) doc.deleted = by('D');
      process.stdout.write(`${JSON.stringify(doc, null, 4)}\n`);
      return 0;
    }
    for (const c of changes) process.stdout.write(`${c.kind} ${c.path}\n`);
    return 0;
  }
}

export class ExportCommand extends TspodCommand {
  static paths = [['export'], ['container', 'export']];
  static usage = TspodCommand.Usage({
    category: 'Containers',
    description: 'write a container\'s whole file system as a tar (its volumes left out)',
    examples: [['Export to a file', '$0 export -o web.tar web'], ['Through a pipe', '$0 export web | tar -t']],
  });

  output = Option.String('-o,--output', { description: 'write to this file instead of stdout' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const [{ exportContainer }, { Store }] = await Promise.all([import('../../engine/commit.js'), import('../../storage/store.js')]);
    await exportContainer(new Store(), this.container, this.output);
    return 0;
  }
}

export class ImportCommand extends TspodCommand {
  static paths = [['import'], ['image', 'import']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'make a one-layer image of a root file system tarball (a file, a URL, or - for stdin)',
    examples: [['Import an export under a name', '$0 import web.tar localhost/web:flat'], ['With a command', '$0 import -c \'CMD ["/bin/sh"]\' rootfs.tar.gz base']],
  });

  change = Option.Array('-c,--change', [], { description: 'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ...)' });
  message = Option.String('-m,--message', { description: 'commit message for the imported image' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'print only the image id' });
  source = Option.String({ name: 'FILE|URL|-' });
  rest = Option.Rest({ name: 'NAME' });

  async run(): Promise<number> {
    const [{ importTarball }, { Store }] = await Promise.all([import('../../engine/commit.js'), import('../../storage/store.js')]);
    const id = await importTarball(new Store(), this.source, this.rest[0], { changes: this.change, message: this.message, onWarning: (m) => process.stderr.write(`Warning: ${m}\n`) });
    process.stdout.write(`sha256:${id}\n`);
    return 0;
  }
}
