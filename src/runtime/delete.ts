import { rmSync } from 'node:fs';
import { InvalidStatusError } from './errors.js';
import { runHooks } from './hooks.js';
import { log } from './log.js';
import { processTree, signal, waitFor } from './processes.js';
import { DEFAULT_ROOT, containerDir, initAlive, monitorAlive, readRecord, readSpec, statusOf } from './state.js';
import { OCI_VERSION } from './version.js';

/**
 * `delete`: removes a stopped (or only created) container; `force` first kills a running, paused or
 * half-created one. The poststop hooks run last; their failures are warnings, as the spec says.
 */
export async function deleteContainer(id: string, opts: { root?: string; force?: boolean } = {}): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const rec = readRecord(root, id);
  const status = statusOf(root, rec);
  if ((status === 'running' || status === 'paused' || status === 'creating') && !opts.force) {
    throw new InvalidStatusError(id, status, 'stop it first, or delete it with --force');
  }
  if (rec.initPid && initAlive(rec)) for (const pid of processTree(rec.initPid).reverse()) signal(pid, 9);
  if (status === 'creating' && rec.monitorPid && monitorAlive(rec)) signal(rec.monitorPid, 9);
  if (!(await waitFor(() => !initAlive(rec) && !monitorAlive(rec)))) {
    throw new InvalidStatusError(id, status, `its processes (init ${rec.initPid}, monitor ${rec.monitorPid}) did not exit after SIGKILL`);
  }
  let spec;
  try {
    spec = readSpec(root, id);
  } catch {
    spec = undefined;
  }
  rmSync(containerDir(root, id), { recursive: true, force: true });
  if (spec) {
    try {
      await runHooks(spec, 'poststop', { ociVersion: OCI_VERSION, id, status: 'stopped', bundle: rec.bundle, annotations: spec.annotations });
    } catch (err) {
      log('warning', (err as Error).message);
    }
  }
}
