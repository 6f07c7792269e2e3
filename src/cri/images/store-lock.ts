import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { CriOperationError } from '../errors.js';

/** Longer than any section held (milliseconds of file checks): a lock this old is a crashed holder's. */
const STALE_MS = 10_000;
const WAIT_MS = 30_000;

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Runs `fn` holding the store's lock file, so a layer sweep and a pull pinning its layers (in any of
 * the processes sharing the store: a cluster's nodes) never interleave. `fn` is synchronous: within one
 * process nothing else runs meanwhile, and another process waits only that long.
 */
export function withStoreLock<T>(lock: string, fn: () => T): T {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (ageMs(lock) > STALE_MS) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new CriOperationError(`the image store lock ${lock} has been held for ${WAIT_MS / 1000} s: remove it if no sifkube uses the store`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
