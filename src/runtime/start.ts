import { closeSync, constants, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidStatusError } from './errors.js';
import { runHooks } from './hooks.js';
import { signal } from './processes.js';
import { DEFAULT_ROOT, readRecord, readSpec, statusOf } from './state.js';
import { OCI_VERSION } from './version.js';

/** `start`: runs the startContainer hooks, lets the init exec the process, runs the poststart hooks. */
export async function startContainer(id: string, opts: { root?: string } = {}): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const rec = readRecord(root, id);
  const status = statusOf(root, rec);
  if (status !== 'created') throw new InvalidStatusError(id, status, 'only a created container can be started');
  const spec = readSpec(root, id);
  const state = (s: string) => ({ ociVersion: OCI_VERSION, id, status: s, pid: rec.initPid, bundle: rec.bundle, annotations: spec.annotations });
  try {
    await runHooks(spec, 'startContainer', state('created'), rec.initPid);
  } catch (err) {
    signal(rec.initPid!, 9);
    throw err;
  }
  const fifo = join(root, id, 'exec.fifo');
  const before = exeOf(rec.initPid!);
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    throw new InvalidStatusError(id, 'created', 'nothing waits at its start barrier any more, so it cannot start: delete it and create it again');
  }
  try {
    writeSync(fd, '0');
  } finally {
    closeSync(fd);
  }
  unlinkSync(fifo);
  await execDone(rec.initPid!, before);
  await runHooks(spec, 'poststart', state('running'));
}

/**
 * What a process runs: its executable (device:inode) and its command line, '' once it is gone. The
 * command line counts too: a container whose program is the helper binary itself (a cluster node's
 * node-init) runs the same executable after the exec.
 */
function exeOf(pid: number): string {
  try {
    const st = statSync(`/proc/${pid}/exe`);
    return `${st.dev}:${st.ino}:${readFileSync(`/proc/${pid}/cmdline`, 'latin1')}`;
  } catch {
    return '';
  }
}

/**
 * Waits until the init has exec'd the container process (or died). Until then it is the helper,
 * the init of its PID namespace without handlers, so a stop signal sent right after start would be
 * dropped by the kernel instead of reaching the process.
 */
async function execDone(pid: number, helperExe: string): Promise<void> {
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1))) {
    const now = exeOf(pid);
    if (now !== helperExe || now === '') return;
  }
}
