import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { helperPath } from './native.js';

/** Nothing listens on the port inside the network namespace. */
export class PortNotListeningError extends Error {
  readonly code = 'ECONNREFUSED';
}

/**
 * Connects `stream` to 127.0.0.1:`port` inside the network namespace at `netnsPath` (through the
 * helper's netns-connect relay) and copies both ways; resolves when the connection is done.
 */
export function forwardInNetns(netnsPath: string, port: number, stream: Duplex, signal?: AbortSignal): Promise<void> {
  const child = spawn(helperPath(), ['netns-connect', netnsPath, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {});
  stream.pipe(child.stdin);
  child.stdout.pipe(stream);
  // The client's side closing (or the session ending) ends the relay; that is not an error.
  let stopped = false;
  const kill = () => {
    stopped = true;
    child.kill('SIGKILL');
  };
  // Closed after our side finished is the normal end (the relay exits by itself); before, the client left.
  const closed = () => !stream.writableFinished && kill();
  signal?.addEventListener('abort', kill, { once: true });
  stream.once('close', closed);
  stream.on('error', kill);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      signal?.removeEventListener('abort', kill);
      stream.off('close', closed);
      stream.unpipe(child.stdin);
      const message = stderr.trim().replace(/^sifkube-helper: netns-connect: /, '');
      if (code === 0 || stopped) resolve();
      else if (code === 3) reject(new PortNotListeningError(`${message} (nothing listens on port ${port} in the pod)`));
      else reject(new Error(message || `port-forward relay exited with ${code}`));
    });
  });
}
