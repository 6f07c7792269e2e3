import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { bootNode, checkClusterName } from '../../cluster/index.js';

export default class NodeBoot extends SifkubeCommand {
  static summary = "A node container's first process: supervises the node's components (internal)";
  static hidden = true;
  static flags = {
    name: Flags.string({ description: 'cluster name', required: true }),
    node: Flags.string({ description: 'node name', required: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(NodeBoot);
    await bootNode(checkClusterName(flags.name), flags.node);
  }
}
