import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, loadImage, readClusterState } from '../../cluster/index.js';
import { requireRoot, UsageError } from '../../errors.js';

export default class ImageLoad extends SifkubeCommand {
  static summary = "Load SIF files into the cluster's shared image store (every node sees them; no copy per node)";
  static strict = false;
  static args = { file: Args.string({ description: 'SIF file(s)', required: true }) };
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    tag: Flags.string({ description: 'image name pods use (default: FILE:latest); one file only' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(ImageLoad);
    const files = argv as string[];
    if (flags.tag && files.length > 1) throw new UsageError(`--tag names one image, but ${files.length} files were given: load them one by one`);
    requireRoot('sifkube image load');
    const state = readClusterState(checkClusterName(flags.name));
    for (const file of files) {
      const img = await loadImage(state, file, flags.tag);
      this.log(`loaded ${file} as ${img.repoTags.join(', ')} (${img.id.slice(0, 19)})`);
    }
  }
}
