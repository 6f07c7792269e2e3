import { copyFileSync, existsSync, mkdirSync, renameSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../doctor.js';
import { KubeBinaryMissingError, KubeVersionError } from '../errors.js';
import { downloadVerified } from './download.js';
import { binaryUrl, KUBE_BINARIES, versionCacheDir, type KubeBinary } from './release.js';
import { binaryVersions } from './version.js';
import { DEFAULT_KUBERNETES_VERSION } from '../config/types.js';

export type BinarySource = 'bin-dir' | 'cache' | 'download';

/** Where each binary of one Kubernetes release is, and how it was found. */
export interface KubeDistribution {
  version: string;
  paths: Record<KubeBinary, string>;
  sources: Record<KubeBinary, BinarySource>;
}

export interface ResolveOptions {
  /** the release; without one, the --kube-bin-dir folder's release, else the default */
  version?: string;
  /** --kube-bin-dir: binaries there win and must all be there */
  binDir?: string;
  /** never download: a binary missing from the bin dir and the cache is an error */
  offline?: boolean;
  /** progress of each download */
  onDownload?: (bin: KubeBinary, received: number, total: number | undefined) => void;
}

/**
 * Finds every Kubernetes binary, in order: --kube-bin-dir, the cache, a verified download into the
 * cache. A bin dir holds one release, which must be the requested one when a version is requested.
 */
export async function resolveKubernetes(opts: ResolveOptions): Promise<KubeDistribution> {
  if (opts.binDir !== undefined) return fromFolder(opts.binDir, opts.version);
  const version = opts.version ?? DEFAULT_KUBERNETES_VERSION;
  const paths = {} as Record<KubeBinary, string>;
  const sources = {} as Record<KubeBinary, BinarySource>;
  const cache = versionCacheDir(version);
  for (const bin of KUBE_BINARIES) {
    const cached = join(cache, bin);
    if (existsSync(cached)) {
      paths[bin] = cached;
      sources[bin] = 'cache';
      continue;
    }
    if (opts.offline) throw new KubeBinaryMissingError(bin, version, [cache]);
    const url = binaryUrl(version, bin);
    await downloadVerified(url, `${url}.sha256`, cached, (r, t) => opts.onDownload?.(bin, r, t));
    paths[bin] = cached;
    sources[bin] = 'download';
  }
  return { version, paths, sources };
}

async function fromFolder(dir: string, wanted: string | undefined): Promise<KubeDistribution> {
  const version = await releaseInFolder(dir, wanted);
  if (wanted !== undefined && version !== wanted) {
    throw new KubeVersionError(`${dir} holds Kubernetes ${version}, not ${wanted}: pass --kubernetes-version ${version} (or none: the folder's release is used), or a --kube-bin-dir with ${wanted}`);
  }
  const paths = Object.fromEntries(KUBE_BINARIES.map((b) => [b, join(dir, b)])) as Record<KubeBinary, string>;
  const sources = Object.fromEntries(KUBE_BINARIES.map((b) => [b, 'bin-dir'])) as Record<KubeBinary, BinarySource>;
  return { version, paths, sources };
}

/** etcd: from the bin dir if it has one, else the host's (Debian's etcd-server). */
export function resolveEtcd(binDir?: string): string {
  const inDir = binDir !== undefined ? join(binDir, 'etcd') : undefined;
  if (inDir && existsSync(inDir)) return inDir;
  const found = findExecutable('etcd');
  if (!found) throw new KubeBinaryMissingError('etcd', '3.4 or newer', [...(binDir ? [binDir] : []), 'PATH'], 'apt-get install -y etcd-server, or put etcd in the --kube-bin-dir folder');
  return found;
}

/**
 * The one release whose binaries a folder holds (a folder the user names defines the version, as a
 * kind node image does). Binaries of different releases in one folder are an error.
 */
export async function releaseInFolder(dir: string, wanted?: string): Promise<string> {
  const missing = KUBE_BINARIES.find((bin) => !existsSync(join(dir, bin)));
  if (missing) throw new KubeBinaryMissingError(missing, wanted ?? 'any release', [dir]);
  const found = await binaryVersions(KUBE_BINARIES.map((bin) => join(dir, bin)));
  const versions = new Map(KUBE_BINARIES.map((bin, i) => [bin, found[i]]));
  const distinct = [...new Set(versions.values())];
  if (distinct.length > 1) {
    throw new KubeVersionError(`${dir} mixes Kubernetes releases (${[...versions].map(([b, v]) => `${b} ${v}`).join(', ')}): put the binaries of one release in the folder`);
  }
  return distinct[0];
}

/**
 * `sifkube kube import DIR`: copies a release's binaries into the cache after checking that each
 * one runs and reports the same version (the one asked for, when given). Returns that version.
 */
export async function importKubernetes(dir: string, wanted?: string): Promise<{ version: string; binaries: string[] }> {
  const version = await releaseInFolder(dir, wanted);
  if (wanted !== undefined && wanted !== version) throw new KubeVersionError(`${dir} holds Kubernetes ${version}, not ${wanted}: pass --kubernetes-version ${version} or another folder`);
  const cache = versionCacheDir(version);
  mkdirSync(cache, { recursive: true });
  for (const bin of KUBE_BINARIES) {
    // Copy under a temporary name and rename, so a concurrent init never sees half a binary.
    const tmp = join(cache, `${bin}.import`);
    rmSync(tmp, { force: true });
    copyFileSync(join(dir, bin), tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, join(cache, bin));
  }
  return { version, binaries: [...KUBE_BINARIES] };
}
