import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, readClusterState } from '../../cluster/index.js';
import { deleteExample, findExample } from '../../examples/index.js';
import { requireRoot } from '../../errors.js';

export default class ExampleDelete extends SifkubeCommand {
  static summary = "Delete an example's Kubernetes objects from a cluster (its images stay loaded)";
  static args = { name: Args.string({ description: 'cats, books or tensorflow', required: true }) };
  static flags = { name: Flags.string({ description: 'cluster name', default: 'sifkube' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ExampleDelete);
    const example = findExample(args.name);
    requireRoot('sifkube example delete');
    deleteExample(readClusterState(checkClusterName(flags.name)), example);
    this.log(`example ${example.name} deleted`);
  }
}
