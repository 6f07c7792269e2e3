import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, listClusters } from '../../cluster/index.js';
import { listExamples } from '../../examples/index.js';

export default class ExampleList extends SifkubeCommand {
  static summary = 'List the examples: name, what each shows, and its status on the cluster';
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    json: Flags.boolean({ description: 'print JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ExampleList);
    const cluster = checkClusterName(flags.name);
    const state = listClusters().find((c) => c.plan.name === cluster);
    const rows = listExamples(state);
    if (flags.json) return this.printJson(rows);
    if (!state) this.log(`(no cluster ${cluster}: \`sifkube init --name ${cluster}\` makes one, \`sifkube example run NAME --name ${cluster}\` runs an example on it)\n`);
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) this.log(`${r.name.padEnd(w)}  ${r.status}${r.url ? ` ${r.url}` : ''}\n${' '.repeat(w)}  ${r.summary}`);
  }
}
