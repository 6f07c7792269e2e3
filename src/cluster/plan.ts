import { ClusterConfigError, SubnetClashError } from './errors.js';
import { formatCidr, nthAddress, overlaps, parseCidr, subnet, type Cidr } from './config/cidr.js';
import type { ClusterConfig, ExtraMount, NodeRole, PortMapping, SigningPolicy } from './config/types.js';
import { clusterNames, kindNodeName, vethName, type ClusterNames } from './names.js';

export const API_SERVER_PORT = 6443;
export const CONTROL_PLANE_TAINT = 'node-role.kubernetes.io/control-plane:NoSchedule';

/** One node as sifkube runs it: every address and name decided before anything is created. */
export interface NodePlan {
  name: string;
  role: NodeRole;
  index: number;
  /** the node's address on the cluster bridge */
  address: string;
  /** this node's slice of the pod subnet (sifkube allocates it, not kube-controller-manager) */
  podCIDR: string;
  /** labels the kubelet registers with (--node-labels) */
  labels: Record<string, string>;
  /** labels the kubelet may not set itself (NodeRestriction): applied through the API once registered */
  apiLabels: Record<string, string>;
  taints: string[];
  extraPortMappings: PortMapping[];
  extraMounts: ExtraMount[];
  /** the kubelet's cgroupRoot, the same path in every hierarchy */
  cgroupRoot: string;
  veth: string;
  /** the node's share of the host's GPUs: every `of`-th GPU from the `share`-th (undefined: no GPU) */
  gpu?: { share: number; of: number };
}

export interface ClusterPlan {
  name: string;
  names: ClusterNames;
  kubernetesVersion: string;
  bridge: { name: string; address: string; subnet: string; prefix: number };
  podSubnet: string;
  serviceSubnet: string;
  /** first address of the service range: the `kubernetes` service */
  serviceIP: string;
  /** tenth address of the service range, as kubeadm gives cluster DNS */
  dnsIP: string;
  dnsDomain: string;
  apiServer: { address: string; port: number; url: string };
  featureGates: Record<string, boolean>;
  nodes: NodePlan[];
  /** every node's CRI runs only SIFs a key of this keyring signed */
  requireSigned?: SigningPolicy;
  /** the root of the NVIDIA driver tree GPU nodes take their GPUs from (absent in states made before GPUs) */
  gpuRoot?: string;
}

/** A subnet already in use on the host: a route, or another sifkube cluster. */
export interface TakenSubnet {
  cidr: string;
  what: string;
}

/** Candidates when the config names no subnet: chosen to be rare on developer machines. */
const AUTO_NODE_SUBNETS = Array.from({ length: 64 }, (_, k) => `172.29.${k}.0/24`);
const AUTO_POD_SUBNETS = Array.from({ length: 48 }, (_, k) => `10.${200 + k}.0.0/16`);

function pick(field: string, wanted: string | undefined, candidates: string[], taken: TakenSubnet[]): Cidr {
  const clash = (c: Cidr) => taken.find((t) => overlaps(c, parseCidr(t.cidr)!));
  if (wanted) {
    const c = parseCidr(wanted)!;
    const other = clash(c);
    if (other) throw new SubnetClashError(field, wanted, other.what);
    return c;
  }
  for (const text of candidates) {
    const c = parseCidr(text)!;
    if (!clash(c)) return c;
  }
  throw new SubnetClashError(field, `every automatic candidate (${candidates[0]} …)`, 'host routes or other clusters');
}

/**
 * Turns a validated config into a plan: node names as kind names them, node addresses (.1 is the
 * host's bridge address), per-node pod CIDRs, subnets checked against host routes and other clusters.
 */
export function planCluster(config: ClusterConfig, taken: TakenSubnet[]): ClusterPlan {
  const names = clusterNames(config.name);
  const net = config.networking;
  const service = parseCidr(net.serviceSubnet)!;
  const node = pick('nodeSubnet', net.nodeSubnet, AUTO_NODE_SUBNETS, [...taken, { cidr: net.serviceSubnet, what: `serviceSubnet ${net.serviceSubnet}` }]);
  const pod = pick('podSubnet', net.podSubnet, AUTO_POD_SUBNETS, [
    ...taken,
    { cidr: net.serviceSubnet, what: `serviceSubnet ${net.serviceSubnet}` },
    { cidr: formatCidr(node), what: `nodeSubnet ${formatCidr(node)}` },
  ]);
  const counts = { 'control-plane': 0, worker: 0 };
  const gpuNodes = config.nodes.filter((n) => n.gpu);
  const single = config.nodes.length === 1;
  const nodes = config.nodes.map((n, index): NodePlan => {
    counts[n.role] += 1;
    const name = n.name ?? kindNodeName(config.name, n.role, counts[n.role]);
    return {
      name,
      role: n.role,
      index,
      address: nthAddress(node, index + 2),
      podCIDR: formatCidr(subnet(pod, net.nodePodPrefix, index)),
      labels: n.labels,
      apiLabels: n.role === 'control-plane' ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {},
      // As kind: the control-plane node takes no workload unless it is the only node.
      taints: n.role === 'control-plane' && !single ? [CONTROL_PLANE_TAINT] : [],
      extraPortMappings: n.extraPortMappings,
      extraMounts: n.extraMounts,
      cgroupRoot: `/${names.cgroupParent}/${name}`,
      veth: vethName(names, index),
      ...(n.gpu ? { gpu: { share: gpuNodes.indexOf(n), of: gpuNodes.length } } : {}),
    };
  });
  const nodeNames = nodes.map((n) => n.name);
  const dup = nodeNames.find((n, i) => nodeNames.indexOf(n) !== i);
  if (dup) throw new ClusterConfigError('cluster config', 'nodes', `two nodes would be named ${dup}`, 'give the nodes other names');
  const cp = nodes.find((n) => n.role === 'control-plane')!;
  return {
    name: config.name,
    names,
    kubernetesVersion: config.kubernetesVersion,
    bridge: { name: names.bridge, address: nthAddress(node, 1), subnet: formatCidr(node), prefix: node.prefix },
    podSubnet: formatCidr(pod),
    serviceSubnet: net.serviceSubnet,
    serviceIP: nthAddress(service, 1),
    dnsIP: nthAddress(service, 10),
    dnsDomain: net.dnsDomain,
    apiServer: { address: cp.address, port: API_SERVER_PORT, url: `https://${cp.address}:${API_SERVER_PORT}` },
    featureGates: config.featureGates,
    nodes,
    ...(config.requireSigned ? { requireSigned: config.requireSigned } : {}),
    ...(gpuNodes.length > 0 ? { gpuRoot: config.gpuRoot } : {}),
  };
}
