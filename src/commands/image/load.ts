import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, checkImageNodes, loadImage, readClusterState } from '../../cluster/index.js';
import { requireRoot, UsageError } from '../../errors.js';

export default class ImageLoad extends SifkubeCommand {
  static summary = "Load SIF files into the cluster's shared image store (every node sees them; no copy per node)";
  static strict = false;
  static args = { file: Args.string({ description: 'SIF file(s)', required: true }) };
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    tag: Flags.string({ description: 'image name pods use (default: FILE:latest); one file only' }),
    nodes: Flags.string({ description: 'only these nodes (comma-separated names) see the image (default: every node)' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(ImageLoad);
    const files = argv as string[];
    if (flags.tag && files.length > 1) throw new UsageError(`--tag names one image, but ${files.length} files were given: load them one by one`);
    requireRoot('sifkube image load');
    const nodes = flags.nodes?.split(',').map((n) => n.trim());
    if (nodes?.some((n) => n === '')) throw new UsageError(`--nodes ${JSON.stringify(flags.nodes)} has an empty node name: write N1,N2 (see \`sifkube node list\`)`);
    const state = readClusterState(checkClusterName(flags.name));
    if (nodes) checkImageNodes(state, nodes);
    for (const file of files) {
      const img = await loadImage(state, file, flags.tag, nodes);
      this.log(`loaded ${file} as ${img.repoTags.join(', ')} (${img.id.slice(0, 19)}) for ${img.scopes ? `nodes ${img.scopes.join(', ')}` : 'every node'}`);
    }
  }
}
