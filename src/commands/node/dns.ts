import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, readClusterState, runClusterDns } from '../../cluster/index.js';

export default class NodeDns extends SifkubeCommand {
  static summary = "The cluster DNS add-on, run by the control-plane node's supervisor (internal)";
  static hidden = true;
  static flags = { name: Flags.string({ description: 'cluster name', required: true }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(NodeDns);
    const close = await runClusterDns(readClusterState(checkClusterName(flags.name)));
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await close();
  }
}
