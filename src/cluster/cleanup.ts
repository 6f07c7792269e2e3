import { existsSync, lstatSync, rmdirSync } from 'node:fs';
import { cgroupPids, clusterCgroups, removeClusterCgroups } from './cgroups.js';
import { CleanupIncompleteError } from './errors.js';
import { clusterNames, clustersDir, stateRoot } from './names.js';
import { clusterChains, clusterLinks, clusterNetns, removeClusterLinks, removeClusterNetns, removeClusterRules, restoreHostSysctls, restoreUplinkForwarding } from './network/index.js';
import { contextName } from './pki/cluster-pki.js';
import { defaultKubeconfigPath, removeFromKubeconfig } from './pki/kubeconfig.js';
import { removeNodeContainers } from './node/container.js';
import { killAndWait, pidsInNetns, pidsNamingPath } from './processes.js';
import { clusterDirNames, readClusterState, removeClusterDir, type ClusterState } from './state/store.js';

/** What one delete removed, by kind of object. */
export interface DeleteReport {
  processes: number;
  containers: string[];
  netns: string[];
  links: string[];
  iptables: boolean;
  cgroups: number;
  sysctls: string[];
  uplinks: string[];
  kubeconfig: boolean;
  stateDir: boolean;
}

function stateOf(name: string): ClusterState | undefined {
  try {
    return readClusterState(name);
  } catch {
    return undefined; // a failed init may have left no (or a broken) state file: names suffice
  }
}

/** The folders sifkube made for its first cluster go with its last one (a folder still in use is not empty). */
function removeEmptyFolders(dirs: string[]): void {
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch {
      continue; // not empty (another cluster, another sifkube part) or already gone
    }
  }
}

/** Uplinks other clusters still rely on (their forwarding stays on). */
function uplinksOfOthers(name: string): Set<string> {
  return new Set(clusterDirNames().filter((n) => n !== name).flatMap((n) => Object.keys(stateOf(n)?.uplinks ?? {})));
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whatever of the cluster is still on the host, one readable line per object. */
export function clusterLeftovers(name: string): string[] {
  const names = clusterNames(name);
  const netnsFiles = clusterNetns(names).map((n) => `/run/netns/${n}`);
  return [
    ...[...new Set([...pidsInNetns(netnsFiles), ...pidsNamingPath(names.stateDir)])].map((p) => `process ${p}`),
    ...netnsFiles.map((n) => `netns ${n}`),
    ...clusterLinks(names).map((l) => `link ${l}`),
    ...clusterChains(names).map((c) => `iptables ${c}`),
    ...clusterCgroups(names).map((c) => `cgroup ${c}`),
    ...(exists(names.stateDir) ? [`folder ${names.stateDir}`] : []),
    ...(exists(`/run/sifkube/clusters/${name}`) ? [`folder /run/sifkube/clusters/${name}`] : []),
  ];
}

/**
 * Removes every host object of a cluster, in an order that lets each step succeed: processes (in its
 * cgroups, its network namespaces, or naming its state folder), network namespaces, links, iptables
 * chains, cgroups, the host sysctls the kubelets changed, its kubeconfig context, its state folder.
 * Works from the cluster name alone, so a half-made cluster (failed init) goes too. Throws
 * CleanupIncompleteError listing anything still there at the end.
 */
export async function deleteCluster(name: string, kubeconfigPath = defaultKubeconfigPath()): Promise<DeleteReport> {
  const names = clusterNames(name);
  const state = stateOf(name);
  const netnsFiles = clusterNetns(names).map((n) => `/run/netns/${n}`);
  const pids = [...cgroupPids(names), ...pidsInNetns(netnsFiles), ...pidsNamingPath(names.stateDir)];
  const stuck = await killAndWait(pids);
  // A second pass catches children forked while the first pass was killing their parents.
  await killAndWait([...cgroupPids(names), ...pidsInNetns(netnsFiles), ...pidsNamingPath(names.stateDir)]);
  // Host settings first: an uplink that is one of the cluster's own links (a test's) goes with them.
  const sysctls = state?.sysctls ? restoreHostSysctls(state.sysctls) : [];
  const uplinks = state?.uplinks ? restoreUplinkForwarding(state.uplinks, uplinksOfOthers(name)) : [];
  const report: DeleteReport = {
    processes: new Set(pids).size - stuck.length,
    containers: await removeNodeContainers(names),
    netns: removeClusterNetns(names),
    links: removeClusterLinks(names),
    iptables: removeClusterRules(names),
    cgroups: 0,
    sysctls,
    uplinks,
    kubeconfig: existsSync(kubeconfigPath) ? removeFromKubeconfig(kubeconfigPath, contextName(name)) : false,
    stateDir: exists(names.stateDir),
  };
  const before = clusterCgroups(names).length;
  report.cgroups = before - removeClusterCgroups(names).length;
  // A persistent folder the user made stays (emptied); unknown (no state): kept too, the safe side.
  removeClusterDir(name, state ? state.persistentDirCreated === false : true);
  removeEmptyFolders([clustersDir(), stateRoot(), '/run/sifkube/clusters', '/run/sifkube']);
  const left = clusterLeftovers(name);
  if (left.length > 0) throw new CleanupIncompleteError(name, left);
  return report;
}
