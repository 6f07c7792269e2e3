import { PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Kubernetes' channel protocols over one WebSocket: each message starts with its channel number
 * (a byte, or an ASCII digit with base64 data for the base64 variants); v5 adds a close signal:
 * the message [255, N] ends channel N.
 */
export const CLOSE_SIGNAL = 255;

export class WsChannels {
  private readonly readers = new Map<number, PassThrough>();
  readonly base64: boolean;
  readonly v5: boolean;

  constructor(
    readonly ws: WebSocket,
    protocol: string,
    readable: number[],
  ) {
    this.base64 = protocol.includes('base64');
    this.v5 = protocol === 'v5.channel.k8s.io';
    for (const n of readable) this.readers.set(n, new PassThrough());
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(isBinary || !this.base64 ? data : Buffer.from(data.toString('utf8'))));
    ws.on('close', () => {
      for (const r of this.readers.values()) r.end();
    });
  }

  reader(n: number): PassThrough | undefined {
    return this.readers.get(n);
  }

  /** Sends one message on channel `n`; resolves once handed to the socket. */
  send(n: number, data: Buffer): Promise<void> {
    if (this.ws.readyState !== this.ws.OPEN) return Promise.resolve();
    const frame = this.base64 ? `${String.fromCharCode(48 + n)}${data.toString('base64')}` : Buffer.concat([Buffer.from([n]), data]);
    return new Promise((resolve) => this.ws.send(frame, () => resolve()));
  }

  writer(n: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.send(n, chunk).then(() => cb());
      },
    });
  }

  private receive(data: Buffer): void {
    if (data.length === 0) return;
    if (this.v5 && data[0] === CLOSE_SIGNAL) {
      if (data.length >= 2) this.readers.get(data[1])?.end();
      return;
    }
    const n = this.base64 ? data[0] - 48 : data[0];
    const reader = this.readers.get(n);
    if (!reader || reader.writableEnded) return;
    reader.write(this.base64 ? Buffer.from(data.subarray(1).toString('latin1'), 'base64') : data.subarray(1));
  }
}
