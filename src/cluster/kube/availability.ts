import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_KUBERNETES_VERSION } from '../config/types.js';
import type { HostCheck } from '../doctor.js';
import { binaryUrl, cacheRoot, KUBE_BINARIES, versionCacheDir } from './release.js';

/** Releases whose every binary is in the cache. */
export function cachedReleases(): string[] {
  const dir = join(cacheRoot(), 'kubernetes');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((v) => KUBE_BINARIES.every((b) => existsSync(join(dir, v, b))))
    .sort();
}

/**
 * The doctor row for the Kubernetes binaries `sifkube init` would use without --kube-bin-dir: the
 * default release in the cache, else whether its download answers (a HEAD of one published
 * checksum, 3 s at most), else how to provide them offline.
 */
export async function kubernetesBinariesCheck(version = DEFAULT_KUBERNETES_VERSION): Promise<HostCheck> {
  const name = `Kubernetes ${version} binaries`;
  const cached = cachedReleases();
  if (cached.includes(version)) return { name, status: 'ok', detail: `in the cache (${versionCacheDir(version)})` };
  const url = `${binaryUrl(version, 'kubelet')}.sha256`;
  const reachable = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false);
  if (reachable) return { name, status: 'ok', detail: `not cached; init downloads them (${url} answers), or run \`sifkube kube fetch\` first` };
  const others = cached.length > 0 ? `; cached: ${cached.join(', ')} (init --kubernetes-version ${cached[cached.length - 1]})` : '';
  return {
    name,
    status: 'missing',
    detail: `not in the cache and the release downloads do not answer${others}`,
    fix: 'sifkube kube import DIR (a folder with the release\'s kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy), or sifkube init --kube-bin-dir DIR, or sifkube kube fetch where the network allows',
  };
}
