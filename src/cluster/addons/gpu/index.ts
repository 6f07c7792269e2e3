import { UnknownNodeError } from '../../errors.js';
import type { ClusterState } from '../../state/store.js';
import { DEVICE_PLUGIN_DIR, runGpuDevicePlugin, type RunningGpuPlugin } from './plugin.js';
import { clusterGpuHost, nodeGpus } from './share.js';

export { runGpuDevicePlugin, DEVICE_PLUGIN_DIR, GPU_RESOURCE, GPU_PLUGIN_HEALTH_PORT, PLUGIN_SOCKET, type RunningGpuPlugin } from './plugin.js';
export { nodeGpus, clusterGpuHost } from './share.js';

/** The GPU device plugin of one GPU node (its `gpu-device-plugin` component): the node's share of the GPUs, on its kubelet. */
export async function runNodeGpuPlugin(state: ClusterState, nodeName: string): Promise<RunningGpuPlugin> {
  const plan = state.plan;
  const node = plan.nodes.find((n) => n.name === nodeName);
  if (!node) throw new UnknownNodeError(plan.name, nodeName, plan.nodes.map((n) => n.name));
  const host = clusterGpuHost(plan);
  return runGpuDevicePlugin({ dir: DEVICE_PLUGIN_DIR, host, gpus: nodeGpus(host, node), log: (line) => console.log(`${new Date().toISOString()} ${line}`) });
}
