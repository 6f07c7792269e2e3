import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, clusterStatus } from '../../cluster/index.js';
import { requireRoot } from '../../errors.js';

export default class NodeList extends SifkubeCommand {
  static summary = "List a cluster's nodes: role, address, pod CIDR, whether its supervisor runs";
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    json: Flags.boolean({ description: 'print JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(NodeList);
    requireRoot('sifkube node list');
    const nodes = clusterStatus(checkClusterName(flags.name)).nodes.map((n) => ({ name: n.name, role: n.role, address: n.address, podCIDR: n.podCIDR, running: n.supervisor?.running ?? false }));
    if (flags.json) return this.printJson(nodes);
    this.log(['NAME', 'ROLE', 'ADDRESS', 'POD CIDR', 'STATE'].join('\t'));
    for (const n of nodes) this.log([n.name, n.role, n.address, n.podCIDR, n.running ? 'running' : 'stopped'].join('\t'));
  }
}
