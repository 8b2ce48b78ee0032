import { Option } from '../kit.js';
import { TspodCommand, tlsVerifyFlag } from '../base.js';
import { UsageError } from '../../errors.js';

export class PushCommand extends TspodCommand {
  static paths = [['push'], ['image', 'push']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'push an image to a registry',
    details: `
      Writes each layer out of the store byte for byte (so the image keeps its ID), compresses it on the way, and uploads only the blobs the registry lacks: blobs it has are skipped, blobs in another repository of the same registry are mounted from there. The digest the registry stored is added to the image's RepoDigests.
    `,
    examples: [
      ['Push to a local registry over plain HTTP', '$0 push --tls-verify=false localhost:5000/app:1'],
      ['Push under another name', '$0 push app:1 docker://registry.example.com/team/app:1'],
      ['Push with zstd layers and keep the digest', '$0 push --compression-format zstd --digestfile d.txt registry.example.com/app:1'],
    ],
  });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'print nothing but errors' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'require HTTPS and verify certificates (default true)' });
  certDir = Option.String('--cert-dir', { description: 'the registry\'s certificates (*.crt CAs, a *.cert with its *.key) from this directory instead of its certs.d' });
  authfile = Option.String('--authfile', { description: 'path of the authentication file' });
  creds = Option.String('--creds', { description: 'USERNAME[:PASSWORD] for the registry' });
  digestfile = Option.String('--digestfile', { description: 'write the digest of the pushed manifest to this file' });
  format = Option.String('-f,--format', { description: 'manifest type: oci or v2s2 (default: the image\'s own)' });
  compression = Option.String('--compression-format', { description: 'gzip (default) or zstd' });
  removeSignatures = Option.Boolean('--remove-signatures', false, { description: 'push without signatures (tspod never copies any)' });
  image = Option.String({ name: 'IMAGE' });
  rest = Option.Rest({ name: 'DESTINATION' });

  async run(): Promise<number> {
    if (this.format !== undefined && !['oci', 'v2s2', 'docker'].includes(this.format)) throw new UsageError(`unknown --format "${this.format}"`, 'use oci or v2s2');
    if (this.compression !== undefined && !['gzip', 'zstd'].includes(this.compression)) throw new UsageError(`unknown --compression-format "${this.compression}"`, 'use gzip or zstd');
    const [{ pushImage }, { Store }, { progressPrinter }] = await Promise.all([import('../../engine/transfer.js'), import('../../storage/store.js'), import('../progress.js')]);
    if (this.rest.length > 1) throw new UsageError('push takes IMAGE and at most one DESTINATION');
    const [username, ...password] = (this.creds ?? '').split(':');
    await pushImage(new Store(), this.image, this.rest[0], {
      tlsVerify: tlsVerifyFlag(this.tlsVerify),
      certDir: this.certDir,
      format: this.format === 'docker' ? 'v2s2' : this.format as 'oci' | 'v2s2' | undefined,
      compressionFormat: this.compression as 'gzip' | 'zstd' | undefined,
      digestFile: this.digestfile, authFile: this.authfile,
      credentials: this.creds ? { username, password: password.join(':') } : undefined,
      onProgress: progressPrinter(process.stderr, this.quiet, 'push'),
    });
    return 0;
  }
}
