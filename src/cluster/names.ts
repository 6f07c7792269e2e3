import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * Every host object of a cluster is named from the cluster's name alone, so `delete` finds them all
 * even when init failed before writing its state file.
 */
export interface ClusterNames {
  cluster: string;
  /** 6 hex digits of the name's SHA-256: keeps link (15) and chain (28) names short */
  id: string;
  bridge: string;
  /** prefix of every link of the cluster (bridge and host-side veths) */
  linkPrefix: string;
  /** iptables chains: nat POSTROUTING (egress masquerade), filter FORWARD (bridge traffic) */
  natChain: string;
  forwardChain: string;
  /** comment on the jump rules, so they are found again */
  ruleComment: string;
  /** top cgroup of the cluster in every hierarchy */
  cgroupParent: string;
  stateDir: string;
  /** prefix of the network namespaces sifkube names itself under /run/netns */
  netnsPrefix: string;
}

export function stateRoot(): string {
  return process.env.SIFKUBE_STATE_DIR ?? '/var/lib/sifkube';
}

export function clustersDir(): string {
  return join(stateRoot(), 'clusters');
}

export function clusterNames(cluster: string): ClusterNames {
  const id = createHash('sha256').update(cluster).digest('hex').slice(0, 6);
  return {
    cluster,
    id,
    bridge: `sk${id}`,
    linkPrefix: `sk${id}`,
    natChain: `SIFKUBE-${id}-NAT`,
    forwardChain: `SIFKUBE-${id}-FWD`,
    ruleComment: `sifkube cluster ${cluster}`,
    cgroupParent: `sifkube-${cluster}`,
    stateDir: join(clustersDir(), cluster),
    netnsPrefix: `sk-${id}-`,
  };
}

/** The host side of node i's veth (the node side is renamed eth0 in the node). */
export function vethName(names: ClusterNames, index: number): string {
  return `${names.linkPrefix}v${index}`;
}

/** Node names as kind gives them: <cluster>-control-plane, <cluster>-worker, <cluster>-worker2, … */
export function kindNodeName(cluster: string, role: 'control-plane' | 'worker', nth: number): string {
  return `${cluster}-${role}${nth > 1 ? nth : ''}`;
}
