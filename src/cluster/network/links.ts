import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { sh, trySh } from '../host.js';
import type { ClusterNames } from '../names.js';
import type { ClusterPlan, NodePlan } from '../plan.js';
import { writeSysctl } from './sysctl.js';

/**
 * The cluster's bridge with the host's address on it; forwarding on for this interface only, and
 * route_localnet so that a mapped port answers on 127.0.0.1 (a packet from 127.0.0.1 may leave, and
 * its reply come back, through this bridge only). Both settings go with the bridge: nothing to restore.
 */
export function addBridge(plan: ClusterPlan): void {
  const br = plan.bridge.name;
  sh('ip', ['-batch', '-'], [`link add ${br} type bridge`, `addr add ${plan.bridge.address}/${plan.bridge.prefix} dev ${br}`, `link set ${br} up`, ''].join('\n'));
  writeSysctl(`net.ipv4.conf.${br}.forwarding`, '1');
  if (plan.nodes.some((n) => n.extraPortMappings.length > 0)) writeSysctl(`net.ipv4.conf.${br}.route_localnet`, '1');
}

/** Runs an `ip -batch` script inside the network namespace at `netns` (a bind-mounted nsfs file). */
function ipIn(netns: string, lines: string[]): void {
  sh('nsenter', [`--net=${netns}`, 'ip', '-batch', '-'], `${lines.join('\n')}\n`);
}

/**
 * Connects a node's network namespace to the bridge: a veth whose node end is eth0 with the node's
 * address, a default route through the host, direct routes to the other nodes' pod CIDRs, forwarding
 * on; and on the host a route to this node's pod CIDR.
 */
export function attachNode(plan: ClusterPlan, node: NodePlan, netns: string): void {
  sh('ip', ['link', 'add', node.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  sh('ip', ['-batch', '-'], `link set ${node.veth} master ${plan.bridge.name} up\nroute add ${node.podCIDR} via ${node.address} dev ${plan.bridge.name}\n`);
  ipIn(netns, [
    'link set lo up',
    `addr add ${node.address}/${plan.bridge.prefix} dev eth0`,
    'link set eth0 up',
    `route add default via ${plan.bridge.address}`,
    ...plan.nodes.filter((o) => o !== node).map((o) => `route add ${o.podCIDR} via ${o.address} dev eth0`),
  ]);
  // A node forwards from the start, as a kind node does: a NodePort reached on a node that runs none
  // of the service's pods is DNATed to another node's pod. Only the CNI bridge plugin would turn it
  // on, at the node's first pod. This is the node's own namespace: the host's setting is untouched.
  sh('nsenter', [`--net=${netns}`, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
}

/** A named network namespace (/run/netns/sk-<id>-<node>) standing in for a node's own until the runtime runs nodes. */
export function addNodeNetns(names: ClusterNames, node: NodePlan): string {
  const name = `${names.netnsPrefix}${node.index}`;
  sh('ip', ['netns', 'add', name]);
  return `/run/netns/${name}`;
}

/** The cluster's named network namespaces that exist. */
export function clusterNetns(names: ClusterNames): string[] {
  if (!existsSync('/run/netns')) return [];
  return readdirSync('/run/netns').filter((n) => n.startsWith(names.netnsPrefix));
}

/** The host's links whose name starts with the cluster's prefix. */
export function clusterLinks(names: ClusterNames): string[] {
  const r = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0])
    .filter((n): n is string => !!n && n.startsWith(names.linkPrefix));
}

/** Deletes the cluster's links (veths first: their peers go with them), then the bridge and its routes; one ip process. */
export function removeClusterLinks(names: ClusterNames): string[] {
  const links = clusterLinks(names).sort((a, b) => (a === names.bridge ? 1 : b === names.bridge ? -1 : a.localeCompare(b)));
  if (links.length > 0) spawnSync('ip', ['-force', '-batch', '-'], { input: links.map((l) => `link delete ${l}`).join('\n') + '\n', stdio: ['pipe', 'ignore', 'ignore'] });
  const left = new Set(clusterLinks(names));
  return links.filter((l) => !left.has(l));
}

export function removeClusterNetns(names: ClusterNames): string[] {
  return clusterNetns(names).filter((n) => trySh('ip', ['netns', 'delete', n]));
}
