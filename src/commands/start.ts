import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../cli/command.js';
import { parseDuration } from '../cli/args.js';
import { checkClusterName, readClusterState, startCluster } from '../cluster/index.js';
import { requireRoot } from '../errors.js';

export default class Start extends SifkubeCommand {
  static summary = 'Start the nodes of a stopped cluster again (same state, PKI, etcd data and images)';
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    wait: Flags.string({ description: 'how long to wait for every node Ready (0: do not wait)', default: '2m' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Start);
    const waitMs = parseDuration('--wait', flags.wait);
    requireRoot('sifkube start');
    await startCluster(readClusterState(checkClusterName(flags.name)), waitMs);
    this.log(`started cluster ${flags.name}`);
  }
}
