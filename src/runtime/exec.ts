import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { ContainerSetupError, InvalidStatusError } from './errors.js';
import { PlanFailure, runPlan, type Stdio } from './helper-process.js';
import { cgroupOf } from './container-cgroup.js';
import { compiledSeccomp, joinPlan } from './plan.js';
import type { Process } from './spec/types.js';
import { DEFAULT_ROOT, readRecord, readSpec, statusOf } from './state.js';

export interface ExecOptions {
  root?: string;
  process: Process;
  /** The monitor (and the process) outlive the caller; otherwise wait with `exited`. */
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  stdio?: [Stdio, Stdio, Stdio];
  /** A directory where the monitor records the exit status (file `exit`), for detached callers. */
  exitDir?: string;
  /** Detached: leave the process to the caller's subreaper (a shim waits for it), as runc does. */
  reparent?: boolean;
  /** runc's --preserve-fds: the caller's fds 3..3+N-1 are the process's fds 3..3+N-1. */
  preserveFds?: number;
}

export interface Executed {
  pid: number;
  monitor: ChildProcess;
  /**
   * Resolves with the process's exit status (128+signal when killed), as runc exec returns it; not
   * for a reparented process (its monitor leaves at once).
   */
  exited: Promise<number>;
}

/** `exec`: starts a new process in the namespaces and root of a running container. */
export async function execInContainer(id: string, opts: ExecOptions): Promise<Executed> {
  const root = opts.root ?? DEFAULT_ROOT;
  const rec = readRecord(root, id);
  const status = statusOf(root, rec);
  if (status !== 'running' && status !== 'created') throw new InvalidStatusError(id, status, 'a process can only be executed in a created or running container');
  const spec = readSpec(root, id);
  const seccomp = await compiledSeccomp(spec);
  const cgroupDirs = cgroupOf(rec)?.joinDirs();
  const plan = joinPlan(rec.initPid!, opts.process, { exitDir: opts.exitDir, consoleSocket: opts.consoleSocket, ptyProxy: !opts.detach, detach: !!opts.detach, reparent: !!opts.detach && !!opts.reparent, seccomp, cgroupDirs, personality: spec.linux?.personality });
  const { monitor, pid } = await runPlan(plan, {
    stdio: opts.stdio ?? ['ignore', 'ignore', 'ignore'],
    detached: !!opts.detach,
    preserveFds: opts.preserveFds,
  }).catch((err: Error) => {
    throw err instanceof PlanFailure ? new ContainerSetupError(id, `exec: ${err.message}`) : err;
  });
  if (opts.pidFile) writeFileSync(resolve(opts.pidFile), String(pid));
  const exited = new Promise<number>((done) => {
    if (monitor.exitCode !== null) done(monitor.exitCode);
    else monitor.once('exit', (code, sig) => done(code ?? 128 + (sig ? constants.signals[sig] : 0)));
  });
  return { pid, monitor, exited };
}
