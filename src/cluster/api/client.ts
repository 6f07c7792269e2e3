import type * as K8s from '@kubernetes/client-node';
import { KubernetesApiError } from '../errors.js';
import { pkiPaths } from '../pki/cluster-pki.js';
import type { ClusterState } from '../state/store.js';

type Library = typeof K8s;
let library: Promise<Library> | undefined;

/**
 * Starts loading @kubernetes/client-node (about half a second of compiling its generated models):
 * init calls this while the nodes boot, so the load overlaps the API server's own start.
 */
export function preloadApiLibrary(): Promise<Library> {
  return (library ??= import('@kubernetes/client-node'));
}

/** The cluster's API as its admin: the typed core client and the raw watch. */
export interface ClusterApi {
  kc: K8s.KubeConfig;
  core: K8s.CoreV1Api;
  watch: K8s.Watch;
  lib: Library;
}

export async function clusterApi(state: ClusterState): Promise<ClusterApi> {
  const lib = await preloadApiLibrary();
  const kc = new lib.KubeConfig();
  kc.loadFromFile(pkiPaths(state.plan.names.stateDir).kubeconfig.admin);
  return { kc, core: kc.makeApiClient(lib.CoreV1Api), watch: new lib.Watch(kc), lib };
}

/** The HTTP status of a failed API call (the client's ApiException), or undefined. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** A failed call as the cluster layer reports it: which call, and the API's own message. */
export function apiError(call: string, err: unknown): KubernetesApiError {
  const body = (err as { body?: unknown }).body;
  const message = typeof body === 'string' ? (safeJson(body)?.message ?? body) : (err as Error).message;
  return new KubernetesApiError(call, String(message).trim());
}

function safeJson(text: string): { message?: string } | undefined {
  try {
    return JSON.parse(text) as { message?: string };
  } catch {
    return undefined;
  }
}
