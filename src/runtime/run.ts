import { constants } from 'node:os';
import { createContainer, type CreateOptions } from './create.js';
import { deleteContainer } from './delete.js';
import { signal } from './processes.js';
import { startContainer } from './start.js';
import { DEFAULT_ROOT, readExit, type ContainerRecord } from './state.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/**
 * `run`: create then start. Detached, it returns once the process runs; otherwise it forwards
 * signals to the container, waits for it, deletes it and resolves with its exit status.
 */
export async function runContainer(id: string, opts: CreateOptions & { detach?: boolean }): Promise<{ record: ContainerRecord; exitCode?: number }> {
  const root = opts.root ?? DEFAULT_ROOT;
  const { record, monitor } = await createContainer(id, { ...opts, ptyProxy: !opts.detach });
  // Forwarding starts before the process does: a signal right after it starts must not be lost.
  const forward = (name: NodeJS.Signals) => signal(record.initPid!, constants.signals[name]);
  if (!opts.detach) for (const s of FORWARDED) process.on(s, forward);
  try {
    try {
      await startContainer(id, { root });
    } catch (err) {
      await deleteContainer(id, { root, force: true });
      throw err;
    }
    if (opts.detach) return { record };
    monitor.ref();
    await new Promise<void>((done) => (monitor.exitCode !== null || monitor.signalCode !== null ? done() : monitor.once('exit', () => done())));
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
  const exit = readExit(root, id);
  await deleteContainer(id, { root, force: true });
  return { record, exitCode: exit?.exitCode ?? 255 };
}
