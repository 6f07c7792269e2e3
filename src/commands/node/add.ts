import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { parseDuration } from '../../cli/args.js';
import { addKubeWorkers, checkClusterName, readClusterState } from '../../cluster/index.js';
import { requireRoot, UsageError } from '../../errors.js';

export default class NodeAdd extends SifkubeCommand {
  static summary = 'Add worker nodes to a running cluster';
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    'node-name': Flags.string({ description: 'name of the new node (default: the next <cluster>-workerN)' }),
    count: Flags.integer({ description: 'how many workers to add', default: 1, min: 1, max: 20 }),
    wait: Flags.string({ description: 'how long to wait for the new nodes Ready (0: do not wait)', default: '2m' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(NodeAdd);
    if (flags['node-name'] && flags.count > 1) throw new UsageError('--node-name names one node: leave it out with --count above 1');
    const waitMs = parseDuration('--wait', flags.wait);
    requireRoot('sifkube node add');
    const state = readClusterState(checkClusterName(flags.name));
    const names = flags['node-name'] ? [flags['node-name']] : Array.from({ length: flags.count }, () => undefined);
    const added = await addKubeWorkers(state, names, waitMs);
    this.log(`added ${added.map((n) => `${n.name} (${n.address})`).join(', ')} to cluster ${state.plan.name}`);
  }
}
