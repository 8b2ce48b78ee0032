import { Option } from '../kit.js';
import { TspodCommand, reportError } from '../base.js';
import { UsageError } from '../../errors.js';

export class RmiCommand extends TspodCommand {
  static paths = [['rmi'], ['image', 'rm']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'remove images, and the layers no other image uses',
    details: 'An image with several tags is only untagged when removed by one of its names. An image that a container uses is kept unless `-f` is given, which removes those containers too.',
    examples: [
      ['Remove an image by name', '$0 rmi alpine:3.20'],
      ['Remove by id prefix, with the containers that use it', '$0 rmi -f 4bce1d7cf1a2'],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all images' });
  force = Option.Boolean('-f,--force', false, { description: 'Force removal of the image and any containers using the image' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors if a specified image does not exist' });
  images = Option.Rest({ name: 'IMAGE' });

  async run(): Promise<number> {
    if (this.all && this.images.length) throw new UsageError('when using the --all switch, you may not pass any images names or IDs');
    if (!this.all && !this.images.length) throw new UsageError('image name or ID must be specified');
    const [{ removeImages, listImages }, { Store }] = await Promise.all([import('../../engine/images.js'), import('../../storage/store.js')]);
    const store = new Store();
    // -a: in the store's order, oldest first, as Podman removes them.
    const listed = this.all ? new Set(listImages(store).map((i) => i.id)) : undefined;
    const inputs = listed ? store.readImages().filter((i) => listed.has(i.id)).map((i) => i.id) : this.images;
    // Exit 1 when an image was not there (as Podman), unless --ignore or --force say that is fine.
    const report = await removeImages(store, inputs, { force: this.force, ignoreMissing: this.ignore || this.force });
    for (const n of report.untagged) process.stdout.write(`Untagged: ${n}\n`);
    for (const id of report.deleted) process.stdout.write(`Deleted: ${id}\n`);
    // As Podman: every failure said, several as one "N errors occurred" list; 1 for a missing image, else 2 for one in use.
    const errors = [...report.missing, ...report.inUse];
    if (errors.length === 1) reportError(errors[0]);
    else if (errors.length) process.stderr.write(`Error: ${errors.length} errors occurred:\n${errors.map((e) => `\t* ${e.message}\n`).join('')}`);
    return report.missing.length ? 1 : report.inUse.length ? 2 : 0;
  }
}
