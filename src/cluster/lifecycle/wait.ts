import { criClient } from '../../cri/index.js';
import { ClusterTimeoutError } from '../errors.js';
import { kubectl } from '../kubectl.js';
import type { ClusterState } from '../state/store.js';
import { probe } from '../supervisor/health.js';
import { pkiPaths } from '../pki/cluster-pki.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 50 ms until it holds; past `ms` it throws ClusterTimeoutError(what, fix). */
export async function until(what: string, ms: number, fix: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new ClusterTimeoutError(what, ms, fix);
    await sleep(50);
  }
}

/** True when the CRI server on `socket` answers a Version call. */
export async function criAnswers(socket: string): Promise<boolean> {
  const c = criClient(socket);
  try {
    const v = await Promise.race([c.runtime.Version({ version: 'v1' }), sleep(1000).then(() => undefined)]);
    return Boolean(v?.runtimeName);
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/** The API server's /readyz through the node address the kubeconfigs name, checked against the cluster CA. */
export function apiServerReady(state: ClusterState): Promise<boolean> {
  return probe({ url: `${state.plan.apiServer.url}/readyz`, caFile: pkiPaths(state.plan.names.stateDir).ca.cert });
}

/** Nodes registered with the API server, with their Ready condition. */
export function apiNodes(state: ClusterState): Map<string, boolean> {
  const list = JSON.parse(kubectl(state, ['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] };
  return new Map(list.items.map((n) => [n.metadata.name, n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false]));
}

/** Applies the labels the kubelet may not set itself (NodeRestriction) once the node has registered. */
export async function labelNode(state: ClusterState, node: string, labels: Record<string, string>, ms: number): Promise<void> {
  await until(`node ${node} registering with the API server`, ms, `read the node's kubelet log with \`sifkube logs export DIR\``, () => apiNodes(state).has(node));
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  if (pairs.length > 0) kubectl(state, ['label', 'node', node, '--overwrite', ...pairs]);
}
