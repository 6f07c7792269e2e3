import { spawnSync } from 'node:child_process';
import { KubeVersionError } from '../errors.js';

/** The release a Kubernetes binary reports: `kubelet --version` prints `Kubernetes v1.31.4`. */
export function binaryVersion(path: string): string {
  const isKubectl = path.endsWith('/kubectl') || path === 'kubectl';
  const args = isKubectl ? ['version', '--client'] : ['--version'];
  const r = spawnSync(path, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) {
    throw new KubeVersionError(`${path} ${args.join(' ')} failed (${r.error?.message ?? (r.stderr.trim().split('\n')[0] || `exit ${r.status}`)}): is it a Kubernetes binary for this machine?`);
  }
  const m = /\bv(\d+\.\d+\.\d+)/.exec(r.stdout);
  if (!m) throw new KubeVersionError(`${path} ${args.join(' ')} printed no version (${JSON.stringify(r.stdout.trim().slice(0, 80))}): is it a Kubernetes binary?`);
  return `v${m[1]}`;
}

/** Minor version number of `vMAJOR.MINOR.PATCH`, for version-specific flags. */
export function minorOf(version: string): number {
  return Number(version.split('.')[1]);
}
