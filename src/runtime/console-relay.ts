import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { helperPath } from './native.js';

/** The terminal of a process started with `terminal: true`, received over its console socket. */
export interface ConsoleRelay {
  /** The console socket to hand the runtime (`consoleSocket`); it accepts one terminal. */
  readonly socket: string;
  /** What the user types (ending it sends the terminal's EOF character); null without input. */
  readonly input: Writable | null;
  /** Everything the terminal shows; null when it goes to a given output. */
  readonly output: Readable | null;
  /** Resolves once the terminal is closed (the process and its children are gone) and its output read. */
  readonly closed: Promise<void>;
  resize(width: number, height: number): void;
  /** Stops relaying (the process keeps its terminal until it exits). */
  close(): void;
}

const RESIZE_FD = 3;
const READY_FD = 4;

/**
 * Listens on `socket` for the pty master a runtime sends (Node.js cannot receive a file descriptor,
 * so the helper's console-relay does) and relays it; resolves when the socket accepts connections.
 */
export function receiveConsole(
  socket: string,
  size = { width: 0, height: 0 },
  /** input: a pipe (true), none (false), or a file descriptor to read, such as a FIFO. */
  /** resizeFd: where "COLS ROWS" lines come from instead of a pipe (such as a FIFO others write). */
  opts: { output?: 'pipe' | 'ignore' | Writable | number; input?: boolean | number; resizeFd?: number; detached?: boolean } = {},
): Promise<ConsoleRelay> {
  const input = opts.input ?? true;
  const child = spawn(helperPath(), ['console-relay', socket, String(RESIZE_FD), String(READY_FD), String(size.width), String(size.height), ...(input === false ? ['noinput'] : [])], {
    stdio: [input === true ? 'pipe' : input === false ? 'ignore' : input, (opts.output ?? 'pipe') as 'pipe', 'pipe', opts.resizeFd ?? 'pipe', 'pipe'],
    // Detached: it outlives its caller, relaying the terminal until the process is gone.
    detached: !!opts.detached,
  });
  if (opts.detached) child.unref();
  const control = child.stdio[RESIZE_FD] as Writable | null;
  const ready = child.stdio[READY_FD] as Readable;
  for (const s of [child.stdin, control]) s?.on('error', () => {});
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    ready.once('data', () => {
      // Detached, nothing of it keeps the caller alive: its own ends of the relay's pipes go.
      if (opts.detached) for (const s of [child.stdout, child.stderr, control, ready]) s?.destroy();
      resolve({
        socket,
        input: child.stdin,
        output: child.stdout,
        closed,
        resize(width, height) {
          if (control && !control.destroyed) control.write(`${width} ${height}\n`);
        },
        close() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        },
      });
    });
    ready.once('end', () => setImmediate(() => reject(new Error(stderr.trim() || `cannot listen for a terminal on ${socket}`))));
  });
}
