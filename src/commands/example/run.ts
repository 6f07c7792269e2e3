import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { buildWithProgress } from '../../cli/build-progress.js';
import { checkClusterName, readClusterState } from '../../cluster/index.js';
import { clusterExampleDir, findExample, runExample } from '../../examples/index.js';
import { requireRoot } from '../../errors.js';

export default class ExampleRun extends SifkubeCommand {
  static summary = 'Build (or take from the build cache) an example\'s SIFs, load them, apply its manifest, wait for the rollout and print its URL';
  static args = { name: Args.string({ description: 'cats, books or tensorflow (sifkube example list)', required: true }) };
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    gpu: Flags.boolean({ description: 'ask for one nvidia.com/gpu (the tensorflow example)' }),
    timeout: Flags.integer({ description: 'seconds the rollout may take', default: 300, min: 1 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ExampleRun);
    const example = findExample(args.name);
    requireRoot('sifkube example run');
    const state = readClusterState(checkClusterName(flags.name));
    const r = await runExample(state, example, { gpu: flags.gpu, timeoutSeconds: flags.timeout, build: buildWithProgress, onStep: (s) => this.log(s) });
    this.log(`example ${example.name} is serving: ${r.url}`);
    if (example.hostFolders.length > 0) this.log(`host folders: ${example.hostFolders.map((f) => `${clusterExampleDir(state, example.name)}/${f}`).join(', ')}`);
  }
}
