import type { ClusterConfig } from '../config/types.js';
import { deleteCluster } from '../cleanup.js';
import { writeNodeFiles } from '../components/node-files.js';
import { ClusterConfigError, DownloadError, InitFailedError, KubeBinaryMissingError } from '../errors.js';
import { resolveEtcd, resolveKubernetes, type KubeDistribution } from '../kube/resolve.js';
import { KUBE_BINARIES, versionCacheDir } from '../kube/release.js';
import { checkKubernetesVersion } from '../config/validate.js';
import { findKubectl } from '../kubectl.js';
import { defaultKubeconfigPath, mergeKubeconfig } from '../pki/kubeconfig.js';
import { prepareCluster, type PrepareStep } from '../prepare.js';
import { checkNewPersistentDir, writeClusterState, type ClusterState } from '../state/store.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exportLogs } from '../logs-export.js';
import { hiddenInNodes, resolved } from '../state/persistent.js';
import { parse } from 'yaml';
import { pkiPaths, type PkiPaths } from '../pki/cluster-pki.js';
import type { NodePlan } from '../plan.js';
import { bootNodes } from './nodes.js';
import { apiServerReady, until } from './wait.js';
import { clusterApi, labelNode, preloadApiLibrary, ensureDefaultServiceAccount, waitForNodes } from '../api/index.js';

export const INIT_STEPS = ['kubernetes', 'state', 'sysctls', 'pki', 'cgroups', 'network', 'nodes', 'api', 'labels', 'ready'] as const;
export type InitStep = (typeof INIT_STEPS)[number];

export interface InitOptions {
  config: ClusterConfig;
  kubeBinDir?: string;
  persistentDir?: string;
  /** how long to wait for every node Ready; 0: return once the nodes are registered and labelled */
  waitMs: number;
  /** kubeconfig file to merge the admin context into; default $KUBECONFIG or ~/.kube/config */
  kubeconfig?: string;
  /** keep a cluster whose init failed (phase failed), for debugging, instead of deleting it */
  retain?: boolean;
  onStep?: (step: InitStep) => void;
}

/** How long the API server may take to answer /readyz, and each node to register. */
const API_READY_MS = 120_000;

/**
 * Finds every binary init needs before touching the host: the Kubernetes release, etcd and kubectl.
 * A download that fails (no network) is reported as the missing binary with every way to provide it.
 */
export async function resolveBinaries(config: ClusterConfig, binDirGiven?: string): Promise<{ dist: KubeDistribution; etcd: string; kubeBinDir?: string }> {
  const kubeBinDir = binDirGiven === undefined ? undefined : nodeVisibleFolder(binDirGiven);
  let dist: KubeDistribution;
  try {
    // A folder the user names defines the release unless a version was asked for too.
    const version = kubeBinDir !== undefined && !config.kubernetesVersionChosen ? undefined : config.kubernetesVersion;
    dist = await resolveKubernetes({ version, binDir: kubeBinDir });
    checkKubernetesVersion(dist.version, kubeBinDir);
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    const bin = KUBE_BINARIES.find((b) => err.url.includes(`/${b}`)) ?? KUBE_BINARIES[0];
    throw new KubeBinaryMissingError(
      bin,
      config.kubernetesVersion,
      [versionCacheDir(config.kubernetesVersion), 'the release downloads'],
      `pass --kube-bin-dir DIR with the release's binaries, fill the cache with \`sifkube kube import DIR\`, or run \`sifkube kube fetch --kubernetes-version ${config.kubernetesVersion}\` where the network allows (the download of ${err.url} failed: ${err.reason})`,
    );
  }
  findKubectl(kubeBinDir, dist.version);
  return { dist, etcd: resolveEtcd(kubeBinDir), kubeBinDir };
}

/**
 * The kubelet and the control plane run inside the nodes, which see the host's root but mount their
 * own /tmp, /run, /dev, /proc and /sys: a --kube-bin-dir there would be empty inside a node.
 */
function nodeVisibleFolder(dir: string): string {
  const real = resolved(resolve(dir));
  const hidden = hiddenInNodes(real);
  if (hidden) {
    throw new ClusterConfigError('--kube-bin-dir', 'folder', `${dir} lies under ${hidden}, which every node mounts its own of`, 'move the binaries elsewhere (e.g. /var/tmp or /opt), or copy them into the cache with `sifkube kube import DIR`');
  }
  return real;
}

/** Components of each node, from its generated files. */
export function nodeComponents(state: ClusterState, pki: PkiPaths, dist: KubeDistribution, etcd: string) {
  return (node: NodePlan) => writeNodeFiles(state.plan, node, pki, dist, etcd).components;
}

/**
 * Waits for the API server, then watches the nodes: labels each with what its kubelet may not set
 * (NodeRestriction) once it registers, makes the default ServiceAccount (pods are refused without
 * it), then waits `waitMs` for all of them Ready.
 */
export async function joinNodes(state: ClusterState, nodes: NodePlan[], waitMs: number, onStep: (step: InitStep) => void = () => undefined): Promise<void> {
  void preloadApiLibrary().catch(() => undefined); // started by init already; node add and start begin here
  onStep('api');
  await until('the API server answering /readyz', API_READY_MS, 'read the control-plane node\'s kube-apiserver.log (`sifkube logs export DIR`)', () => apiServerReady(state));
  onStep('labels');
  const api = await clusterApi(state);
  const names = nodes.map((n) => n.name);
  await waitForNodes(api, names, { ready: false, ms: API_READY_MS, fix: 'read the node\'s kubelet log (`sifkube logs export DIR`)' });
  await Promise.all([...nodes.map((n) => labelNode(api, n.name, n.apiLabels)), ensureDefaultServiceAccount(api)]);
  onStep('ready');
  if (waitMs > 0) await waitForNodes(api, names, { ready: true, ms: waitMs, fix: 'wait longer (--wait), or read the kubelet logs (`sifkube logs export DIR`)' });
}

/**
 * `sifkube init`: resolves every binary first (a missing one fails before the host is touched), then
 * prepares the host side, starts every node with our runtime and its CRI server, waits for the API
 * server, labels the nodes, waits for them Ready, and merges the admin context into the kubeconfig.
 * Any failure after the host was touched deletes everything the init made before rethrowing.
 */
export async function initCluster(opts: InitOptions): Promise<ClusterState> {
  const step = opts.onStep ?? (() => undefined);
  if (opts.persistentDir !== undefined) checkNewPersistentDir(opts.persistentDir);
  step('kubernetes');
  const { dist, etcd, kubeBinDir } = await resolveBinaries(opts.config, opts.kubeBinDir);
  const config = { ...opts.config, kubernetesVersion: dist.version };
  const { state, pki } = await prepareCluster(config, { persistentDir: opts.persistentDir, onStep: (s: PrepareStep) => step(s) });
  try {
    state.kubeBinDir = kubeBinDir;
    writeClusterState(state);
    step('nodes');
    void preloadApiLibrary().catch(() => undefined); // loads while the nodes boot; joinNodes awaits it
    await bootNodes(state.plan, state.plan.nodes, nodeComponents(state, pki, dist, etcd));
    await joinNodes(state, state.plan.nodes, opts.waitMs, step);
    mergeKubeconfig(opts.kubeconfig ?? defaultKubeconfigPath(), parse(readFileSync(pkiPaths(state.plan.names.stateDir).kubeconfig.admin, 'utf8')));
    state.phase = 'running';
    writeClusterState(state);
    return state;
  } catch (err) {
    throw await failedInit(state, opts, err as Error);
  }
}

/**
 * What a failed init leaves: the logs its error points to, exported before anything is deleted; the
 * cluster itself only with --retain (as kind's), marked failed.
 */
async function failedInit(state: ClusterState, opts: InitOptions, err: Error): Promise<InitFailedError> {
  const name = state.plan.name;
  let logs: string | undefined;
  try {
    const dir = mkdtempSync(join(tmpdir(), `sifkube-${name}-init-`));
    await exportLogs(state, dir);
    logs = join(dir, name);
  } catch {
    // a cluster that failed early may have too little state to export
  }
  if (opts.retain) {
    state.phase = 'failed';
    writeClusterState(state);
  } else {
    await deleteCluster(name, opts.kubeconfig).catch(() => undefined);
  }
  return new InitFailedError(err, [
    logs ? `the logs of every component are in ${logs}` : 'no logs could be exported',
    opts.retain ? `the failed cluster is kept for debugging: \`sifkube delete --name ${name}\` removes it` : 'the cluster was deleted: `sifkube init --retain` keeps a failed cluster for debugging',
  ].join('; '));
}
