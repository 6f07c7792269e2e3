import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupMounts } from './cgroups.js';
import { nodeProcessCgroup } from './node/spec.js';
import type { NodePlan } from './plan.js';
import { nodeLayout } from './components/layout.js';
import { UnknownNodeError } from './errors.js';
import { clusterLinks } from './network/links.js';
import type { NodeRole } from './config/types.js';
import { readClusterState, type ClusterPhase } from './state/store.js';
import { readSupervisorStatus, type ComponentStatus, type SupervisorStatusFile } from './supervisor/index.js';

export interface NodeStatus {
  name: string;
  role: NodeRole;
  address: string;
  podCIDR: string;
  /** whether the node's veth is on the bridge */
  attached: boolean;
  /** undefined: no supervisor has run on this node */
  supervisor?: { pid: number; running: boolean; updatedAt: string; components: ComponentStatus[] };
}

export interface ClusterStatus {
  name: string;
  phase: ClusterPhase;
  kubernetesVersion: string;
  apiServer: string;
  /** the --persistent folder holding the state; undefined: a tmpfs */
  persistentDir?: string;
  bridge: { name: string; present: boolean };
  nodes: NodeStatus[];
}

/**
 * Whether the supervisor that wrote `s` still runs. Its PID means something only in its own PID
 * namespace: in ours, ask the kernel; in a node's, the node's process cgroup tells (empty: gone).
 */
function supervisorRunning(s: SupervisorStatusFile, node: NodePlan): boolean {
  if (s.stopped) return false;
  if (s.pidNamespace === readlinkSync('/proc/self/ns/pid')) {
    try {
      process.kill(s.supervisorPid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return cgroupMounts().some((m) => {
    try {
      return readFileSync(join(m, nodeProcessCgroup(node), 'cgroup.procs'), 'utf8').trim() !== '';
    } catch {
      return false;
    }
  });
}

/** A cluster as the host sees it now: its state, which links exist, what each node's supervisor last reported. */
export function clusterStatus(name: string, only?: string): ClusterStatus {
  const state = readClusterState(name);
  const plan = state.plan;
  if (only !== undefined && !plan.nodes.some((n) => n.name === only)) throw new UnknownNodeError(name, only, plan.nodes.map((n) => n.name));
  const links = new Set(clusterLinks(plan.names));
  return {
    name,
    phase: state.phase,
    kubernetesVersion: plan.kubernetesVersion,
    apiServer: plan.apiServer.url,
    persistentDir: state.persistentDir,
    bridge: { name: plan.bridge.name, present: links.has(plan.bridge.name) },
    nodes: plan.nodes
      .filter((n) => only === undefined || n.name === only)
      .map((n) => {
        const file = nodeLayout(plan, n).supervisorStatus;
        const s = existsSync(file) ? readSupervisorStatus(file) : undefined;
        return {
          name: n.name,
          role: n.role,
          address: n.address,
          podCIDR: n.podCIDR,
          attached: links.has(n.veth),
          supervisor: s && { pid: s.supervisorPid, running: supervisorRunning(s, n), updatedAt: s.updatedAt, components: s.components },
        };
      }),
  };
}
