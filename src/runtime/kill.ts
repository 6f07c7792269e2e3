import { InvalidStatusError } from './errors.js';
import { processTree, signal } from './processes.js';
import { DEFAULT_ROOT, readRecord, statusOf } from './state.js';

/** `kill`: sends a signal to the init, or with `all` to every process of the container. */
export function killContainer(id: string, sig: number, opts: { root?: string; all?: boolean } = {}): void {
  const root = opts.root ?? DEFAULT_ROOT;
  const rec = readRecord(root, id);
  const status = statusOf(root, rec);
  if (status === 'stopped' || status === 'creating') throw new InvalidStatusError(id, status, 'only a created, running or paused container can be signalled');
  for (const pid of opts.all ? processTree(rec.initPid!).reverse() : [rec.initPid!]) signal(pid, sig);
}
