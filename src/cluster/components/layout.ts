import { join } from 'node:path';
import type { ClusterPlan, NodePlan } from '../plan.js';

/** Per-node folders under the cluster's state folder (all on its tmpfs). */
export function nodeLayout(plan: ClusterPlan, node: NodePlan) {
  const dir = join(plan.names.stateDir, 'nodes', node.name);
  return {
    name: node.name,
    dir,
    logs: join(dir, 'logs'),
    kubeletConfig: join(dir, 'kubelet.yaml'),
    kubeletRoot: join(dir, 'kubelet'),
    kubeProxyConfig: join(dir, 'kube-proxy.yaml'),
    cniConfDir: join(dir, 'cni'),
    cniConfFile: join(dir, 'cni', '10-sifkube.conflist'),
    cniIpamDir: join(dir, 'cni-ipam'),
    // A unix socket path has at most 107 bytes: sockets live under a short folder, named by node index.
    criSocket: join(plan.names.stateDir, 'sock', `${node.index}-cri.sock`),
    etcdData: join(dir, 'etcd'),
    supervisorStatus: join(dir, 'supervisor.json'),
  };
}

/** The longest path a unix socket can have (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH = 107;

export type NodeLayout = ReturnType<typeof nodeLayout>;
