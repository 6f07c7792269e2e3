import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SifkubeError } from '../../errors.js';
import type { StreamingBackend } from './backend.js';
import { isSpdy, isWebSocket, refuse } from './http-upgrade.js';
import {
  validateAttach,
  validateExec,
  validatePortForward,
  type AttachRequest,
  type ExecRequest,
  type PortForwardRequest,
  type StreamingRequest,
} from './requests.js';
import { serveSpdyPortForward, serveSpdyRemoteCommand } from './spdy-serve.js';
import { TokenCache } from './token-cache.js';
import { serveWsPortForward, serveWsRemoteCommand } from './ws-serve.js';

export interface StreamingServerOptions {
  /** host:port to listen on; port 0 picks a free one. Default 127.0.0.1:0 (loopback, standalone). */
  address?: string;
  /** Base of the URLs handed out (default http://ADDRESS); set it when clients reach us through another name. */
  baseUrl?: string;
  /** How long a client may take to open its streams after upgrading (kubelet: 30 s). */
  streamCreationTimeoutMs?: number;
  /** A connection without traffic for this long is closed (kubelet: 4 h). */
  streamIdleTimeoutMs?: number;
  /** How long an exec/attach/port-forward URL stays valid (kubelet: 1 min). */
  tokenTtlMs?: number;
}

/** The streaming server cannot listen on its address. */
export class StreamingAddressError extends SifkubeError {
  constructor(address: string, reason: string) {
    super(`the streaming server cannot listen on ${address}: ${reason}: give a free host:port (port 0 picks one)`, 32);
  }
}

function parseAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw new StreamingAddressError(address, 'not a host:port address');
  return { host: m[1], port };
}

/**
 * kubelet-style CRI streaming server: the CRI's Exec/Attach/PortForward RPCs get URLs here
 * (/exec/TOKEN, /attach/TOKEN, /portforward/TOKEN); a client upgrades the URL to SPDY/3.1 or
 * WebSocket and talks Kubernetes' remote command or port-forward protocols, served by the backend.
 */
export class StreamingServer {
  private readonly http: Server;
  private readonly cache: TokenCache<StreamingRequest>;
  private readonly sockets = new Set<Socket>();
  private readonly address: string;
  private base = '';
  private readonly creationMs: number;
  private readonly idleMs: number;

  constructor(
    private readonly backend: StreamingBackend,
    private readonly options: StreamingServerOptions = {},
  ) {
    this.address = options.address ?? '127.0.0.1:0';
    parseAddress(this.address);
    this.cache = new TokenCache(options.tokenTtlMs ?? 60_000);
    this.creationMs = options.streamCreationTimeoutMs ?? 30_000;
    this.idleMs = options.streamIdleTimeoutMs ?? 4 * 3600_000;
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<void> {
    const { host, port } = parseAddress(this.address);
    await new Promise<void>((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException) => reject(new StreamingAddressError(this.address, err.code === 'EADDRINUSE' ? 'the address is in use' : err.message));
      this.http.once('error', fail);
      this.http.listen(port, host, () => {
        this.http.off('error', fail);
        resolve();
      });
    });
    const a = this.http.address() as AddressInfo;
    const hostPart = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    this.base = (this.options.baseUrl ?? `http://${hostPart}:${a.port}`).replace(/\/$/, '');
  }

  /** Closes the listener and every session (their processes are stopped by the backend). */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  get url(): string {
    return this.base;
  }

  getExecUrl(req: ExecRequest): string {
    validateExec(req);
    return this.urlFor('exec', { kind: 'exec', request: { ...req, cmd: [...req.cmd] } });
  }

  getAttachUrl(req: AttachRequest): string {
    validateAttach(req);
    return this.urlFor('attach', { kind: 'attach', request: { ...req } });
  }

  getPortForwardUrl(req: PortForwardRequest): string {
    validatePortForward(req);
    return this.urlFor('portforward', { kind: 'portforward', request: { ...req, port: [...req.port] } });
  }

  private urlFor(path: string, r: StreamingRequest): string {
    if (!this.base) throw new SifkubeError('the streaming server is not started: call start() first', 33);
    return `${this.base}/${path}/${this.cache.insert(r)}`;
  }

  /** The cached request for /KIND/TOKEN, consumed; undefined for anything else. */
  private take(url: string | undefined): StreamingRequest | undefined {
    const m = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)(\?.*)?$/.exec(url ?? '');
    if (!m) return undefined;
    const r = this.cache.consume(m[2]);
    return r && r.kind === m[1] ? r : undefined;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const r = this.take(req.url);
    res.statusCode = r ? 400 : 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(r ? 'unable to upgrade: missing upgrade headers in request: use a SPDY/3.1 or WebSocket client\n' : notFound);
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {});
    const r = this.take(req.url);
    if (!r) return refuse(socket, 404, 'Not Found', notFound.trimEnd());
    const ws = isWebSocket(req);
    if (!ws && !isSpdy(req)) return refuse(socket, 400, 'Bad Request', 'unable to upgrade: missing upgrade headers in request: ask for Upgrade: SPDY/3.1 or websocket');
    const t = { streamCreationMs: this.creationMs, idleMs: this.idleMs };
    if (r.kind === 'portforward') {
      if (ws) void serveWsPortForward(this.backend, r.request, req, socket, head, this.idleMs);
      else serveSpdyPortForward(this.backend, r.request, req, socket, head, t);
    } else if (ws) {
      void serveWsRemoteCommand(this.backend, r.kind, r.request, req, socket, head, this.idleMs);
    } else {
      serveSpdyRemoteCommand(this.backend, r.kind, r.request, req, socket, head, t);
    }
  }
}

const notFound = 'streaming token not found, already used or expired (URLs are single-use and valid 1 minute): ask the CRI for a new one\n';
