import { DEFAULT_GPU_ROOT, discoverGpus, type Gpu, type GpuHost } from '../../../runtime/index.js';
import type { ClusterPlan, NodePlan } from '../../plan.js';

/** The GPUs that are `node`'s: every `of`-th of the host's, from its `share`-th, so no two nodes give the same GPU. */
export function nodeGpus(host: GpuHost, node: NodePlan): Gpu[] {
  const share = node.gpu;
  return share ? host.gpus.filter((_, i) => i % share.of === share.share) : [];
}

/** The host's driver tree as the cluster's GPU nodes see it. */
export function clusterGpuHost(plan: ClusterPlan): GpuHost {
  return discoverGpus(plan.gpuRoot ?? DEFAULT_GPU_ROOT);
}
