import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../cli/command.js';
import { parseDuration } from '../cli/args.js';
import { adoptPersistentDir, checkClusterName, readClusterState, startCluster } from '../cluster/index.js';
import { requireRoot } from '../errors.js';

export default class Start extends SifkubeCommand {
  static summary = 'Start the nodes of a stopped cluster again (same state, PKI, etcd data and images)';
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    wait: Flags.string({ description: 'how long to wait for every node Ready (0: do not wait)', default: '2m' }),
    persistent: Flags.string({ description: "the cluster's --persistent folder, when this host lost track of it (e.g. /var/lib/sifkube was wiped)" }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Start);
    const waitMs = parseDuration('--wait', flags.wait);
    requireRoot('sifkube start');
    const name = checkClusterName(flags.name);
    await startCluster(flags.persistent ? adoptPersistentDir(name, flags.persistent) : readClusterState(name), waitMs);
    this.log(`started cluster ${flags.name}`);
  }
}
