import { copyFileSync, existsSync, mkdirSync, renameSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../doctor.js';
import { KubeBinaryMissingError, KubeVersionError } from '../errors.js';
import { downloadVerified } from './download.js';
import { binaryUrl, KUBE_BINARIES, versionCacheDir, type KubeBinary } from './release.js';
import { binaryVersion } from './version.js';

export type BinarySource = 'bin-dir' | 'cache' | 'download';

/** Where each binary of one Kubernetes release is, and how it was found. */
export interface KubeDistribution {
  version: string;
  paths: Record<KubeBinary, string>;
  sources: Record<KubeBinary, BinarySource>;
}

export interface ResolveOptions {
  version: string;
  /** --kube-bin-dir: binaries there win and must all be there */
  binDir?: string;
  /** never download: a binary missing from the bin dir and the cache is an error */
  offline?: boolean;
  /** progress of each download */
  onDownload?: (bin: KubeBinary, received: number, total: number | undefined) => void;
}

/**
 * Finds every Kubernetes binary, in order: --kube-bin-dir, the cache, a verified download into the
 * cache. Binaries from a bin dir must report the requested version (their flags depend on it).
 */
export async function resolveKubernetes(opts: ResolveOptions): Promise<KubeDistribution> {
  const paths = {} as Record<KubeBinary, string>;
  const sources = {} as Record<KubeBinary, BinarySource>;
  const cache = versionCacheDir(opts.version);
  for (const bin of KUBE_BINARIES) {
    if (opts.binDir !== undefined) {
      const p = join(opts.binDir, bin);
      if (!existsSync(p)) throw new KubeBinaryMissingError(bin, opts.version, [opts.binDir]);
      const v = binaryVersion(p);
      if (v !== opts.version) throw new KubeVersionError(`${p} is Kubernetes ${v}, not ${opts.version}: pass --kubernetes-version ${v}, or a --kube-bin-dir with ${opts.version}`);
      paths[bin] = p;
      sources[bin] = 'bin-dir';
      continue;
    }
    const cached = join(cache, bin);
    if (existsSync(cached)) {
      paths[bin] = cached;
      sources[bin] = 'cache';
      continue;
    }
    if (opts.offline) throw new KubeBinaryMissingError(bin, opts.version, [cache]);
    const url = binaryUrl(opts.version, bin);
    await downloadVerified(url, `${url}.sha256`, cached, (r, t) => opts.onDownload?.(bin, r, t));
    paths[bin] = cached;
    sources[bin] = 'download';
  }
  return { version: opts.version, paths, sources };
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
 * `sifkube kube import DIR`: copies a release's binaries into the cache after checking that each
 * one runs and reports the same version (the one asked for, when given). Returns that version.
 */
export function importKubernetes(dir: string, wanted?: string): { version: string; binaries: string[] } {
  const versions = new Map<string, string>();
  for (const bin of KUBE_BINARIES) {
    const p = join(dir, bin);
    if (!existsSync(p)) throw new KubeBinaryMissingError(bin, wanted ?? 'any', [dir]);
    versions.set(bin, binaryVersion(p));
  }
  const distinct = [...new Set(versions.values())];
  if (distinct.length > 1) {
    throw new KubeVersionError(`${dir} mixes Kubernetes releases (${[...versions].map(([b, v]) => `${b} ${v}`).join(', ')}): put the binaries of one release in the folder`);
  }
  const version = distinct[0];
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
