import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { Duplex, Writable } from 'node:stream';
import { forwardInNetns, spawnInPty, type PtyProcess } from '../../runtime/index.js';
import { SifkubeError } from '../../errors.js';
import type { SessionIO, StreamingBackend } from './backend.js';

/** The backend has no container or sandbox of that id. */
export class UnknownTargetError extends SifkubeError {
  constructor(what: string, id: string) {
    super(`no ${what} ${id} here: give the id of a running ${what}`, 34);
  }
}

interface Started {
  input: Writable;
  output: EventEmitter<{ stdout: [Buffer]; stderr: [Buffer] }>;
  exited: Promise<number>;
  resize(width: number, height: number): void;
  kill(): void;
}

/** Starts `cmd` on the host, on a pseudo-terminal or with pipes; one process group to kill. */
function start(cmd: string[], tty: boolean, size?: { width: number; height: number }): Started {
  const output = new EventEmitter<{ stdout: [Buffer]; stderr: [Buffer] }>();
  if (tty) {
    const p: PtyProcess = spawnInPty(cmd, size);
    p.output.on('data', (d: Buffer) => output.emit('stdout', d));
    return { input: p.input, output, exited: p.exited, resize: (w, h) => p.resize(w, h), kill: () => p.kill() };
  }
  const child = spawn(cmd[0], cmd.slice(1), { stdio: 'pipe', detached: true });
  child.stdin.on('error', () => {});
  child.stdout.on('data', (d: Buffer) => output.emit('stdout', d));
  child.stderr.on('data', (d: Buffer) => output.emit('stderr', d));
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot run ${cmd[0]}: ${err.message}`)));
    child.once('close', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  return {
    input: child.stdin,
    output,
    exited,
    resize: () => {},
    kill: () => {
      try {
        if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}


/** Wires a started process to one client session until `until` settles or the client leaves. */
function connect(p: Started, io: SessionIO, closeInput: boolean): () => void {
  const out = (d: Buffer) => io.stdout?.write(d);
  const err = (d: Buffer) => io.stderr?.write(d);
  p.output.on('stdout', out);
  p.output.on('stderr', err);
  const resize = (s: { width: number; height: number }) => p.resize(s.width, s.height);
  if (io.size) resize(io.size);
  io.resize?.on('size', resize);
  const input = (d: Buffer) => p.input.write(d);
  const ended = () => closeInput && p.input.end();
  io.stdin?.on('data', input);
  io.stdin?.on('end', ended);
  return () => {
    p.output.off('stdout', out);
    p.output.off('stderr', err);
    io.resize?.off('size', resize);
    io.stdin?.off('data', input);
    io.stdin?.off('end', ended);
  };
}

interface HostContainer {
  process: Started;
  stdinOnce: boolean;
  attachedOnce: boolean;
}

/**
 * A StreamingBackend whose containers are plain host processes and whose sandboxes are network
 * namespaces named by path: for the tests and standalone use until the CRI wires its own containers.
 */
export class HostStreamingBackend implements StreamingBackend {
  private readonly containers = new Map<string, HostContainer>();
  private readonly sandboxes = new Map<string, string>();

  /** Runs `cmd` as container `id` (its stdin open when `stdin`), for attach. */
  startContainer(id: string, cmd: string[], opts: { tty: boolean; stdin: boolean; stdinOnce: boolean }): Promise<number> {
    const process = start(cmd, opts.tty);
    if (!opts.stdin) process.input.end();
    this.containers.set(id, { process, stdinOnce: opts.stdinOnce, attachedOnce: false });
    return process.exited;
  }

  /** Kills container `id` and forgets it. */
  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    c.process.kill();
    await c.process.exited.catch(() => 0);
    this.containers.delete(id);
  }

  addSandbox(id: string, netnsPath: string): void {
    this.sandboxes.set(id, netnsPath);
  }

  async exec(_containerId: string, cmd: string[], io: SessionIO): Promise<number> {
    const p = start(cmd, io.tty, io.size);
    const detach = connect(p, io, true);
    if (!io.stdin) p.input.end();
    const kill = () => p.kill();
    io.signal.addEventListener('abort', kill, { once: true });
    try {
      return await p.exited;
    } finally {
      io.signal.removeEventListener('abort', kill);
      detach();
    }
  }

  async attach(containerId: string, io: SessionIO): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c) throw new UnknownTargetError('container', containerId);
    // stdinOnce: the first attached client's stdin is the container's whole input.
    const detach = connect(c.process, io, c.stdinOnce && !c.attachedOnce);
    c.attachedOnce = true;
    try {
      await Promise.race([c.process.exited.catch(() => 0), new Promise((resolve) => io.signal.addEventListener('abort', resolve, { once: true }))]);
    } finally {
      detach();
    }
  }

  portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    const netns = this.sandboxes.get(podSandboxId);
    if (!netns) return Promise.reject(new UnknownTargetError('pod sandbox', podSandboxId));
    return forwardInNetns(netns, port, stream, signal);
  }
}
