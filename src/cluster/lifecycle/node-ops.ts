import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cgroupMounts, createNodeCgroups } from '../cgroups.js';
import { checkClusterName } from '../config/validate.js';
import { nthAddress, parseCidr, subnet, formatCidr } from '../config/cidr.js';
import { nodeLayout } from '../components/layout.js';
import { ClusterConfigError, HostSetupError, UnknownNodeError } from '../errors.js';
import { trySh } from '../host.js';
import { kindNodeName, vethName } from '../names.js';
import { deleteNodeContainer, nodeContainerId } from '../node/container.js';
import { nodeRootfsPaths } from '../node/rootfs.js';
import { issueNodeCredentials, pkiPaths } from '../pki/cluster-pki.js';
import type { NodePlan } from '../plan.js';
import { killAndWait } from '../processes.js';
import { writeClusterState, type ClusterState } from '../state/store.js';
import type { ComponentSpec } from '../supervisor/index.js';
import { clusterApi, deleteNodeObject, deleteNodePods } from '../api/index.js';
import { nodeComponents, joinNodes, resolveBinaries } from './init.js';
import { bootNodes } from './nodes.js';
import { apiServerReady } from './wait.js';

/** The plan of a new worker: the next index (addresses, pod CIDR, links and socket follow from it). */
export function planNewWorker(state: ClusterState, name?: string): NodePlan {
  const plan = state.plan;
  const index = Math.max(...plan.nodes.map((n) => n.index)) + 1;
  let nodeName = name;
  if (nodeName === undefined) {
    for (let nth = 1; nodeName === undefined || plan.nodes.some((n) => n.name === nodeName); nth++) nodeName = kindNodeName(plan.name, 'worker', nth);
  } else {
    checkClusterName(nodeName, '--node-name');
    if (plan.nodes.some((n) => n.name === nodeName)) throw new ClusterConfigError('--node-name', 'name', `cluster ${plan.name} already has a node ${nodeName}`, 'pick another name, or leave it out');
  }
  const bridge = parseCidr(plan.bridge.subnet)!;
  const pods = parseCidr(plan.podSubnet)!;
  const prefix = state.config.networking.nodePodPrefix;
  if (index + 3 > 2 ** (32 - bridge.prefix) || index >= 2 ** (prefix - pods.prefix)) {
    throw new ClusterConfigError('node add', 'nodes', `cluster ${plan.name} has no room for another node in ${plan.bridge.subnet} / ${plan.podSubnet}`, 'remove a node first, or create the cluster with larger subnets');
  }
  return {
    name: nodeName,
    role: 'worker',
    index,
    address: nthAddress(bridge, index + 2),
    podCIDR: formatCidr(subnet(pods, prefix, index)),
    labels: {},
    apiLabels: {},
    taints: [],
    extraPortMappings: [],
    extraMounts: [],
    cgroupRoot: `/${plan.names.cgroupParent}/${nodeName}`,
    veth: vethName(plan.names, index),
  };
}

/** Adds a route to `node`'s pod CIDR in every other running node's network namespace (or removes it). */
function routeOthers(state: ClusterState, node: NodePlan, op: 'add' | 'delete'): void {
  for (const other of state.plan.nodes) {
    if (other.name === node.name) continue;
    trySh('ip', ['netns', 'exec', `${state.plan.names.netnsPrefix}${other.index}`, 'ip', 'route', op, node.podCIDR, 'via', node.address, 'dev', 'eth0']);
  }
}

/**
 * Adds workers to a cluster whose nodes run, with the given components (the Kubernetes ones for
 * `node add`): plans them, creates their cgroups, starts them with our runtime and their CRI servers,
 * routes the other nodes to their pod CIDRs. A node that fails to come up is removed again.
 */
export async function addWorkers(state: ClusterState, names: (string | undefined)[], components: (node: NodePlan) => ComponentSpec[]): Promise<NodePlan[]> {
  const added: NodePlan[] = [];
  for (const n of names) {
    const node = planNewWorker(state, n);
    state.plan.nodes.push(node);
    added.push(node);
  }
  writeClusterState(state);
  try {
    await issueNodeCredentials(state.plan, state.plan.names.stateDir, added);
    createNodeCgroups(state.plan);
    await bootNodes(state.plan, added, components);
    for (const node of added) routeOthers(state, node, 'add');
    return added;
  } catch (err) {
    for (const node of added) await removeNode(state, node.name).catch(() => undefined);
    throw err;
  }
}

/** `sifkube node add`: new workers with the cluster's Kubernetes, registered, then Ready within waitMs. */
export async function addKubeWorkers(state: ClusterState, names: (string | undefined)[], waitMs: number): Promise<NodePlan[]> {
  const { dist, etcd } = await resolveBinaries(state.config, state.kubeBinDir);
  const added = await addWorkers(state, names, nodeComponents(state, pkiPaths(state.plan.names.stateDir), dist, etcd));
  try {
    await joinNodes(state, added, waitMs);
  } catch (err) {
    for (const node of added) await removeNode(state, node.name).catch(() => undefined);
    throw err;
  }
  return added;
}

/**
 * Removes one worker from a running cluster: its Node object and pods (when the API server answers),
 * its container and every process in it, its routes, links, network namespace, cgroups, folder and
 * credentials.
 */
export async function removeNode(state: ClusterState, nodeName: string): Promise<void> {
  const plan = state.plan;
  const node = plan.nodes.find((n) => n.name === nodeName);
  if (!node) throw new UnknownNodeError(plan.name, nodeName, plan.nodes.map((n) => n.name));
  if (node.role === 'control-plane') throw new ClusterConfigError('node remove', nodeName, 'the control-plane node cannot be removed', `delete the whole cluster with \`sifkube delete --name ${plan.name}\``);
  const api = (await apiServerReady(state)) ? await clusterApi(state) : undefined;
  if (api) await deleteNodeObject(api, nodeName);
  const layout = nodeLayout(plan, node);
  // Every process of the node is in its cgroups (the node's own and its pods', under cgroupRoot).
  const pids = cgroupMounts().flatMap((m) => nodePids(join(m, node.cgroupRoot)));
  const stuck = await killAndWait(pids);
  if (stuck.length > 0) throw new HostSetupError(`stopping node ${nodeName}`, `processes ${stuck.join(', ')} did not exit`);
  await deleteNodeContainer(plan.names, nodeContainerId(plan.names, node));
  routeOthers(state, node, 'delete');
  trySh('ip', ['route', 'delete', node.podCIDR, 'via', node.address]);
  trySh('ip', ['link', 'delete', node.veth]);
  trySh('ip', ['netns', 'delete', `${plan.names.netnsPrefix}${node.index}`]);
  trySh('umount', [nodeRootfsPaths(layout).merged]);
  for (const m of cgroupMounts()) removeTree(join(m, node.cgroupRoot));
  // Its containers are gone: so are its pods (no kubelet is left to report them).
  if (api) await deleteNodePods(api, nodeName);
  rmSync(layout.dir, { recursive: true, force: true });
  rmSync(layout.criSocket, { force: true });
  // A later node of the same name gets new credentials: the old ones must not outlive this node.
  const pki = pkiPaths(plan.names.stateDir);
  rmSync(dirname(pki.kubeletClient(nodeName).cert), { recursive: true, force: true });
  rmSync(pki.kubeconfig.kubelet(nodeName), { force: true });
  state.plan.nodes = plan.nodes.filter((n) => n.name !== nodeName);
  writeClusterState(state);
}


/** PIDs in a cgroup folder and every folder below it. */
function nodePids(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const sub = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => nodePids(join(dir, e.name)));
  const own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  return [...own, ...sub];
}

/** Removes a cgroup folder and the ones below it, deepest first (they must be empty of processes). */
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    return; // delete of the cluster reports it
  }
}
