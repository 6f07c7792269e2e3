import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Socket } from 'node:net';
import { helperPath } from '../../runtime/index.js';

/**
 * Starts the log writer of a container (the native helper's `crilog`): it owns the reading ends of
 * the container's stdout and stderr and outlives the CRI server. Returns its pid and the writing
 * ends to give the container.
 */
export function startLogWriter(path: string, holdFd?: number): { pid: number; stdout: Socket; stderr: Socket } {
  mkdirSync(dirname(path), { recursive: true });
  // holdFd (the container's stdin holder) is only inherited: it stays open as long as the writer lives.
  const child = spawn(helperPath(), ['crilog', path], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe', ...(holdFd === undefined ? [] : [holdFd])], detached: true });
  child.unref();
  return { pid: child.pid!, stdout: child.stdio[3] as Socket, stderr: child.stdio[4] as Socket };
}

/** Asks the log writer to reopen its file (after the kubelet rotated it). */
export function reopenLog(pid: number): boolean {
  try {
    process.kill(pid, 'SIGUSR1');
    return true;
  } catch {
    return false;
  }
}
