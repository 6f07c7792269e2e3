import { cgroupOf } from './container-cgroup.js';
import { InvalidStatusError } from './errors.js';
import { runHooks } from './hooks.js';
import { sharesMountNs, unmountUnder } from './shared-mounts.js';
import { containerProcesses, signal, waitFor } from './processes.js';
import { DEFAULT_ROOT, initAlive, monitorAlive, readRecord, readSpec, removeContainerDir, statusOf } from './state.js';
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
  const cgroup = cgroupOf(rec);
  if (rec.initPid && initAlive(rec)) for (const pid of containerProcesses(rec.initPid).reverse()) signal(pid, 9);
  // The cgroup also holds what left the init's tree (exec'd processes without a PID namespace).
  if (cgroup && cgroup.pids().length > 0) await cgroup.killAll();
  if (status === 'creating' && rec.monitorPid && monitorAlive(rec)) signal(rec.monitorPid, 9);
  if (!(await waitFor(() => !initAlive(rec) && !monitorAlive(rec)))) {
    throw new InvalidStatusError(id, status, `its processes (init ${rec.initPid}, monitor ${rec.monitorPid}) did not exit after SIGKILL`);
  }
  await cgroup?.remove();
  let spec;
  try {
    spec = readSpec(root, id);
  } catch {
    spec = undefined;
  }
  if (spec && sharesMountNs(spec)) unmountUnder(rec.rootfs);
  removeContainerDir(root, id);
  if (spec) await runHooks(spec, 'poststop', { ociVersion: OCI_VERSION, id, status: 'stopped', bundle: rec.bundle, annotations: spec.annotations });
}
