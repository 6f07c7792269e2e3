import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The upstream binaries the end-to-end tests run: `.ci/run` unpacks every set of
 * ../shared/kubernetes/ and crictl (scripts/unpack-kube-sets.sh) and names them in
 * SIFKUBE_KUBE_SETS (folders separated by `:`) and SIFKUBE_CRICTL. SIFKUBE_KUBE_BIN_DIR names one
 * set by hand. Where none is named a test skips, saying why; under CI a missing one is a failure.
 */
export function kubeSets(): string[] {
  const sets = (process.env.SIFKUBE_KUBE_SETS ?? process.env.SIFKUBE_KUBE_BIN_DIR ?? '').split(':').filter(Boolean);
  for (const dir of sets) if (!existsSync(join(dir, 'kubelet'))) throw new Error(`${dir} (SIFKUBE_KUBE_SETS) holds no kubelet: unpack a Kubernetes set there (scripts/unpack-kube-sets.sh)`);
  return sets;
}

export function crictlPath(): string | undefined {
  const p = process.env.SIFKUBE_CRICTL;
  if (p !== undefined && !existsSync(p)) throw new Error(`SIFKUBE_CRICTL names ${p}, which does not exist: unpack crictl there (scripts/unpack-kube-sets.sh)`);
  return p;
}

/** Why a test cannot run here; under CI (CI=true) this is an error, not a skip. */
export function missing(what: string): string {
  const why = `${what} is not set (.ci/run sets it with scripts/unpack-kube-sets.sh)`;
  if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
  return why;
}
