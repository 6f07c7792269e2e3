import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import type { KubeDistribution } from '../kube/resolve.js';
import type { ClusterPlan, NodePlan } from '../plan.js';
import type { PkiPaths } from '../pki/cluster-pki.js';
import type { ComponentSpec } from '../supervisor/index.js';
import { cniConfList } from './cni.js';
import { apiServerArgs, controllerManagerArgs, ETCD_PORTS, etcdArgs, kubeProxyArgs, kubeProxyConfiguration, schedulerArgs } from './control-plane.js';
import { kubeletArgs, kubeletConfiguration } from './kubelet.js';
import { MAX_SOCKET_PATH, nodeLayout, type NodeLayout } from './layout.js';
import { ClusterConfigError } from '../errors.js';
import { DNS_HEALTH_PORT } from '../addons/dns/index.js';
import { GPU_PLUGIN_HEALTH_PORT } from '../addons/gpu/plugin.js';
import { SIFKUBE_BIN } from '../node/container.js';

/**
 * Writes a node's generated files (kubelet and kube-proxy configurations, CNI network) and returns
 * the components its supervisor runs: on the control-plane node etcd and kube-apiserver together, then
 * kube-controller-manager, kube-scheduler and the cluster DNS once the API server is healthy; on every node the kubelet and
 * kube-proxy (they retry the API server themselves); on a GPU node the GPU device plugin once the
 * kubelet is healthy.
 */
export function writeNodeFiles(plan: ClusterPlan, node: NodePlan, pki: PkiPaths, dist: KubeDistribution, etcd: string): { layout: NodeLayout; components: ComponentSpec[] } {
  const layout = nodeLayout(plan, node);
  if (Buffer.byteLength(layout.criSocket) > MAX_SOCKET_PATH) {
    throw new ClusterConfigError('--name', 'name', `the node socket path ${layout.criSocket} is longer than ${MAX_SOCKET_PATH} bytes`, 'use a shorter cluster name (or a shorter SIFKUBE_STATE_DIR)');
  }
  for (const d of [layout.dir, layout.logs, layout.kubeletRoot, layout.cniConfDir, dirname(layout.criSocket)]) mkdirSync(d, { recursive: true, mode: 0o700 });
  writeFileSync(layout.kubeletConfig, stringify(kubeletConfiguration(plan, node, pki, layout, dist.version)));
  writeFileSync(layout.kubeProxyConfig, stringify(kubeProxyConfiguration(plan, node, pki)));
  writeFileSync(layout.cniConfFile, `${JSON.stringify(cniConfList(node, layout), null, 2)}\n`);
  const p = dist.paths;
  const components: ComponentSpec[] = [];
  if (node.role === 'control-plane') {
    mkdirSync(layout.etcdData, { recursive: true, mode: 0o700 });
    components.push(
      { name: 'etcd', command: etcd, args: etcdArgs(node.name, layout.etcdData), health: { url: `http://127.0.0.1:${ETCD_PORTS.client}/health` } },
      // Not after etcd: the API server retries etcd itself, and its own start-up (seconds) overlaps etcd's.
      { name: 'kube-apiserver', command: p['kube-apiserver'], args: apiServerArgs(plan, pki), health: { url: `https://127.0.0.1:${plan.apiServer.port}/readyz`, caFile: pki.ca.cert } },
      { name: 'kube-controller-manager', command: p['kube-controller-manager'], args: controllerManagerArgs(plan, pki), after: ['kube-apiserver'], health: { url: 'https://127.0.0.1:10257/healthz', insecure: true } },
      { name: 'kube-scheduler', command: p['kube-scheduler'], args: schedulerArgs(plan, pki), after: ['kube-apiserver'], health: { url: 'https://127.0.0.1:10259/healthz', insecure: true } },
      // Cluster DNS, embedded (src/cluster/addons/dns): no CoreDNS image can be had offline.
      { name: 'cluster-dns', command: process.execPath, args: [SIFKUBE_BIN, 'node', 'dns', '--name', plan.name], after: ['kube-apiserver'], health: { url: `http://127.0.0.1:${DNS_HEALTH_PORT}/` } },
    );
  }
  components.push(
    { name: 'kubelet', command: p.kubelet, args: kubeletArgs(node, pki, layout), health: { url: 'http://127.0.0.1:10248/healthz' } },
    { name: 'kube-proxy', command: p['kube-proxy'], args: kubeProxyArgs(layout), health: { url: 'http://127.0.0.1:10256/healthz' } },
  );
  if (node.gpu) {
    // The device plugin (src/cluster/addons/gpu), on the kubelet's device-plugins socket folder.
    const args = [SIFKUBE_BIN, 'node', 'gpu', '--name', plan.name, '--node', node.name];
    components.push({ name: 'gpu-device-plugin', command: process.execPath, args, after: ['kubelet'], health: { url: `http://127.0.0.1:${GPU_PLUGIN_HEALTH_PORT}/` } });
  }
  return { layout, components };
}
