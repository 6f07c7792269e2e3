import { Flags } from '@oclif/core';
import { splitAtDashes } from '../cli/args.js';
import { SifkubeCommand } from '../cli/command.js';
import { checkClusterName, kubectlInteractive, readClusterState } from '../cluster/index.js';

export default class Kubectl extends SifkubeCommand {
  static summary = "Run the cluster's kubectl with its admin kubeconfig (sifkube kubectl -- ARGS…)";
  static description = 'Everything after the first `--` reaches kubectl unchanged, a second `--` (kubectl exec POD -- CMD) included.';
  static strict = false;
  static flags = { name: Flags.string({ description: 'cluster name', default: 'sifkube' }) };

  async run(): Promise<void> {
    const { own, passed } = splitAtDashes(this.argv);
    const { flags, argv } = await this.parse(Kubectl, own);
    process.exitCode = await kubectlInteractive(readClusterState(checkClusterName(flags.name)), [...(argv as string[]), ...(passed ?? [])]);
  }
}
