import { realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { ContainerExistsError, ContainerSetupError, InvalidConfigError } from './errors.js';
import { PlanFailure, runPlan, type Stdio } from './helper-process.js';
import { runHooks, type HookState } from './hooks.js';
import type { CgroupManager } from './cgroups/index.js';
import { cgroupsPathOf, setUpCgroup } from './container-cgroup.js';
import { compiledSeccomp, createPlan } from './plan.js';
import { signal } from './processes.js';
import { sharesMountNs, unmountUnder } from './shared-mounts.js';
import { withGpus, type GpuRequest } from './gpu/index.js';
import { loadConfig } from './spec/validate.js';
import { DEFAULT_ROOT, containerDir, makeContainerDir, rfc3339Nano, processStartTime, writeRecord, writeSpec, type ContainerRecord } from './state.js';
import { OCI_VERSION } from './version.js';

export interface CreateOptions {
  /** The state root (runc's --root). */
  root?: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  /** The container process's stdin, stdout, stderr (default: none). */
  stdio?: [Stdio, Stdio, Stdio];
  /**
   * Leave the init to the caller's subreaper once created, as runc does (containerd-shim and conmon
   * reap it and read its exit themselves); then no monitor records the exit status.
   */
  reparent?: boolean;
  /** A terminal without a console socket: the monitor runs this process's stdio through the pty. */
  ptyProxy?: boolean;
  /** runc's --preserve-fds: the caller's fds 3..3+N-1 are the container process's fds 3..3+N-1. */
  preserveFds?: number;
  /** GPUs to add to the bundle's config, as Singularity's --nv does (`run --nv`, `--gpus`). */
  gpus?: GpuRequest;
}

export interface Created {
  record: ContainerRecord;
  /** The monitor process (detached: it outlives the caller). */
  monitor: ChildProcess;
}

/**
 * `create`: validates the bundle, sets up the container's namespaces, mounts and process up to the
 * start barrier, running the create-time hooks, and records it under ROOT/ID.
 */
export async function createContainer(id: string, opts: CreateOptions): Promise<Created> {
  const root = opts.root ?? DEFAULT_ROOT;
  const dir = containerDir(root, id);
  const bundle = resolve(opts.bundle);
  const spec = opts.gpus ? withGpus(loadConfig(bundle), opts.gpus) : loadConfig(bundle);
  let rootfs = resolve(bundle, spec.root.path);
  let isDir = false;
  try {
    isDir = statSync(rootfs).isDirectory();
    rootfs = realpathSync(rootfs); // mount paths are resolved inside it, so it must be its real path
  } catch {
    // reported below
  }
  if (!isDir) throw new InvalidConfigError(resolve(bundle, 'config.json'), 'root.path', `${rootfs} is not a directory: create the root filesystem there or fix the path`);
  if (!makeContainerDir(root, id)) throw new ContainerExistsError(id, root);
  const record: ContainerRecord = { id, bundle, rootfs, created: rfc3339Nano(), owner: '', annotations: spec.annotations, cgroupsPath: cgroupsPathOf(spec, id), creatorPid: process.pid, creatorStartTime: processStartTime(process.pid) };
  let cgroup: CgroupManager | undefined;
  const state = (status: string, pid?: number): HookState => ({ ociVersion: OCI_VERSION, id, status, pid, bundle, annotations: spec.annotations });
  try {
    writeSpec(root, id, spec);
    writeRecord(root, record);
    // Made before the helper starts: the init joins it itself (see createPlan).
    cgroup = await setUpCgroup(record.cgroupsPath!, spec);
    const plan = createPlan({ spec, bundle, rootfs, stateDir: dir, consoleSocket: opts.consoleSocket, noPivot: opts.noPivot, cgroupsPath: record.cgroupsPath!, cgroupDirs: cgroup.joinDirs(), seccomp: await compiledSeccomp(spec), reparent: opts.reparent, ptyProxy: opts.ptyProxy });
    const { monitor } = await runPlan(plan, {
      stdio: opts.stdio ?? ['ignore', 'ignore', 'ignore'],
      detached: true,
      preserveFds: opts.preserveFds,
      onPid: (pid, monitorPid) => {
        Object.assign(record, { initPid: pid, initStartTime: processStartTime(pid), monitorPid });
        writeRecord(root, record);
      },
      // runtime-spec lifecycle: these run after the environment is created (its step 2), so the
      // container is "created" for them, as crun reports.
      onHooks: async (pid) => {
        await runHooks(spec, 'prestart', state('created', pid));
        await runHooks(spec, 'createRuntime', state('created', pid));
        await runHooks(spec, 'createContainer', state('created', pid), pid);
      },
    }).catch((err: Error) => {
      throw err instanceof PlanFailure ? new ContainerSetupError(id, err.message) : err;
    });
    record.createdDone = true;
    writeRecord(root, record);
    if (opts.pidFile) writeFileSync(resolve(opts.pidFile), String(record.initPid));
    return { record, monitor };
  } catch (err) {
    if (record.initPid) signal(record.initPid, 9);
    if (cgroup) {
      await cgroup.killAll().catch(() => {});
      await cgroup.remove().catch(() => {});
    }
    if (sharesMountNs(spec)) unmountUnder(rootfs);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
