import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, DEFAULT_CONFIG, startCriServer, type CriConfig, type RunningCriServer } from '../../cri/index.js';
import type { NodeLayout } from '../components/layout.js';
import { CNI_BIN_DIRS } from '../doctor.js';
import type { ClusterPlan } from '../plan.js';
import { clusterGpuHost, nodeGpus } from '../addons/gpu/share.js';
import type { RegistryConfig } from '../config/types.js';

/** The cluster's shared image store: one content-addressed folder every node's CRI reads (no copy per node). */
export function clusterImageDir(plan: ClusterPlan): string {
  return join(plan.names.stateDir, 'images');
}

/** Where the CNI plugins are: the first of the usual folders that has `bridge`. */
function cniBinDir(): string {
  // Not a PATH search: iproute2 has a `bridge` command too.
  return CNI_BIN_DIRS.find((d) => existsSync(join(d, 'bridge'))) ?? DEFAULT_CONFIG.cni.binDir;
}

/**
 * A node's CRI configuration: its records and runtime objects in the node's folder on the cluster's
 * tmpfs (so pods and containers survive a restart of the supervisor and the CRI server), the node's
 * own CNI folder, the cluster's shared image store (seen through the node's scope), the cluster's
 * registry mirrors and credentials; on a GPU node, its share of the host's GPUs for CDI requests.
 */
export function nodeCriConfig(plan: ClusterPlan, layout: NodeLayout, registry: RegistryConfig): CriConfig {
  const node = plan.nodes.find((n) => n.name === layout.name);
  const gpus = node?.gpu ? { gpuRoot: plan.gpuRoot, gpus: nodeGpus(clusterGpuHost(plan), node).map((g) => g.index) } : {};
  return {
    ...gpus,
    ...DEFAULT_CONFIG,
    registry,
    stateDir: join(layout.dir, 'cri'),
    runDir: join(layout.dir, 'cri-run'),
    imageDir: clusterImageDir(plan),
    // `image load --nodes` restricts an image to some nodes: each node's CRI sees its own scope.
    imageScope: layout.name,
    cni: { binDir: cniBinDir(), confDir: layout.cniConfDir },
    // Inside the node's own cgroup root, so the cluster's cgroups hold every pod (delete removes them).
    cgroupParent: `/${plan.names.cgroupParent}/${layout.name}/sifkube-cri`,
    ...(plan.requireSigned ? { requireSigned: join(layout.dir, 'keyring.asc') } : {}),
  };
}

/** Starts the node's CRI server in this process, logging to logs/cri.log. */
export async function startNodeCri(plan: ClusterPlan, layout: NodeLayout, registry: RegistryConfig): Promise<RunningCriServer> {
  const out = createWriteStream(join(layout.logs, 'cri.log'), { flags: 'a' });
  const config = nodeCriConfig(plan, layout, registry);
  // The keyring the cluster was made with, from its state (the user's file may have changed since).
  if (config.requireSigned) writeFileSync(config.requireSigned, plan.requireSigned!.keyring);
  return startCriServer(config, layout.criSocket, createLogger('info', (l) => out.write(l)));
}
