import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';
import { ImageNotFoundError } from '../../errors.js';
import { humanSizeWithPrecision } from '../../units.js';

export class ImageTreeCommand extends TspodCommand {
  static paths = [['image', 'tree']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'show an image\'s layers as a tree, and which images each layer is the top of',
    examples: [['The layers of an image', '$0 image tree localhost/app:1'], ['The images built on one', '$0 image tree --whatrequires alpine:3.20']],
  });

  whatrequires = Option.Boolean('--whatrequires', false, { description: 'show the images that build on this one instead' });
  image = Option.String({ name: 'IMAGE' });

  async run(): Promise<number> {
    const [{ findImage }, { Store }] = await Promise.all([import('../../engine/images.js'), import('../../storage/store.js')]);
    const store = new Store();
    const img = await findImage(store, this.image);
    if (!img) throw new ImageNotFoundError(this.image);
    const images = store.readImages();
    const size = (n: number) => humanSizeWithPrecision(n, 3).replace(/\s/g, '');
    // Which tagged images have this layer chain as their top: "Top Layer of".
    const chainKey = (layers: string[]) => layers.join(' ');
    const topOf = new Map<string, string[]>();
    for (const i of images) {
      if (!i.layers.length || !i.names.length) continue;
      const k = chainKey(i.layers);
      topOf.set(k, [...(topOf.get(k) ?? []), ...i.names]);
    }
    const line = (layers: string[]) => {
      const d = layers[layers.length - 1];
      const tags = topOf.get(chainKey(layers));
      return `ID: ${d.slice(7, 19)} Size: ${size(store.layerSize(d)).padStart(7)}${tags ? ` Top Layer of: [${tags.join(' ')}]` : ''}`;
    };
    const out: string[] = [`Image ID: ${img.id.slice(0, 12)}`, `Tags:     [${img.names.join(' ')}]`, `Size:     ${size(img.size)}`, 'Image Layers'];
    if (!this.whatrequires) {
      img.layers.forEach((_, i) => out.push(`${i === img.layers.length - 1 ? '└──' : '├──'} ${line(img.layers.slice(0, i + 1))}`));
    } else {
      // The image's top layer, then every layer chain that grows from it, as a tree.
      const base = img.layers;
      out.push(`└── ${line(base)}`);
      const walk = (prefix: string[], indent: string) => {
        const next = new Map<string, string[]>();
        for (const i of images) {
          if (i.layers.length > prefix.length && prefix.every((d, n) => i.layers[n] === d)) next.set(i.layers[prefix.length], i.layers.slice(0, prefix.length + 1));
        }
        const kids = [...next.values()];
        kids.forEach((chain, n) => {
          const lastKid = n === kids.length - 1;
          out.push(`${indent}${lastKid ? '└──' : '├──'} ${line(chain)}`);
          walk(chain, `${indent}${lastKid ? '    ' : '│   '}`);
        });
      };
      walk(base, '    ');
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  }
}
