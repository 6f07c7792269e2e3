import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** Protocol negotiation and raw responses on a socket being upgraded (Kubernetes' httpstream rules). */

export const PROTOCOL_HEADER = 'x-stream-protocol-version';

/** Writes a plain HTTP error on a socket not yet upgraded, and closes it. */
export function refuse(socket: Socket, code: number, reason: string, message: string, extra: Record<string, string[]> = {}): void {
  const lines = [`HTTP/1.1 ${code} ${reason}`, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(message) + 1}`, 'Connection: close'];
  for (const [k, vs] of Object.entries(extra)) for (const v of vs) lines.push(`${k}: ${v}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${message}\n`);
}

export function isWebSocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket' && /(^|,)\s*upgrade\s*($|,)/i.test(req.headers.connection ?? '');
}

export function isSpdy(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1' && /(^|,)\s*upgrade\s*($|,)/i.test(req.headers.connection ?? '');
}

/** The client's protocols in its order of preference (repeated or comma-separated headers). */
export function clientProtocols(req: IncomingMessage, header: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === header) out.push(...req.rawHeaders[i + 1].split(',').map((p) => p.trim()).filter(Boolean));
  }
  return out;
}

/**
 * The first client protocol the server supports; '' when the client named none (Kubernetes 1.0
 * clients); undefined, after answering 403, when nothing matches.
 */
export function negotiate(req: IncomingMessage, socket: Socket, supported: string[]): string | undefined {
  const offered = clientProtocols(req, PROTOCOL_HEADER);
  if (offered.length === 0) return '';
  const chosen = offered.find((p) => supported.includes(p));
  if (chosen === undefined) {
    refuse(socket, 403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`, {
      'X-Accepted-Stream-Protocol-Versions': supported,
    });
  }
  return chosen;
}

/** Answers 101 for SPDY/3.1 with the negotiated protocol. */
export function acceptSpdy(socket: Socket, protocol: string): void {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1'];
  if (protocol) lines.push(`X-Stream-Protocol-Version: ${protocol}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
}
