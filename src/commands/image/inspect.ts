import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export class ImageInspectCommand extends TspodCommand {
  static paths = [['image', 'inspect']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'show the details of images as JSON',
    examples: [
      ['Inspect an image', '$0 image inspect alpine'],
      ['Print one field', "$0 image inspect --format '{{.Config.Cmd}}' alpine"],
    ],
  });

  format = Option.String('-f,--format', { description: 'json (default), or a Go template such as {{.Id}}' });
  images = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const [{ inspectImage }, { Store }] = await Promise.all([import('../../engine/images.js'), import('../../storage/store.js')]);
    const store = new Store();
    const reports = [];
    for (const i of this.images) reports.push(await inspectImage(store, i));
    const { printReports } = await import('../report.js');
    printReports(reports, this.format);
    return 0;
  }
}

export class ImageExistsCommand extends TspodCommand {
  static paths = [['image', 'exists']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'Check if an image exists in local storage',
    details: 'Exits 0 when it does, 1 when it does not; prints nothing.',
    examples: [['In a script', '$0 image exists alpine || $0 pull alpine']],
  });

  image = Option.String({ name: 'IMAGE' });

  async run(): Promise<number> {
    const [{ findImage }, { Store }] = await Promise.all([import('../../engine/images.js'), import('../../storage/store.js')]);
    return (await findImage(new Store(), this.image)) ? 0 : 1;
  }
}

export class TagCommand extends TspodCommand {
  static paths = [['tag'], ['image', 'tag']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'Add an additional name to a local image',
    details: 'A short name is localhost\'s: `tspod tag alpine mine` names it localhost/mine:latest.',
    examples: [['Another name', '$0 tag alpine:3.20 registry.example/alpine:stable']],
  });

  image = Option.String({ name: 'IMAGE' });
  names = Option.Rest({ required: 1, name: 'TARGET_NAME' });

  async run(): Promise<number> {
    const [{ tagImage }, { Store }] = await Promise.all([import('../../engine/images.js'), import('../../storage/store.js')]);
    await tagImage(new Store(), this.image, this.names);
    return 0;
  }
}

export class UntagCommand extends TspodCommand {
  static paths = [['untag'], ['image', 'untag']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'Remove a name from a local image',
    details: 'Without a name, every name goes; the image stays, as <none>.',
    examples: [['One name', '$0 untag alpine:3.20 registry.example/alpine:stable'], ['All of them', '$0 untag alpine:3.20']],
  });

  image = Option.String({ name: 'IMAGE' });
  names = Option.Rest({ name: 'NAME' });

  async run(): Promise<number> {
    const [{ untagImage }, { Store }] = await Promise.all([import('../../engine/images.js'), import('../../storage/store.js')]);
    await untagImage(new Store(), this.image, this.names);
    return 0;
  }
}
