import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StreamingBackend } from './backend.js';
import { refuse } from './http-upgrade.js';
import { runSession } from './remote-command.js';
import type { AttachRequest, ExecRequest, PortForwardRequest } from './requests.js';
import { WsChannels } from './ws-channels.js';

export const WS_REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'];
export const WS_PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'portforward.k8s.io'];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (offered) => [...offered][0] ?? false });

/** The client's first supported subprotocol ('' when it named none); undefined after a 400. */
function pick(req: IncomingMessage, socket: Socket, supported: string[]): string | undefined {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  if (offered.length === 0) return '';
  const chosen = offered.find((p) => supported.includes(p));
  if (chosen === undefined) refuse(socket, 400, 'Bad Request', `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]`);
  return chosen;
}

function open(req: IncomingMessage, socket: Socket, head: Buffer, protocol: string, idleMs: number): Promise<WebSocket> {
  // Offer only the chosen protocol, so the library answers with exactly that one.
  req.headers['sec-websocket-protocol'] = protocol || undefined;
  return new Promise((resolve) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.setTimeout(idleMs, () => socket.destroy());
      resolve(ws);
    }),
  );
}

export async function serveWsRemoteCommand(backend: StreamingBackend, kind: 'exec' | 'attach', request: ExecRequest | AttachRequest, req: IncomingMessage, socket: Socket, head: Buffer, idleMs: number): Promise<void> {
  const protocol = pick(req, socket, WS_REMOTE_COMMAND_PROTOCOLS);
  if (protocol === undefined) return;
  const ws = await open(req, socket, head, protocol, idleMs);
  const ch = new WsChannels(ws, protocol, [...(request.stdin ? [STDIN] : []), RESIZE]);
  const gone = new AbortController();
  let finished = false;
  ws.on('close', () => {
    if (!finished) gone.abort();
  });
  const stderr = request.stderr && !request.tty;
  // An empty message on the lowest writable channel tells the client the session is up.
  await ch.send(request.stdout ? STDOUT : stderr ? STDERR : ERROR, Buffer.alloc(0));
  await runSession(backend, kind, request, {
    stdin: ch.reader(STDIN),
    stdout: request.stdout ? ch.writer(STDOUT) : undefined,
    stderr: stderr ? ch.writer(STDERR) : undefined,
    resize: ch.reader(RESIZE),
    jsonStatus: protocol.startsWith('v4.') || protocol.startsWith('v5.'),
    writeError: (data) => ch.send(ERROR, data),
    close: () => {
      finished = true;
      ws.close(1000);
    },
    gone: gone.signal,
  });
}

/** Port-forward over WebSocket: channels 2i (data) and 2i+1 (error) for the i-th port, each opened with the port as 2 little-endian bytes. */
export async function serveWsPortForward(backend: StreamingBackend, request: PortForwardRequest, req: IncomingMessage, socket: Socket, head: Buffer, idleMs: number): Promise<void> {
  let ports = request.port;
  if (ports.length === 0) {
    const query = new URL(req.url ?? '/', 'http://x').searchParams.getAll('port').flatMap((p) => p.split(','));
    ports = query.map(Number);
    if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
      refuse(socket, 400, 'Bad Request', `port-forward to ${request.podSandboxId}: query parameter "port" is required, 1..65535: add ?port=N`);
      return;
    }
  }
  const protocol = pick(req, socket, WS_PORT_FORWARD_PROTOCOLS);
  if (protocol === undefined) return;
  const ws = await open(req, socket, head, protocol, idleMs);
  const ch = new WsChannels(ws, protocol, ports.map((_, i) => 2 * i));
  const gone = new AbortController();
  ws.on('close', () => gone.abort());
  await Promise.all(
    ports.map(async (port, i) => {
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port);
      await ch.send(2 * i, portBytes);
      await ch.send(2 * i + 1, portBytes);
      const input = ch.reader(2 * i)!;
      const output = ch.writer(2 * i);
      const data = Duplex.from({ readable: input, writable: output });
      try {
        await backend.portForward(request.podSandboxId, port, data, gone.signal);
      } catch (err) {
        await ch.send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${request.podSandboxId}, uid : ${(err as Error).message}`));
      }
    }),
  );
  ws.close(1000);
}
