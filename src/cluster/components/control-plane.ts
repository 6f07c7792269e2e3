import type { ClusterPlan, NodePlan } from '../plan.js';
import type { PkiPaths } from '../pki/cluster-pki.js';
import type { NodeLayout } from './layout.js';

export interface EtcdPorts {
  client: number;
  peer: number;
}

export const ETCD_PORTS: EtcdPorts = { client: 2379, peer: 2380 };

function gates(plan: ClusterPlan): string[] {
  const g = Object.entries(plan.featureGates).map(([k, v]) => `${k}=${v}`);
  return g.length > 0 ? [`--feature-gates=${g.join(',')}`] : [];
}

/** etcd on the control-plane node's loopback: only kube-apiserver, in the same node, talks to it. */
export function etcdArgs(name: string, dataDir: string, ports: EtcdPorts = ETCD_PORTS): string[] {
  const client = `http://127.0.0.1:${ports.client}`;
  const peer = `http://127.0.0.1:${ports.peer}`;
  return [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
    // One member, on loopback: no peer can miss a heartbeat, and a short election timeout lets it
    // elect itself in about 0.2 s instead of 0.4-0.7 s.
    '--heartbeat-interval=20',
    '--election-timeout=200',
  ];
}

export function apiServerArgs(plan: ClusterPlan, pki: PkiPaths): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ETCD_PORTS.client}`,
    '--bind-address=0.0.0.0',
    `--secure-port=${plan.apiServer.port}`,
    `--advertise-address=${plan.apiServer.address}`,
    `--tls-cert-file=${pki.apiserver.cert}`,
    `--tls-private-key-file=${pki.apiserver.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    `--service-account-key-file=${pki.serviceAccount.pub}`,
    `--service-account-signing-key-file=${pki.serviceAccount.key}`,
    `--service-account-issuer=https://kubernetes.default.svc.${plan.dnsDomain}`,
    `--service-cluster-ip-range=${plan.serviceSubnet}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
    `--kubelet-certificate-authority=${pki.ca.cert}`,
    // Node names do not resolve: the API server dials kubelets at their node IP.
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
    `--proxy-client-key-file=${pki.frontProxyClient.key}`,
    ...gates(plan),
  ];
}

export function controllerManagerArgs(plan: ClusterPlan, pki: PkiPaths): string[] {
  const kc = pki.kubeconfig.controllerManager;
  return [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    '--bind-address=127.0.0.1',
    `--cluster-name=${plan.name}`,
    `--service-account-private-key-file=${pki.serviceAccount.key}`,
    `--root-ca-file=${pki.ca.cert}`,
    `--cluster-signing-cert-file=${pki.ca.cert}`,
    `--cluster-signing-key-file=${pki.ca.key}`,
    `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
    '--use-service-account-credentials=true',
    '--leader-elect=false',
    // sifkube gives each node its pod CIDR itself: no 13 s wait for the IPAM controller.
    '--allocate-node-cidrs=false',
    `--cluster-cidr=${plan.podSubnet}`,
    `--service-cluster-ip-range=${plan.serviceSubnet}`,
    ...gates(plan),
  ];
}

export function schedulerArgs(plan: ClusterPlan, pki: PkiPaths): string[] {
  const kc = pki.kubeconfig.scheduler;
  return [`--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`, '--bind-address=127.0.0.1', '--leader-elect=false', ...gates(plan)];
}

/** KubeProxyConfiguration: iptables mode; conntrack.maxPerCore 0 because nf_conntrack_max is read-only in a node's netns. */
export function kubeProxyConfiguration(plan: ClusterPlan, node: NodePlan, pki: PkiPaths): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig: pki.kubeconfig.kubeProxy },
    clusterCIDR: plan.podSubnet,
    hostnameOverride: node.name,
    bindAddress: node.address,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    conntrack: { maxPerCore: 0 },
    featureGates: plan.featureGates,
  };
}

export function kubeProxyArgs(layout: NodeLayout): string[] {
  return [`--config=${layout.kubeProxyConfig}`];
}
