import { Option } from '../kit.js';
import { TspodCommand, tlsVerifyFlag } from '../base.js';

export class PullCommand extends TspodCommand {
  static paths = [['pull'], ['image', 'pull']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'pull an image from a registry',
    details: `
      Downloads the image's layers over the OCI distribution API, verifies every digest while the bytes stream, and unpacks each layer once into your store. Short names are resolved through \`unqualified-search-registries\` in registries.conf.
    `,
    examples: [
      ['Pull Alpine from the default registry', '$0 pull alpine:3.20'],
      ['Pull from a local registry over plain HTTP', '$0 pull --tls-verify=false localhost:5000/alpine:3.20'],
      ['Pull the arm64 image of a multi-platform index', '$0 pull --platform linux/arm64 alpine'],
      ['Print only the image id', '$0 pull -q alpine'],
    ],
  });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'print only the image id' });
  platform = Option.String('--platform', { description: 'os/arch[/variant] to pull from a multi-platform image' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'require HTTPS and verify certificates (default true)' });
  certDir = Option.String('--cert-dir', { description: 'the registry\'s certificates (*.crt CAs, a *.cert with its *.key) from this directory instead of its certs.d' });
  image = Option.String({ name: 'IMAGE' });

  async run(): Promise<number> {
    const [{ pullImage }, { Store }, { progressPrinter }] = await Promise.all([import('../../engine/images.js'), import('../../storage/store.js'), import('../progress.js')]);
    const report = await pullImage(new Store(), this.image, {
      platform: this.platform,
      tlsVerify: tlsVerifyFlag(this.tlsVerify),
      certDir: this.certDir,
      onProgress: progressPrinter(process.stderr, this.quiet),
      onWarning: (m) => process.stderr.write(`Warning: ${m}\n`),
      onNotice: (m) => { if (!this.quiet) process.stderr.write(`${m}\n`); },
    });
    process.stdout.write(`${report.id}\n`);
    return 0;
  }
}
