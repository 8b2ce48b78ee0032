import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { UsageError } from '../../errors.js';

const FORMATS = ['docker-archive', 'oci-archive', 'oci-dir', 'docker-dir'];

export class SaveCommand extends TspodCommand {
  static paths = [['save'], ['image', 'save']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'write images to an archive (docker-archive by default) or an OCI directory',
    details: 'Layers are written out of the store byte for byte, so the archive loads back (in tspod, Podman or Docker) as the same image, with the same ID. Without -o the archive goes to stdout.',
    examples: [
      ['Save to a file', '$0 save -o alpine.tar alpine:3.20'],
      ['Several images in one archive', '$0 save -m -o both.tar alpine:3.20 busybox'],
      ['An OCI archive, through a pipe', '$0 save --format oci-archive alpine | gzip > alpine.oci.tar.gz'],
    ],
  });

  output = Option.String('-o,--output', { description: 'write to this file (or directory, for oci-dir)' });
  format = Option.String('--format', { description: 'docker-archive (default), oci-archive, oci-dir' });
  multi = Option.Boolean('-m,--multi-image-archive', false, { description: 'every argument is an image of one docker-archive' });
  uncompressed = Option.Boolean('--uncompressed', false, { description: 'oci formats: keep layers as plain tars' });
  compress = Option.Boolean('--compress', false, { description: 'compress layers (the oci formats do by default)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'print nothing but errors' });
  images = Option.Rest({ name: 'IMAGE', required: 1 });

  async run(): Promise<number> {
    if (this.format !== undefined && !FORMATS.includes(this.format)) throw new UsageError(`unknown --format "${this.format}"`, `use one of ${FORMATS.join(', ')}`);
    const [{ saveImages }, { Store }] = await Promise.all([import('../../engine/transfer.js'), import('../../storage/store.js')]);
    await saveImages(new Store(), this.images, { output: this.output, format: this.format as 'docker-archive' | undefined, multiImage: this.multi, uncompressed: this.uncompressed });
    return 0;
  }
}

export class LoadCommand extends TspodCommand {
  static paths = [['load'], ['image', 'load']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'load images from a docker-archive or oci-archive',
    details: 'Reads a file given with -i, or stdin; gzip- and zstd-compressed archives too. Every layer is verified against the image config before anything is recorded: a damaged archive loads nothing.',
    examples: [['Load from a file', '$0 load -i alpine.tar'], ['Load from stdin', 'zcat alpine.tar.gz | $0 load']],
  });

  input = Option.String('-i,--input', { description: 'read from this file instead of stdin' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'print only the loaded names' });

  async run(): Promise<number> {
    if (!this.input && process.stdin.isTTY) throw new UsageError('cannot read from terminal, use command-line redirection or the --input flag');
    const [{ loadImages }, { Store }] = await Promise.all([import('../../engine/transfer.js'), import('../../storage/store.js')]);
    const report = await loadImages(new Store(), this.input ?? '-', { onWarning: (m) => process.stderr.write(`Warning: ${m}\n`) });
    process.stdout.write(`Loaded image: ${report.names.join('\nLoaded image: ')}\n`);
    return 0;
  }
}
