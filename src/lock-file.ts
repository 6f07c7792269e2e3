import { closeSync, openSync, rmSync, statSync } from 'node:fs';

export interface LockFileOptions {
  /** A lock file older than this is a crashed holder's and is taken over. */
  staleMs: number;
  /** How long to wait for a live holder before giving up. */
  waitMs: number;
  /** The pause between tries. */
  pollMs: number;
  /** The error to throw once `waitMs` has passed. */
  timedOut: () => Error;
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Runs the synchronous `fn` holding an exclusive lock file (created with O_EXCL), shared by every
 * sifkube process on the host. Synchronous on purpose: nothing else in this process runs meanwhile,
 * and other processes wait only that long.
 */
export function withLockFile<T>(lock: string, opts: LockFileOptions, fn: () => T): T {
  const deadline = Date.now() + opts.waitMs;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (ageMs(lock) > opts.staleMs) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw opts.timedOut();
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, opts.pollMs);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
