import { criClient } from '../../cri/index.js';
import { ClusterTimeoutError } from '../errors.js';
import type { ClusterState } from '../state/store.js';
import { probe } from '../supervisor/health.js';
import { pkiPaths } from '../pki/cluster-pki.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a cheap in-process `check` every 50 ms until it holds; past `ms` it throws ClusterTimeoutError(what, fix). */
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
