import { connect, type Socket } from 'node:net';
import { SpdyConnection, type SpdyStream } from '../../src/cri/streaming/spdy/connection.js';

/** A SPDY/3.1 client for the streaming server (our framing, client side), as client-go speaks it. */
export async function spdyUpgrade(url: string, protocols: string[]): Promise<{ conn: SpdyConnection; protocol: string; status: number; body: string }> {
  const u = new URL(url);
  const socket: Socket = connect(Number(u.port), u.hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const lines = [`POST ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Connection: Upgrade', 'Upgrade: SPDY/3.1', 'Content-Length: 0'];
  for (const p of protocols) lines.push(`X-Stream-Protocol-Version: ${p}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  const head = await new Promise<{ text: string; rest: Buffer }>((resolve, reject) => {
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve({ text: buf.subarray(0, end).toString(), rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => resolve({ text: buf.toString(), rest: Buffer.alloc(0) }));
  });
  const status = Number(head.text.split(' ')[1]);
  const protocol = /x-stream-protocol-version: (.*)/i.exec(head.text)?.[1]?.trim() ?? '';
  if (status !== 101) {
    socket.destroy();
    return { conn: undefined as unknown as SpdyConnection, protocol, status, body: head.rest.toString() || head.text };
  }
  const conn = new SpdyConnection(socket, false);
  if (head.rest.length > 0) socket.unshift(head.rest);
  return { conn, protocol, status, body: '' };
}

export function collect(stream: SpdyStream | undefined): Promise<string> {
  if (!stream) return Promise.resolve('');
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    stream.once('end', () => resolve(text));
    stream.once('close', () => resolve(text));
  });
}

export interface SpdyExecResult {
  stdout: string;
  stderr: string;
  error: string;
  protocol: string;
}

/** Runs one remote command session the way client-go does: error stream first, then the others. */
export async function spdyRemoteCommand(
  url: string,
  opts: { stdin?: string | ((s: SpdyStream, conn: SpdyConnection) => void); stdout?: boolean; stderr?: boolean; tty?: boolean; resize?: (s: SpdyStream) => void; protocols?: string[] },
): Promise<SpdyExecResult> {
  const { conn, protocol, status, body } = await spdyUpgrade(url, opts.protocols ?? ['v4.channel.k8s.io']);
  if (status !== 101) throw new Error(`upgrade refused: ${status} ${body}`);
  const error = await conn.openStream({ streamtype: 'error' });
  error.end();
  const errorText = collect(error);
  let resize: SpdyStream | undefined;
  if (opts.tty && protocol !== 'v2.channel.k8s.io' && protocol !== 'channel.k8s.io') resize = await conn.openStream({ streamtype: 'resize' });
  const stdin = opts.stdin !== undefined ? await conn.openStream({ streamtype: 'stdin' }) : undefined;
  const stdout = opts.stdout !== false ? await conn.openStream({ streamtype: 'stdout' }) : undefined;
  const stderr = opts.stderr && !opts.tty ? await conn.openStream({ streamtype: 'stderr' }) : undefined;
  stdout?.end();
  stderr?.end();
  const out = collect(stdout);
  const err = collect(stderr);
  if (resize && opts.resize) opts.resize(resize);
  if (stdin && typeof opts.stdin === 'string') stdin.end(opts.stdin);
  else if (stdin && typeof opts.stdin === 'function') opts.stdin(stdin, conn);
  const result = { stdout: await out, stderr: await err, error: await errorText, protocol };
  conn.socket.destroy();
  return result;
}
