import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
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
  await runHooks(spec, 'poststart', state('running'));
}
