import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupMounts } from '../cgroups.js';
import { nodeLayout } from '../components/layout.js';
import { HostSetupError } from '../errors.js';
import { trySh } from '../host.js';
import { deleteNodeContainer, nodeContainerId, terminateNodeContainer } from '../node/container.js';
import { nodeRootfsPaths } from '../node/rootfs.js';
import { killAndWait } from '../processes.js';
import { writeClusterState, type ClusterState } from '../state/store.js';
import type { ComponentSpec } from '../supervisor/index.js';
import { restoreHostSide } from '../prepare.js';
import { bootNodes } from './nodes.js';
import { joinNodes } from './init.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PIDs under a cgroup folder, every hierarchy, every level. */
function pidsUnder(cgroup: string): number[] {
  const out: number[] = [];
  for (const m of cgroupMounts()) {
    const r = spawnSync('find', [join(m, cgroup), '-name', 'cgroup.procs'], { encoding: 'utf8' });
    for (const f of r.stdout.split('\n').filter(Boolean)) out.push(...readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number));
  }
  return [...new Set(out)];
}

/**
 * `sifkube stop`: stops every node (SIGTERM to its first process: the supervisor stops the
 * components and the CRI server; then anything left, pods included, is killed), removes the node
 * containers, their network namespaces, links and root overlays. The state folder (tmpfs, or the
 * --persistent folder), PKI, etcd data, images, bridge and iptables rules stay for `start`.
 */
export async function stopCluster(state: ClusterState): Promise<void> {
  const plan = state.plan;
  for (const node of plan.nodes) terminateNodeContainer(plan.names, nodeContainerId(plan.names, node));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && plan.nodes.some((n) => pidsUnder(`${n.cgroupRoot}/node`).length > 0)) await sleep(50);
  const stuck = await killAndWait(plan.nodes.flatMap((n) => pidsUnder(n.cgroupRoot)));
  if (stuck.length > 0) throw new HostSetupError(`stopping cluster ${plan.name}`, `processes ${stuck.join(', ')} did not exit`);
  for (const node of plan.nodes) {
    await deleteNodeContainer(plan.names, nodeContainerId(plan.names, node));
    trySh('ip', ['route', 'delete', node.podCIDR, 'via', node.address]);
    trySh('ip', ['link', 'delete', node.veth]);
    trySh('ip', ['netns', 'delete', `${plan.names.netnsPrefix}${node.index}`]);
    trySh('umount', [nodeRootfsPaths(nodeLayout(plan, node)).merged]);
  }
  state.phase = 'stopped';
  writeClusterState(state);
}

/**
 * `sifkube start`: brings back what a host reboot removed (cgroups, bridge, iptables rules), starts
 * every node again with the components it had, then waits as init does.
 */
export async function startCluster(state: ClusterState, waitMs: number): Promise<void> {
  const plan = state.plan;
  restoreHostSide(state);
  const components = (n: (typeof plan.nodes)[number]) => JSON.parse(readFileSync(join(nodeLayout(plan, n).dir, 'components.json'), 'utf8')) as ComponentSpec[];
  await bootNodes(plan, plan.nodes, components);
  // A cluster without Kubernetes components (tests, benchmarks) has no API server to wait for.
  if (components(plan.nodes[0]).some((c) => c.name === 'kube-apiserver')) {
    await joinNodes(state, plan.nodes, waitMs);
  }
  state.phase = 'running';
  writeClusterState(state);
}
