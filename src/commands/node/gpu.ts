import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, readClusterState, runNodeGpuPlugin } from '../../cluster/index.js';

export default class NodeGpu extends SifkubeCommand {
  static summary = "The NVIDIA GPU device plugin, run by a GPU node's supervisor (internal)";
  static hidden = true;
  static flags = {
    name: Flags.string({ description: 'cluster name', required: true }),
    node: Flags.string({ description: 'the GPU node', required: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(NodeGpu);
    const plugin = await runNodeGpuPlugin(readClusterState(checkClusterName(flags.name)), flags.node);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await plugin.close();
  }
}
