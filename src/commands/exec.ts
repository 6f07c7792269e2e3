import { Args, Flags } from '@oclif/core';
import { splitAtDashes } from '../cli/args.js';
import { SifkubeCommand } from '../cli/command.js';
import { checkClusterName, execInNode, readClusterState } from '../cluster/index.js';
import { requireRoot, UsageError } from '../errors.js';

export default class Exec extends SifkubeCommand {
  static summary = "Run a command inside a node's namespaces (sifkube exec NODE -- CMD ARGS…)";
  static description = 'Everything after the first `--` is the command, word for word.';
  static strict = false;
  static args = { node: Args.string({ description: 'node name (see `sifkube node list`)', required: true }) };
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    tty: Flags.boolean({ char: 't', description: 'give the command a terminal' }),
  };

  async run(): Promise<void> {
    const { own, passed } = splitAtDashes(this.argv);
    const { args, flags, argv } = await this.parse(Exec, own);
    const command = [...(argv as string[]).slice(1), ...(passed ?? [])];
    if (command.length === 0) throw new UsageError('no command given: write it after --, as in sifkube exec NODE -- hostname');
    requireRoot('sifkube exec');
    process.exitCode = await execInNode(readClusterState(checkClusterName(flags.name)), args.node, command, flags.tty);
  }
}
