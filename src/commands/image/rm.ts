import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

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

  force = Option.Boolean('-f,--force', false, { description: 'remove containers that use the image, and all its names' });
  images = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const [{ removeImages }, { Store }] = await Promise.all([import('../../engine/images.js'), import('../../storage/store.js')]);
    const report = await removeImages(new Store(), this.images, { force: this.force });
    for (const n of report.untagged) process.stdout.write(`Untagged: ${n}\n`);
    for (const id of report.deleted) process.stdout.write(`Deleted: ${id}\n`);
    return 0;
  }
}
