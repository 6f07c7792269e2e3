import type { V1Node } from '@kubernetes/client-node';
import { apiError, apiStatus, type ClusterApi } from './client.js';
import { watchUntil } from './watch.js';

export function nodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Watches nodes until every one of `names` is registered (and Ready, with `ready`). */
export async function waitForNodes(api: ClusterApi, names: string[], opts: { ready: boolean; ms: number; fix: string }): Promise<Map<string, V1Node>> {
  const byName = await watchUntil<V1Node>(api, {
    path: '/api/v1/nodes',
    list: () => api.core.listNode(),
    done: (nodes) => names.every((n) => {
      const node = nodes.get(`/${n}`);
      return node !== undefined && (!opts.ready || nodeReady(node));
    }),
    what: `node${names.length > 1 ? 's' : ''} ${names.join(', ')} ${opts.ready ? 'Ready' : 'registering with the API server'}`,
    fix: opts.fix,
    ms: opts.ms,
  });
  return new Map([...byName.values()].map((n) => [n.metadata?.name ?? '', n]));
}

/** Sets labels the kubelet may not set on its own node (NodeRestriction), as a merge patch. */
export async function labelNode(api: ClusterApi, name: string, labels: Record<string, string>): Promise<void> {
  if (Object.keys(labels).length === 0) return;
  try {
    await api.core.patchNode({ name, body: { metadata: { labels } } }, api.lib.setHeaderOptions('Content-Type', api.lib.PatchStrategy.MergePatch));
  } catch (err) {
    throw apiError(`labelling node ${name}`, err);
  }
}

/** Deletes a node object; one already gone is fine. */
export async function deleteNodeObject(api: ClusterApi, name: string): Promise<void> {
  try {
    await api.core.deleteNode({ name });
  } catch (err) {
    if (apiStatus(err) !== 404) throw apiError(`deleting node ${name}`, err);
  }
}

/**
 * Deletes, at once, the pods bound to a node that is gone with its containers. Left to the pod garbage
 * collector they linger for minutes, and while a Service selects one of them the EndpointSlice
 * controller of Kubernetes up to 1.29 refuses to update that Service ("Node … Not Found"), backing off
 * exponentially: the Service keeps serving the old addresses of every other pod.
 */
export async function deleteNodePods(api: ClusterApi, nodeName: string): Promise<number> {
  let pods;
  try {
    pods = await api.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
  } catch (err) {
    throw apiError(`listing the pods of node ${nodeName}`, err);
  }
  for (const pod of pods.items) {
    const { name, namespace } = pod.metadata ?? {};
    if (!name || !namespace) continue;
    try {
      await api.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
    } catch (err) {
      if (apiStatus(err) !== 404) throw apiError(`deleting pod ${namespace}/${name} of removed node ${nodeName}`, err);
    }
  }
  return pods.items.length;
}

/**
 * Makes the `default` ServiceAccount of the `default` namespace, which kube-controller-manager would
 * make only 10+ s after it starts: until it exists every pod there is refused ("serviceaccount
 * default not found"). The controller finds it made and leaves it.
 */
export async function ensureDefaultServiceAccount(api: ClusterApi): Promise<void> {
  try {
    await api.core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'default' } } });
  } catch (err) {
    if (apiStatus(err) !== 409) throw apiError('creating ServiceAccount default/default', err);
  }
}
