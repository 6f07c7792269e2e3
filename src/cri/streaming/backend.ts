import { EventEmitter } from 'node:events';
import type { Duplex, Readable, Writable } from 'node:stream';

/** A terminal size in character cells, as Kubernetes' resize stream carries it. */
export interface TerminalSize {
  width: number;
  height: number;
}

/** Terminal resize events of one session ('size' events, in order). */
export class TerminalResizes extends EventEmitter<{ size: [TerminalSize] }> {}

/** The client's side of an exec or attach session, handed to the backend. */
export interface SessionIO {
  /** Bytes the client types; ends when the client closes stdin. */
  stdin?: Readable;
  stdout?: Writable;
  /** Absent with a tty: the terminal merges stderr into stdout. */
  stderr?: Writable;
  tty: boolean;
  resize?: TerminalResizes;
  /** The terminal's size when the session starts, when the client sent one in time. */
  size?: TerminalSize;
  /** Aborted when the client goes away before the session ended: stop the process. */
  signal: AbortSignal;
}

/**
 * What the streaming server needs from the container runtime (the CRI implements it). Each method
 * resolves when its session is over; rejections are reported to the client as internal errors.
 */
export interface StreamingBackend {
  /** Runs `cmd` in the container; resolves with its exit code (128+signal when killed). */
  exec(containerId: string, cmd: string[], io: SessionIO): Promise<number>;
  /** Connects to the container's main process; resolves when the container's output ends or the client leaves. */
  attach(containerId: string, io: SessionIO): Promise<void>;
  /** Connects `stream` to 127.0.0.1:`port` in the sandbox's network namespace; resolves when both ends closed. */
  portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void>;
}
