import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { helperPath } from '../../runtime/index.js';

/** Where the output of a container created without log_path is kept for attach. */
export function attachLogPath(containerDir: string): string {
  return join(containerDir, 'attach.log');
}

/** A log the CRI keeps for attach when the client gave no log_path: cut back to empty past this size. */
export const PRIVATE_LOG_MAX_BYTES = 1024 * 1024;

/**
 * A FIFO as containerd gives a container's stdout and stderr: unlike a socket, `/dev/stdout` opens
 * on it. Returns both ends: the reader for the log writer, the writer for the container. The
 * non-blocking read open lets the write open return at once; the reader is then opened again
 * blocking (a writer exists, so it returns), since the log writer reads it blocking.
 */
function fifoPair(path: string): { reader: number; writer: number } {
  execFileSync('mkfifo', ['-m', '0600', path]);
  const probe = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const writer = openSync(path, constants.O_WRONLY);
    return { reader: openSync(path, constants.O_RDONLY), writer };
  } finally {
    closeSync(probe);
  }
}

/**
 * Starts the log writer of a container (the native helper's `crilog`): it owns the reading ends of
 * the container's stdout and stderr FIFOs (made in `fifoDir`) and outlives the CRI server. Returns
 * its pid and the writing ends to give the container (the caller closes them once it has).
 * `maxBytes` empties the file when it grows past that (a private log only attach reads).
 */
export function startLogWriter(path: string, fifoDir: string, holdFd?: number, maxBytes?: number): { pid: number; stdout: number; stderr: number } {
  mkdirSync(dirname(path), { recursive: true });
  const out = fifoPair(join(fifoDir, 'stdout'));
  const err = fifoPair(join(fifoDir, 'stderr'));
  try {
    // holdFd (the container's stdin holder) is only inherited: it stays open as long as the writer lives.
    const child = spawn(helperPath(), ['crilog', path, ...(maxBytes ? [String(maxBytes)] : [])], {
      stdio: ['ignore', 'ignore', 'ignore', out.reader, err.reader, ...(holdFd === undefined ? [] : [holdFd])],
      detached: true,
    });
    child.unref();
    return { pid: child.pid!, stdout: out.writer, stderr: err.writer };
  } finally {
    closeSync(out.reader);
    closeSync(err.reader);
  }
}

/** Whether process `pid` has the file at `path` open. */
function holds(pid: number, path: string): boolean {
  let want;
  try {
    want = statSync(path);
  } catch {
    return false;
  }
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const st = statSync(`/proc/${pid}/fd/${fd}`);
      if (st.ino === want.ino && st.dev === want.dev) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/**
 * Asks the log writer to reopen its file (after the kubelet rotated it) and waits until it has the
 * file now at `path` open, so the next line lands there. False when the writer is gone or slow.
 */
export async function reopenLog(pid: number, path: string, timeoutMs = 2000): Promise<boolean> {
  try {
    process.kill(pid, 'SIGUSR1');
  } catch {
    return false;
  }
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 2))) {
    try {
      if (holds(pid, path)) return true;
    } catch {
      return false; // the writer is gone
    }
  }
  return false;
}
