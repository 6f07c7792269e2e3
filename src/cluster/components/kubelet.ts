import type { ClusterPlan, NodePlan } from '../plan.js';
import type { PkiPaths } from '../pki/cluster-pki.js';
import { minorOf } from '../kube/version.js';
import type { NodeLayout } from './layout.js';

/**
 * The node's KubeletConfiguration (kubelet.config.k8s.io/v1beta1), per KUBERNETES.md: our CRI socket,
 * cgroupfs with a cgroupRoot of its own, no swap check, x509 + webhook authn, webhook authz.
 */
export function kubeletConfiguration(plan: ClusterPlan, node: NodePlan, pki: PkiPaths, layout: NodeLayout, version: string): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: `unix://${layout.criSocket}`,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: node.cgroupRoot,
    cgroupsPerQOS: true,
    failSwapOn: false,
    protectKernelDefaults: false,
    address: node.address,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: pki.ca.cert },
    },
    authorization: { mode: 'Webhook' },
    clusterDNS: [plan.dnsIP],
    clusterDomain: plan.dnsDomain,
    tlsCertFile: pki.kubeletServing(node.name).cert,
    tlsPrivateKeyFile: pki.kubeletServing(node.name).key,
    rotateCertificates: false,
    podCIDR: node.podCIDR,
    resolvConf: '/etc/resolv.conf',
    registerWithTaints: node.taints.map((t) => {
      const [kv, effect] = t.split(':');
      const [key, value] = kv.split('=');
      return value === undefined ? { key, effect } : { key, value, effect };
    }),
    // As kind: a developer's disk filling up must not evict the cluster's pods.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' },
    imageGCHighThresholdPercent: 100,
    featureGates: plan.featureGates,
  };
  // 1.31 added failCgroupV1 (true by default from 1.35): hosts like a hybrid-cgroup one run v1.
  if (minorOf(version) >= 31) cfg.failCgroupV1 = false;
  return cfg;
}

/** The kubelet's command line: the rest is in its configuration file. */
export function kubeletArgs(node: NodePlan, pki: PkiPaths, layout: NodeLayout): string[] {
  const labels = Object.entries(node.labels).map(([k, v]) => `${k}=${v}`);
  return [
    `--config=${layout.kubeletConfig}`,
    `--kubeconfig=${pki.kubeconfig.kubelet(node.name)}`,
    `--hostname-override=${node.name}`,
    `--node-ip=${node.address}`,
    `--root-dir=${layout.kubeletRoot}`,
    ...(labels.length > 0 ? [`--node-labels=${labels.join(',')}`] : []),
  ];
}
