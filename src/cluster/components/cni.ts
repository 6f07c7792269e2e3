import type { NodePlan } from '../plan.js';
import type { NodeLayout } from './layout.js';

export const CNI_NETWORK_NAME = 'sifkube';

/**
 * The node's CNI network (the standard plugins): a bridge with the node's pod CIDR from sifkube's own
 * allocation, gateway and masquerade so pods reach other nodes and the outside, and portmap for
 * hostPort. The CRI reports NetworkReady as soon as this file exists.
 */
export function cniConfList(node: NodePlan, layout: NodeLayout): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        // Address leases on the cluster's tmpfs, not in the host's /var/lib/cni.
        ipam: { type: 'host-local', ranges: [[{ subnet: node.podCIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: layout.cniIpamDir },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}
