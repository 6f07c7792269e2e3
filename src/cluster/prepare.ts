import { existsSync } from 'node:fs';
import { createNodeCgroups } from './cgroups.js';
import { deleteCluster } from './cleanup.js';
import type { ClusterConfig } from './config/types.js';
import { addBridge, addClusterRules, clusterChains, clusterLinks, defaultRouteDevices, enableUplinkForwarding, recordHostSysctls } from './network/index.js';
import { generateClusterPki, type PkiPaths } from './pki/cluster-pki.js';
import { createClusterState, listClusters, writeClusterState, type ClusterState } from './state/store.js';

export interface PreparedCluster {
  state: ClusterState;
  pki: PkiPaths;
}

/** Names of the steps, in order, for progress output. */
export const PREPARE_STEPS = ['state', 'sysctls', 'pki', 'cgroups', 'network'] as const;
export type PrepareStep = (typeof PREPARE_STEPS)[number];

/**
 * The host side of `init` that needs no node runtime: the state folder (tmpfs), the host sysctls
 * recorded before any kubelet runs, the PKI and kubeconfigs, every node's cgroup root, the bridge and
 * the iptables chains, forwarding on the uplink for egress. On any failure everything made so far is deleted before the error is rethrown.
 */
export async function prepareCluster(config: ClusterConfig, opts: { persistentDir?: string; onStep?: (step: PrepareStep) => void; uplinks?: string[] } = {}): Promise<PreparedCluster> {
  const step = opts.onStep ?? (() => undefined);
  step('state');
  const state = createClusterState(config, opts.persistentDir);
  try {
    step('sysctls');
    state.sysctls = recordHostSysctls();
    writeClusterState(state);
    step('pki');
    const pki = await generateClusterPki(state.plan, state.plan.names.stateDir);
    step('cgroups');
    createNodeCgroups(state.plan);
    step('network');
    addBridge(state.plan);
    addClusterRules(state.plan);
    const recorded = Object.assign({}, ...listClusters().filter((c) => c.plan.name !== config.name).map((c) => c.uplinks ?? {}));
    state.uplinks = enableUplinkForwarding(opts.uplinks ?? defaultRouteDevices(), recorded);
    writeClusterState(state);
    return { state, pki };
  } catch (err) {
    await deleteCluster(config.name).catch(() => undefined);
    throw err;
  }
}

/**
 * What `start` needs of the host side that a host reboot took away (a --persistent cluster's state
 * survives it; /run, links, iptables rules, cgroups and sysctls do not): the node cgroups, the bridge,
 * the iptables chains, forwarding on the uplinks. Whatever is still there is left as it is.
 */
export function restoreHostSide(state: ClusterState): void {
  const plan = state.plan;
  createNodeCgroups(plan);
  if (!clusterLinks(plan.names).includes(plan.bridge.name)) addBridge(plan);
  if (clusterChains(plan.names).length === 0) addClusterRules(plan);
  enableUplinkForwarding(Object.keys(state.uplinks ?? {}).filter((d) => existsSync(`/proc/sys/net/ipv4/conf/${d}`)), {});
}
