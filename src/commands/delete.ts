import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../cli/command.js';
import { checkClusterName, clusterDirNames, deleteCluster } from '../cluster/index.js';
import { requireRoot } from '../errors.js';

export default class Delete extends SifkubeCommand {
  static summary = 'Delete a cluster and everything it put on the host';
  static description =
    'Kills its processes, removes its network namespaces, links, iptables chains, cgroups, kubeconfig context and state folder, restores the host sysctls its kubelets changed. Works on a half-made cluster too (after a failed init), and on a cluster that is already gone.';
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube', exclusive: ['all'] }),
    all: Flags.boolean({ description: 'delete every cluster' }),
    kubeconfig: Flags.string({ description: 'kubeconfig to remove the context from (default: first of $KUBECONFIG, else ~/.kube/config)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Delete);
    requireRoot('sifkube delete');
    const names = flags.all ? clusterDirNames() : [checkClusterName(flags.name)];
    for (const name of names) {
      const r = await deleteCluster(name, flags.kubeconfig);
      const what = [`${r.processes} processes`, `${r.links.length + r.netns.length} network objects`, `${r.cgroups} cgroups`, r.iptables ? 'iptables chains' : '', r.stateDir ? 'state folder' : ''].filter(Boolean);
      this.log(`deleted cluster ${name} (${what.join(', ')})`);
    }
  }
}
