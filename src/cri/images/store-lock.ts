import { withLockFile } from '../../lock-file.js';
import { CriOperationError } from '../errors.js';

/** Longer than any section held (milliseconds of file checks): a lock this old is a crashed holder's. */
const STALE_MS = 10_000;
const WAIT_MS = 30_000;

/**
 * Runs `fn` holding the store's lock file, so a layer sweep and a pull pinning its layers (in any of
 * the processes sharing the store: a cluster's nodes) never interleave.
 */
export function withStoreLock<T>(lock: string, fn: () => T): T {
  const timedOut = () => new CriOperationError(`the image store lock ${lock} has been held for ${WAIT_MS / 1000} s: remove it if no sifkube uses the store`);
  return withLockFile(lock, { staleMs: STALE_MS, waitMs: WAIT_MS, pollMs: 5, timedOut }, fn);
}
