import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { createServer } from 'node:http';
import { apiError, apiStatus, clusterApi, watchCollection, type ClusterApi } from '../../api/index.js';
import type { ClusterPlan } from '../../plan.js';
import type { ClusterState } from '../../state/store.js';
import { ClusterRecords } from './records.js';
import { serveDns, upstreamResolvers } from './server.js';

export { ClusterRecords } from './records.js';
export { serveDns, upstreamResolvers } from './server.js';

/** Where the add-on answers inside the control-plane node: DNS on 53, its health on 127.0.0.1:8181 (CoreDNS's ready port). */
export const DNS_PORT = 53;
export const DNS_HEALTH_PORT = 8181;
const MANAGED_BY = 'sifkube.io';

/**
 * The `kube-dns` Service at the cluster DNS address the kubelets give pods, without a selector, and
 * its EndpointSlice naming the control-plane node, where this add-on listens: kube-proxy on every
 * node then carries pods' queries here.
 */
export async function publishDnsService(api: ClusterApi, plan: ClusterPlan): Promise<void> {
  const cp = plan.nodes.find((n) => n.role === 'control-plane')!;
  const ports = [
    { name: 'dns', port: DNS_PORT, protocol: 'UDP' },
    { name: 'dns-tcp', port: DNS_PORT, protocol: 'TCP' },
  ];
  const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'sifkube-dns', 'app.kubernetes.io/managed-by': MANAGED_BY };
  const service: V1Service = { metadata: { name: 'kube-dns', namespace: 'kube-system', labels }, spec: { clusterIP: plan.dnsIP, ports: ports.map((p) => ({ ...p, targetPort: DNS_PORT })) } };
  const slice: V1EndpointSlice = {
    metadata: { name: 'kube-dns-sifkube', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': MANAGED_BY } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [cp.address], conditions: { ready: true }, nodeName: cp.name }],
    ports,
  };
  const discovery = api.kc.makeApiClient(api.lib.DiscoveryV1Api);
  try {
    await api.core.createNamespacedService({ namespace: 'kube-system', body: service });
  } catch (err) {
    if (apiStatus(err) !== 409) throw apiError('creating Service kube-system/kube-dns', err);
  }
  try {
    await discovery.createNamespacedEndpointSlice({ namespace: 'kube-system', body: slice });
  } catch (err) {
    if (apiStatus(err) !== 409) throw apiError('creating EndpointSlice kube-system/kube-dns-sifkube', err);
    await discovery.replaceNamespacedEndpointSlice({ name: 'kube-dns-sifkube', namespace: 'kube-system', body: slice });
  }
}

/**
 * The cluster DNS add-on (the control-plane node's `cluster-dns` component): publishes the kube-dns
 * Service, keeps the records current from watches of Services and EndpointSlices (a change is served
 * as soon as its watch event arrives; the watches reconnect across an API server restart), answers
 * on port 53 and forwards every other name to the host's resolvers. Healthy once the first lists
 * are in. Resolves to its close function.
 */
export async function runClusterDns(state: ClusterState, opts: { port?: number; healthPort?: number } = {}): Promise<() => Promise<void>> {
  const plan = state.plan;
  const api = await clusterApi(state);
  const records = new ClusterRecords(plan.dnsDomain);
  let services: V1Service[] | undefined;
  let slices: V1EndpointSlice[] | undefined;
  const rebuild = () => {
    if (services && slices) records.rebuild(services, slices);
  };
  const discovery = api.kc.makeApiClient(api.lib.DiscoveryV1Api);
  const stops = [
    watchCollection<V1Service>(api, { path: '/api/v1/services', list: () => api.core.listServiceForAllNamespaces() }, (m) => {
      services = [...m.values()];
      rebuild();
    }),
    watchCollection<V1EndpointSlice>(api, { path: '/apis/discovery.k8s.io/v1/endpointslices', list: () => discovery.listEndpointSliceForAllNamespaces() }, (m) => {
      slices = [...m.values()];
      rebuild();
    }),
  ];
  // Bound to the address the kube-dns EndpointSlice names, not 0.0.0.0: a UDP answer from a wildcard
  // socket leaves from the address the route picks (the pod bridge's gateway for a pod on this node),
  // which the pod's conntrack entry for the Service does not expect, so the pod never sees it.
  const cp = plan.nodes.find((n) => n.role === 'control-plane')!;
  const dns = await serveDns(records, { host: cp.address, port: opts.port ?? DNS_PORT, upstreams: upstreamResolvers('/etc/resolv.conf', [plan.dnsIP]) });
  let published = false;
  const health = createServer((_req, res) => res.writeHead(published && services && slices ? 200 : 503).end());
  await new Promise<void>((resolve) => health.listen(opts.healthPort ?? DNS_HEALTH_PORT, '127.0.0.1', resolve));
  for (let tries = 0; !published; tries++) {
    try {
      await publishDnsService(api, plan);
      published = true;
    } catch (err) {
      if (tries >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return async () => {
    for (const stop of stops) stop();
    health.close();
    await dns.close();
  };
}
