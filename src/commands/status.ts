import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../cli/command.js';
import { checkClusterName, clusterStatus } from '../cluster/index.js';
import { requireRoot } from '../errors.js';

export default class Status extends SifkubeCommand {
  static summary = "Show a cluster's nodes, their network attachment and each supervised component's state";
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    node: Flags.string({ description: 'only this node' }),
    json: Flags.boolean({ description: 'print the status as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    requireRoot('sifkube status');
    const s = clusterStatus(checkClusterName(flags.name), flags.node);
    if (flags.json) return this.printJson(s);
    this.log(`cluster ${s.name}: ${s.phase}, Kubernetes ${s.kubernetesVersion}, API ${s.apiServer}, bridge ${s.bridge.name} ${s.bridge.present ? 'up' : 'MISSING'}, state ${s.persistentDir ? `persistent in ${s.persistentDir}` : 'on tmpfs'}`);
    for (const n of s.nodes) {
      const sup = n.supervisor ? `supervisor ${n.supervisor.running ? `pid ${n.supervisor.pid}` : 'NOT RUNNING'}` : 'not started';
      this.log(`  ${n.name} (${n.role}) ${n.address} pods ${n.podCIDR} ${n.attached ? 'attached' : 'detached'}, ${sup}`);
      for (const c of n.supervisor?.components ?? []) {
        this.log(`    ${c.name.padEnd(24)}${c.phase}${c.healthy ? ' healthy' : ''}${c.pid ? ` pid ${c.pid}` : ''} restarts ${c.restarts}`);
      }
    }
  }
}
