import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { StreamingBackend } from './backend.js';
import { acceptSpdy, negotiate } from './http-upgrade.js';
import { runSession } from './remote-command.js';
import type { AttachRequest, ExecRequest, PortForwardRequest } from './requests.js';
import { SpdyConnection, type SpdyStream } from './spdy/connection.js';

/** Remote command protocols over SPDY, newest first (v5 is v4 on SPDY: its close signal is WebSocket-only). */
export const SPDY_REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
export const SPDY_PORT_FORWARD_PROTOCOLS = ['portforward.k8s.io'];

export interface SpdyTimeouts {
  streamCreationMs: number;
  idleMs: number;
}

function upgrade(req: IncomingMessage, socket: Socket, head: Buffer, protocols: string[], timeouts: SpdyTimeouts, accept?: (h: Record<string, string>) => boolean): { conn: SpdyConnection; protocol: string } | undefined {
  const protocol = negotiate(req, socket, protocols);
  if (protocol === undefined) return undefined;
  acceptSpdy(socket, protocol);
  const conn = new SpdyConnection(socket, true, accept);
  socket.setTimeout(timeouts.idleMs, () => socket.destroy());
  if (head.length > 0) socket.unshift(head);
  return { conn, protocol };
}

/** Exec/attach over SPDY: waits for the client's streams (error, stdin, stdout, stderr, resize), then runs the session. */
export function serveSpdyRemoteCommand(backend: StreamingBackend, kind: 'exec' | 'attach', request: ExecRequest | AttachRequest, req: IncomingMessage, socket: Socket, head: Buffer, timeouts: SpdyTimeouts): void {
  const up = upgrade(req, socket, head, SPDY_REMOTE_COMMAND_PROTOCOLS, timeouts);
  if (!up) return;
  const { conn, protocol } = up;
  const version = protocol === '' || protocol === 'channel.k8s.io' ? 1 : Number(protocol[1]);
  const stderr = request.stderr && !request.tty;
  const expected = 1 + Number(request.stdin) + Number(request.stdout) + Number(stderr) + Number(request.tty && version >= 3);
  const streams = new Map<string, SpdyStream>();
  const gone = new AbortController();
  let started = false;
  // kubelet gives up on a client that did not open its streams in time.
  const timer = setTimeout(() => conn.close(100), timeouts.streamCreationMs);
  conn.on('close', () => {
    clearTimeout(timer);
    gone.abort();
  });
  conn.on('stream', (stream: SpdyStream) => {
    const type = stream.headers.streamtype ?? '';
    if (started || !['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type)) return;
    streams.set(type, stream);
    if (streams.size < expected) return;
    started = true;
    clearTimeout(timer);
    const error = streams.get('error');
    // Our half of stdin stays open: client-go stops sending stdin as soon as we close it.
    runSession(backend, kind, request, {
      stdin: streams.get('stdin'),
      stdout: streams.get('stdout'),
      stderr: streams.get('stderr'),
      resize: streams.get('resize'),
      jsonStatus: version >= 4,
      writeError: (data) => new Promise((resolve) => error ? error.write(data, () => resolve()) : resolve()),
      close: () => {
        error?.end();
        conn.close();
      },
      gone: gone.signal,
    }).catch(() => conn.socket.destroy());
  });
}

interface StreamPair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Port-forward over SPDY: each forwarded connection is a (data, error) stream pair tied by requestID. */
export function serveSpdyPortForward(backend: StreamingBackend, request: PortForwardRequest, req: IncomingMessage, socket: Socket, head: Buffer, timeouts: SpdyTimeouts): void {
  const validPair = (h: Record<string, string>) => {
    const port = Number(h.port);
    return Number.isInteger(port) && port >= 1 && port <= 65535 && (h.streamtype === 'data' || h.streamtype === 'error');
  };
  const up = upgrade(req, socket, head, SPDY_PORT_FORWARD_PROTOCOLS, timeouts, validPair);
  if (!up) return;
  const { conn } = up;
  const gone = new AbortController();
  const pairs = new Map<string, StreamPair>();
  conn.on('close', () => {
    gone.abort();
    for (const p of pairs.values()) clearTimeout(p.timer);
  });
  conn.on('stream', (stream: SpdyStream) => {
    const type = stream.headers.streamtype as 'data' | 'error';
    // Clients before request ids: the error stream's id names the pair, data follows 2 ids later.
    const id = stream.headers.requestid ?? String(type === 'error' ? stream.id : stream.id - 2);
    let pair = pairs.get(id);
    if (!pair) {
      const p: StreamPair = {
        timer: setTimeout(() => {
          p.error?.end(`(request=${id}) timed out waiting for streams`);
          p.data?.destroy();
          pairs.delete(id);
        }, timeouts.streamCreationMs),
      };
      pair = p;
      pairs.set(id, p);
    }
    if (pair[type]) {
      stream.end(`error processing stream for request ${id}: ${type} stream already assigned`);
      return;
    }
    pair[type] = stream;
    const { data, error } = pair;
    if (!data || !error) return;
    clearTimeout(pair.timer);
    pairs.delete(id);
    error.resume();
    const port = Number(data.headers.port);
    backend
      .portForward(request.podSandboxId, port, data, gone.signal)
      .then(
        () => data.end(),
        (err: Error) => {
          // Plain text, as kubelet 1.28 and containerd write it: kubectl prints the error stream as is.
          error.write(`error forwarding port ${port} to pod ${request.podSandboxId}, uid : ${err.message}`);
          data.end();
        },
      )
      .finally(() => error.end());
  });
}
