import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from './doctor.js';
import { KubeBinaryMissingError, KubernetesApiError } from './errors.js';
import { pkiPaths } from './pki/cluster-pki.js';
import type { ClusterState } from './state/store.js';

/** kubectl: the one in the --kube-bin-dir, else the host's. */
export function findKubectl(binDir: string | undefined, version: string): string {
  const inDir = binDir ? join(binDir, 'kubectl') : undefined;
  if (inDir && existsSync(inDir)) return inDir;
  const found = findExecutable('kubectl');
  if (!found) throw new KubeBinaryMissingError('kubectl', version, [...(binDir ? [binDir] : []), 'PATH'], 'put kubectl in the --kube-bin-dir folder or on PATH');
  return found;
}

/** The cluster's kubectl. */
export function kubectlPath(state: ClusterState): string {
  return findKubectl(state.kubeBinDir, state.plan.kubernetesVersion);
}

function kubectlArgs(state: ClusterState, args: string[]): string[] {
  return ['--kubeconfig', pkiPaths(state.plan.names.stateDir).kubeconfig.admin, ...args];
}

/** Runs kubectl with the cluster's admin kubeconfig; a failure is a KubernetesApiError naming the call. */
export function kubectl(state: ClusterState, args: string[]): string {
  const r = spawnSync(kubectlPath(state), kubectlArgs(state, args), { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) throw new KubernetesApiError(`kubectl ${args.join(' ')}`, (r.error?.message ?? r.stderr).trim());
  return r.stdout;
}

/** `sifkube kubectl -- ARGS`: kubectl on the user's terminal; resolves to its exit status. */
export function kubectlInteractive(state: ClusterState, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath(state), kubectlArgs(state, args), { stdio: 'inherit' });
    // A signal to sifkube (a script ending `kubectl port-forward`) must reach kubectl, not orphan it.
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const s of signals) process.on(s, forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
    });
  });
}
