import { join } from 'node:path';
import type { ClusterPlan, NodePlan } from '../plan.js';

/** Per-node folders under the cluster's state folder (all on its tmpfs). */
export function nodeLayout(plan: ClusterPlan, node: NodePlan) {
  const dir = join(plan.names.stateDir, 'nodes', node.name);
  return {
    dir,
    logs: join(dir, 'logs'),
    kubeletConfig: join(dir, 'kubelet.yaml'),
    kubeletRoot: join(dir, 'kubelet'),
    kubeProxyConfig: join(dir, 'kube-proxy.yaml'),
    cniConfDir: join(dir, 'cni'),
    cniConfFile: join(dir, 'cni', '10-sifkube.conflist'),
    cniIpamDir: join(dir, 'cni-ipam'),
    criSocket: join(dir, 'cri.sock'),
    etcdData: join(dir, 'etcd'),
    supervisorStatus: join(dir, 'supervisor.json'),
  };
}

export type NodeLayout = ReturnType<typeof nodeLayout>;
