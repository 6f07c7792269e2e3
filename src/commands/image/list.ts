import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, listImages, readClusterState } from '../../cluster/index.js';
import { requireRoot } from '../../errors.js';

export default class ImageList extends SifkubeCommand {
  static summary = "List the images in the cluster's shared store (loaded SIFs and pulled images)";
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    json: Flags.boolean({ description: 'print JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ImageList);
    requireRoot('sifkube image list');
    const images = listImages(readClusterState(checkClusterName(flags.name))).map((i) => ({ id: i.id, tags: i.repoTags, size: i.size, nodes: i.scopes ?? 'all' }));
    if (flags.json) return this.printJson(images);
    this.log(['IMAGE ID', 'SIZE', 'NODES', 'TAGS'].join('\t'));
    for (const i of images) this.log([i.id.slice(7, 19), String(i.size), String(i.nodes), i.tags.join(',')].join('\t'));
  }
}
