import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../cli/command.js';
import { checkClusterName, execInNode, readClusterState } from '../cluster/index.js';
import { requireRoot } from '../errors.js';

export default class Shell extends SifkubeCommand {
  static summary = "Open a shell inside a node's namespaces";
  static args = { node: Args.string({ description: 'node name (see `sifkube node list`)', required: true }) };
  static flags = { name: Flags.string({ description: 'cluster name', default: 'sifkube' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Shell);
    requireRoot('sifkube shell');
    process.exitCode = await execInNode(readClusterState(checkClusterName(flags.name)), args.node, ['/bin/bash', '-l'], process.stdin.isTTY === true);
  }
}
