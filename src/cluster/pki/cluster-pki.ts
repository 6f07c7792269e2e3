import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterPlan, NodePlan } from '../plan.js';
import { buildKubeconfig, kubeconfigText } from './kubeconfig.js';
import type { Issued, LeafSpec } from './x509.js';

/** Where a cluster's PKI lives, kubeadm's layout: <state>/pki and <state>/kubeconfig. */
export function pkiPaths(stateDir: string) {
  const pki = join(stateDir, 'pki');
  const kc = join(stateDir, 'kubeconfig');
  const pair = (name: string) => ({ cert: join(pki, `${name}.crt`), key: join(pki, `${name}.key`) });
  return {
    dir: pki,
    ca: pair('ca'),
    frontProxyCa: pair('front-proxy-ca'),
    frontProxyClient: pair('front-proxy-client'),
    apiserver: pair('apiserver'),
    apiserverKubeletClient: pair('apiserver-kubelet-client'),
    admin: pair('admin'),
    controllerManager: pair('controller-manager'),
    scheduler: pair('scheduler'),
    kubeProxy: pair('kube-proxy'),
    serviceAccount: { key: join(pki, 'sa.key'), pub: join(pki, 'sa.pub') },
    kubeletClient: (node: string) => pair(`nodes/${node}/kubelet-client`),
    kubeletServing: (node: string) => pair(`nodes/${node}/kubelet`),
    kubeconfigDir: kc,
    kubeconfig: {
      admin: join(kc, 'admin.conf'),
      controllerManager: join(kc, 'controller-manager.conf'),
      scheduler: join(kc, 'scheduler.conf'),
      kubeProxy: join(kc, 'kube-proxy.conf'),
      kubelet: (node: string) => join(kc, `kubelet-${node}.conf`),
    },
  };
}

export type PkiPaths = ReturnType<typeof pkiPaths>;

/** The admin kubeconfig's context name, as kind names its own (`kind-<name>`). */
export function contextName(cluster: string): string {
  return `sifkube-${cluster}`;
}

function write(p: { cert: string; key: string }, issued: Issued): void {
  writeFileSync(p.cert, issued.certPem, { mode: 0o644 });
  writeFileSync(p.key, issued.key.privatePem, { mode: 0o600 });
}

/** Every name and address a client may use to reach the API server. */
export function apiServerSans(plan: ClusterPlan): { dnsNames: string[]; ipAddresses: string[] } {
  const cp = plan.nodes.find((n) => n.role === 'control-plane')!;
  const d = plan.dnsDomain;
  return {
    dnsNames: [cp.name, 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${d}`],
    ipAddresses: [...new Set([plan.apiServer.address, plan.serviceIP, plan.bridge.address, '127.0.0.1'])],
  };
}

/**
 * Makes the cluster CA, the front-proxy CA, the service-account key pair and every certificate and
 * kubeconfig the control plane, the kubelets, kube-proxy and the admin need; writes them under stateDir.
 */
export async function generateClusterPki(plan: ClusterPlan, stateDir: string): Promise<PkiPaths> {
  // Loaded on first use: the X.509 library costs a few hundred ms of start-up that commands without PKI work should not pay.
  const { createCa, generateKeyPair } = await import('./x509.js');
  const paths = pkiPaths(stateDir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.kubeconfigDir, { recursive: true, mode: 0o700 });
  const [ca, frontProxyCa, sa] = await Promise.all([createCa(`sifkube-${plan.name}-ca`), createCa(`sifkube-${plan.name}-front-proxy-ca`), generateKeyPair()]);
  write(paths.ca, ca);
  write(paths.frontProxyCa, frontProxyCa);
  writeFileSync(paths.serviceAccount.key, sa.privatePem, { mode: 0o600 });
  writeFileSync(paths.serviceAccount.pub, sa.publicPem, { mode: 0o644 });

  const leaves: Leaf[] = [
    [paths.apiserver, ca, { commonName: 'kube-apiserver', usage: ['server'], ...apiServerSans(plan) }],
    [paths.apiserverKubeletClient, ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usage: ['client'] }],
    [paths.frontProxyClient, frontProxyCa, { commonName: 'front-proxy-client', usage: ['client'] }],
    [paths.admin, ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: ['client'] }, paths.kubeconfig.admin],
    [paths.controllerManager, ca, { commonName: 'system:kube-controller-manager', usage: ['client'] }, paths.kubeconfig.controllerManager],
    [paths.scheduler, ca, { commonName: 'system:kube-scheduler', usage: ['client'] }, paths.kubeconfig.scheduler],
    [paths.kubeProxy, ca, { commonName: 'system:kube-proxy', usage: ['client'] }, paths.kubeconfig.kubeProxy],
    ...nodeLeaves(paths, ca, plan.nodes),
  ];
  await issueLeaves(plan, paths, ca, leaves);
  return paths;
}

/**
 * The kubelet credentials of nodes added to a running cluster (`node add`): its client certificate
 * and kubeconfig, its serving certificate, signed by the cluster CA read back from the state folder.
 */
export async function issueNodeCredentials(plan: ClusterPlan, stateDir: string, nodes: NodePlan[]): Promise<void> {
  const { loadCa } = await import('./x509.js');
  const paths = pkiPaths(stateDir);
  const ca = await loadCa(readFileSync(paths.ca.cert, 'utf8'), readFileSync(paths.ca.key, 'utf8'));
  await issueLeaves(plan, paths, ca, nodeLeaves(paths, ca, nodes));
}

/** A certificate to issue: where it goes, who signs it, what it says, and its kubeconfig if any. */
type Leaf = [{ cert: string; key: string }, Issued, LeafSpec, string?];

function nodeLeaves(paths: PkiPaths, ca: Issued, nodes: NodePlan[]): Leaf[] {
  return nodes.flatMap((node): Leaf[] => {
    mkdirSync(join(paths.dir, 'nodes', node.name), { recursive: true, mode: 0o700 });
    return [
      [paths.kubeletClient(node.name), ca, { commonName: `system:node:${node.name}`, organizations: ['system:nodes'], usage: ['client'] }, paths.kubeconfig.kubelet(node.name)],
      [paths.kubeletServing(node.name), ca, { commonName: node.name, usage: ['server'], dnsNames: [node.name], ipAddresses: [node.address] }],
    ];
  });
}

/** Issues the leaves in parallel, writes each certificate and key, and the kubeconfigs that embed them. */
async function issueLeaves(plan: ClusterPlan, paths: PkiPaths, ca: Issued, leaves: Leaf[]): Promise<void> {
  const { issue } = await import('./x509.js');
  const issued = await Promise.all(leaves.map(([, signer, spec]) => issue(signer, spec)));
  leaves.forEach(([p, , spec, kubeconfig], i) => {
    write(p, issued[i]);
    if (!kubeconfig) return;
    const isAdmin = kubeconfig === paths.kubeconfig.admin;
    const k = buildKubeconfig({
      name: isAdmin ? contextName(plan.name) : plan.name,
      user: isAdmin ? contextName(plan.name) : spec.commonName,
      server: plan.apiServer.url,
      caPem: ca.certPem,
      certPem: issued[i].certPem,
      keyPem: issued[i].key.privatePem,
    });
    writeFileSync(kubeconfig, kubeconfigText(k), { mode: 0o600 });
  });
}
