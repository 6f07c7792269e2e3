import type { CriConfig } from '../../cri/index.js';

export type RegistryConfig = CriConfig['registry'];
/** The cluster config file (`apiVersion: sifkube.io/v1alpha1`, `kind: Cluster`), after validation. */
export const CONFIG_API_VERSION = 'sifkube.io/v1alpha1';
export const CONFIG_KIND = 'Cluster';

/** The Kubernetes release sifkube downloads when none is named (1.28+ is supported). */
export const DEFAULT_KUBERNETES_VERSION = 'v1.31.4';

export type NodeRole = 'control-plane' | 'worker';

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  protocol: 'TCP' | 'UDP';
}

export interface ExtraMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface NodeConfig {
  role: NodeRole;
  /** optional in the file; named as kind names nodes when absent */
  name?: string;
  labels: Record<string, string>;
  extraPortMappings: PortMapping[];
  extraMounts: ExtraMount[];
  /** the node gets the host's NVIDIA GPUs (shared out among the GPU nodes) and runs the device plugin */
  gpu: boolean;
}

export interface NetworkingConfig {
  /** the bridge subnet nodes get their addresses from; undefined: sifkube picks a free one */
  nodeSubnet?: string;
  /** pods' addresses; undefined: sifkube picks a free one; each node gets a slice of it */
  podSubnet?: string;
  /** the size of each node's slice of podSubnet */
  nodePodPrefix: number;
  serviceSubnet: string;
  dnsDomain: string;
}

export interface ClusterConfig {
  name: string;
  kubernetesVersion: string;
  /** false when neither a flag nor the config file named the release: a --kube-bin-dir folder's release then wins over the default */
  kubernetesVersionChosen: boolean;
  nodes: NodeConfig[];
  networking: NetworkingConfig;
  featureGates: Record<string, boolean>;
  /** registry mirrors, credentials and plain-HTTP hosts, given to every node's CRI (nodes added later too) */
  registry: RegistryConfig;
  /** `requireSigned`: the keyring (its text, read at init) whose keys must have signed every image a node runs. */
  requireSigned?: SigningPolicy;
  /** the root of the NVIDIA driver tree GPU nodes take their GPUs from (/ on a GPU host) */
  gpuRoot: string;
}

export interface SigningPolicy {
  /** the file or folder the keyring was read from */
  source: string;
  /** the public keys, armored (OpenPGP) or PEM */
  keyring: string;
}
