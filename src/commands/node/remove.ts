import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, readClusterState, removeNode } from '../../cluster/index.js';
import { requireRoot } from '../../errors.js';

export default class NodeRemove extends SifkubeCommand {
  static summary = 'Remove a worker node from a running cluster (its Node object, container, processes, network and cgroups)';
  static args = { node: Args.string({ description: 'node name (see `sifkube node list`)', required: true }) };
  static flags = { name: Flags.string({ description: 'cluster name', default: 'sifkube' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(NodeRemove);
    requireRoot('sifkube node remove');
    const state = readClusterState(checkClusterName(flags.name));
    await removeNode(state, args.node);
    this.log(`removed node ${args.node} from cluster ${state.plan.name}`);
  }
}
