import { DRIVER_FILE_OPTIONS, gpuInjection } from '../../runtime/index.js';
import { clusterGpuHost, nodeGpus } from '../addons/gpu/share.js';
import type { ClusterPlan, NodePlan } from '../plan.js';

export interface NodeGpuAccess {
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  /** device cgroup rules after the node's allow-all: the NVIDIA nodes that are not the node's, denied */
  deviceRules: { allow: boolean; type: string; major: number; minor: number; access: string }[];
  env: string[];
}

/**
 * What a node container gets of the host's GPUs, from the runtime's one description: a GPU node its
 * share's injection (the driver files read-only; the device nodes are those of the host's /dev the
 * node already has, and a driver tree other than / is bound read-only at its own path so the node's
 * device plugin and CRI find it too). Every NVIDIA device node that is not the node's is denied to
 * the node's own processes.
 */
export function nodeGpuAccess(plan: ClusterPlan, node: NodePlan): NodeGpuAccess {
  const host = clusterGpuHost(plan);
  const mine = nodeGpus(host, node);
  const inj = gpuInjection(host, mine);
  const allowed = new Set(mine.length > 0 ? inj.devices.map((d) => d.hostPath) : []);
  const deviceRules = [...host.controlDevices, ...host.gpus.map((g) => g.device)]
    .filter((d) => !allowed.has(d.hostPath))
    .map((d) => ({ allow: false, type: 'c', major: d.major, minor: d.minor, access: 'rwm' }));
  if (mine.length === 0) return { mounts: [], deviceRules, env: [] };
  const root = host.root === '/' ? [] : [{ destination: host.root, type: 'bind', source: host.root, options: ['rbind', 'ro'] }];
  const files = inj.files.map((f) => ({ destination: f.path, type: 'bind', source: f.hostPath, options: DRIVER_FILE_OPTIONS }));
  return { mounts: [...root, ...files], deviceRules, env: Object.entries(inj.env).map(([k, v]) => `${k}=${v}`) };
}
