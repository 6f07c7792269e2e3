import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../cli/command.js';
import { checkClusterName, readClusterState, stopCluster } from '../cluster/index.js';
import { requireRoot } from '../errors.js';

export default class Stop extends SifkubeCommand {
  static summary = 'Stop every node of a cluster, keeping its state for `sifkube start`';
  static flags = { name: Flags.string({ description: 'cluster name', default: 'sifkube' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Stop);
    requireRoot('sifkube stop');
    await stopCluster(readClusterState(checkClusterName(flags.name)));
    this.log(`stopped cluster ${flags.name}: start it again with sifkube start --name ${flags.name}`);
  }
}
