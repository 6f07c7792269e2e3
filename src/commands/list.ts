import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../cli/command.js';
import { clusterEntries } from '../cluster/index.js';
import { requireRoot } from '../errors.js';

export default class List extends SifkubeCommand {
  static summary = 'List the clusters on this host';
  static flags = { json: Flags.boolean({ description: 'print the clusters as JSON' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(List);
    requireRoot('sifkube list');
    const rows = clusterEntries().map(({ name, state: c, problem }) =>
      c
        ? { name, phase: c.phase, nodes: c.plan.nodes.length, kubernetes: c.plan.kubernetesVersion, nodeSubnet: c.plan.bridge.subnet, state: c.persistentDir ?? 'tmpfs', api: c.plan.apiServer.url }
        : { name, phase: 'unreadable', nodes: 0, kubernetes: '-', nodeSubnet: '-', state: '-', api: `${problem}: sifkube delete --name ${name}` },
    );
    if (flags.json) return this.printJson(rows);
    if (rows.length === 0) return this.log('no clusters');
    const header = { name: 'NAME', phase: 'PHASE', nodes: 'NODES', kubernetes: 'KUBERNETES', nodeSubnet: 'NODE SUBNET', state: 'STATE', api: 'API SERVER' };
    const all = [header, ...rows.map((r) => ({ ...r, nodes: String(r.nodes) }))];
    const keys = Object.keys(header) as (keyof typeof header)[];
    const width = Object.fromEntries(keys.map((k) => [k, Math.max(...all.map((r) => r[k].length)) + 2]));
    for (const r of all) this.log(keys.map((k) => r[k].padEnd(width[k])).join('').trimEnd());
  }
}
