import { join } from 'node:path';

/** The binaries sifkube runs from a Kubernetes release (etcd comes from elsewhere: resolveEtcd). */
export const KUBE_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

/** Where release binaries are downloaded from; SIFKUBE_KUBE_RELEASE_URL points elsewhere (a mirror, a test server). */
export function releaseBaseUrl(): string {
  return (process.env.SIFKUBE_KUBE_RELEASE_URL ?? 'https://dl.k8s.io/release').replace(/\/+$/, '');
}

/** URL of one release binary for this machine; its published SHA-256 is at the same URL + `.sha256`. */
export function binaryUrl(version: string, bin: string): string {
  return `${releaseBaseUrl()}/${version}/bin/linux/amd64/${bin}`;
}

export function cacheRoot(): string {
  return process.env.SIFKUBE_CACHE_DIR ?? '/var/cache/sifkube';
}

/** The cache folder of one version: /var/cache/sifkube/kubernetes/<version>/. */
export function versionCacheDir(version: string): string {
  return join(cacheRoot(), 'kubernetes', version);
}
