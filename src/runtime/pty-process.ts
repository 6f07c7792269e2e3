import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { helperPath } from './native.js';

/** A command on its own pseudo-terminal, reached through the helper's pty-exec relay. */
export interface PtyProcess {
  /** What the user types (ending it sends the terminal's EOF character). */
  readonly input: Writable;
  /** Everything the terminal shows (stdout and stderr merged, as on a terminal). */
  readonly output: Readable;
  /** Resolves with the command's exit status (128+signal when killed), after its output ended. */
  readonly exited: Promise<number>;
  resize(width: number, height: number): void;
  /** Kills the command's whole process group. */
  kill(): void;
}

const RESIZE_FD = 3;

export function spawnInPty(cmd: string[], size = { width: 0, height: 0 }, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): PtyProcess {
  const child: ChildProcess = spawn(helperPath(), ['pty-exec', String(RESIZE_FD), String(size.width), String(size.height), ...cmd], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    cwd: options.cwd,
    env: options.env,
  });
  const control = child.stdio[RESIZE_FD] as Writable;
  for (const s of [child.stdin!, control]) s.on('error', () => {});
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      control.destroy();
      if (code === 125) reject(new Error(stderr.trim() || 'cannot start a pseudo-terminal'));
      else resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
  return {
    input: child.stdin!,
    output: child.stdout!,
    exited,
    resize(width, height) {
      if (!control.destroyed) control.write(`${width} ${height}\n`);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
