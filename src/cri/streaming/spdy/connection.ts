import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  FLAG_FIN,
  FrameReader,
  FrameType,
  HeaderCodec,
  MAX_DATA,
  RST_CANCEL,
  RST_PROTOCOL_ERROR,
  controlFrame,
  dataHeader,
  goAway,
  ping,
  rstStream,
  synStreamHead,
  type Frame,
  type Headers,
} from './frames.js';

/**
 * A SPDY/3.1 session over an upgraded socket, as moby/spdystream runs it for Kubernetes: either side
 * opens streams with headers, the other replies or resets; no send-side flow control (spdystream has
 * none), but a stream whose reader falls behind pauses the socket, as spdystream's unbuffered
 * channels do. Frames are handled strictly in order because header blocks share one zlib context.
 */
export class SpdyConnection extends EventEmitter {
  private readonly reader = new FrameReader();
  private readonly codec = new HeaderCodec();
  private readonly streams = new Map<number, SpdyStream>();
  private nextId: number;
  private lastReceived = 0;
  private inbound: Promise<void> = Promise.resolve();
  private outbound: (Buffer | Promise<Buffer>)[] = [];
  private flushing = false;
  private closed = false;

  /** `accept` decides on each stream the peer opens: true replies to it, false resets it. */
  constructor(
    readonly socket: Socket,
    private readonly isServer: boolean,
    private readonly accept: (headers: Headers) => boolean = () => true,
  ) {
    super();
    this.nextId = isServer ? 2 : 1;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const f of frames) this.inbound = this.inbound.then(() => this.handle(f)).catch((err: Error) => this.fail(err));
    });
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
    // Frames already read are handled before the streams learn the connection is gone.
    socket.on('close', () => {
      this.inbound = this.inbound.then(() => this.teardown());
    });
  }

  /** Opens a stream (client side) and resolves once the peer replied. */
  async openStream(headers: Headers, fin = false): Promise<SpdyStream> {
    const id = this.nextId;
    this.nextId += 2;
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    this.enqueue(this.codec.encode(headers).then((block) => controlFrame(FrameType.SynStream, fin ? FLAG_FIN : 0, Buffer.concat([synStreamHead(id), block]))));
    if (fin) stream.localEnded();
    await stream.replied;
    return stream;
  }

  /**
   * Sends GOAWAY after what is queued, then lets the peer close the socket: a Go client drops frames
   * it has read but not handled yet when the socket closes under it (spdystream's kubelet side waits
   * the same way). A peer that does not close within `graceMs` is cut off.
   */
  close(graceMs = 5000): void {
    if (this.closed) return;
    this.closed = true;
    this.enqueue(goAway(this.lastReceived));
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    this.socket.once('close', () => clearTimeout(timer));
  }

  /** Queues frames in order; resolves when written and the socket is not congested. */
  enqueue(frame: Buffer | Promise<Buffer>): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    if (!this.flushing && this.outbound.length === 0 && Buffer.isBuffer(frame)) {
      return this.socket.write(frame) ? Promise.resolve() : this.drained();
    }
    this.outbound.push(frame);
    return this.flush();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    let congested = false;
    while (this.outbound.length > 0) {
      const next = this.outbound.shift()!;
      const frame = await next;
      if (this.socket.destroyed) break;
      if (frame.length > 0) congested = !this.socket.write(frame);
    }
    this.flushing = false;
    if (congested) await this.drained();
  }

  writeData(id: number, data: Buffer, fin: boolean): Promise<void> {
    let last: Promise<void> = Promise.resolve();
    let off = 0;
    do {
      const end = Math.min(off + MAX_DATA, data.length);
      const final = end === data.length;
      last = this.enqueue(dataHeader(id, end - off, fin && final ? FLAG_FIN : 0));
      if (end > off) last = this.enqueue(data.subarray(off, end));
      off = end;
    } while (off < data.length);
    return last;
  }

  reset(id: number, status = RST_CANCEL): void {
    this.enqueue(rstStream(id, status));
    this.streams.delete(id);
  }

  forget(id: number): void {
    this.streams.delete(id);
  }

  private async handle(frame: Frame): Promise<void> {
    if (frame.kind === 'data') {
      const stream = this.streams.get(frame.streamId);
      if (!stream) return;
      if (frame.data.length > 0 && !stream.deliver(frame.data)) this.socket.pause();
      if (frame.flags & FLAG_FIN) stream.remoteEnded();
      return;
    }
    const { type, flags, body } = frame;
    switch (type) {
      case FrameType.SynStream: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.codec.decode(body.subarray(10));
        if ((id % 2 === 0) !== !this.isServer || id <= this.lastReceived) {
          this.enqueue(rstStream(id, RST_PROTOCOL_ERROR));
          return;
        }
        this.lastReceived = id;
        if (this.closed || !this.accept(headers)) {
          this.enqueue(rstStream(id, RST_PROTOCOL_ERROR));
          return;
        }
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        this.enqueue(this.codec.encode({}).then((block) => controlFrame(FrameType.SynReply, 0, Buffer.concat([body.subarray(0, 4), block]))));
        stream.markReplied();
        if (flags & FLAG_FIN) stream.remoteEnded();
        this.emit('stream', stream);
        return;
      }
      case FrameType.SynReply: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        await this.codec.decode(body.subarray(4));
        const stream = this.streams.get(id);
        stream?.markReplied();
        if (stream && flags & FLAG_FIN) stream.remoteEnded();
        return;
      }
      case FrameType.Headers:
        await this.codec.decode(body.subarray(4));
        return;
      case FrameType.RstStream: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        this.streams.get(id)?.resetByPeer();
        this.streams.delete(id);
        return;
      }
      case FrameType.Ping: {
        const id = body.readUInt32BE(0);
        // Odd ids are the client's, even the server's: answer the peer's; we send none of our own.
        if ((id % 2 === 1) === this.isServer) this.enqueue(ping(id));
        return;
      }
      default:
        // GOAWAY (the peer closes the socket next), SETTINGS, WINDOW_UPDATE, NOOP: nothing to do,
        // as for spdystream.
        return;
    }
  }

  /** A peer that breaks the protocol is cut off; its sessions see the connection close. */
  private fail(_err: Error): void {
    this.socket.destroy();
  }

  private teardown(): void {
    this.closed = true;
    for (const s of this.streams.values()) s.resetByPeer();
    this.streams.clear();
    this.codec.close();
    this.emit('close');
  }
}

/** One SPDY stream as a Node duplex: writes become DATA frames, end() sends FIN. */
export class SpdyStream extends Duplex {
  readonly replied: Promise<void>;
  private onReplied!: () => void;
  private onReset!: (err: Error) => void;
  private localDone = false;
  private remoteDone = false;

  constructor(
    private readonly conn: SpdyConnection,
    readonly id: number,
    readonly headers: Headers,
  ) {
    // A larger buffer than the 16 KiB default: fewer socket pauses on bulk port-forward traffic.
    super({ allowHalfOpen: true, readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    this.replied = new Promise((resolve, reject) => {
      this.onReplied = resolve;
      this.onReset = reject;
    });
    this.replied.catch(() => {});
  }

  markReplied(): void {
    this.onReplied();
  }

  deliver(data: Buffer): boolean {
    return this.remoteDone ? true : this.push(data);
  }

  remoteEnded(): void {
    if (this.remoteDone) return;
    this.remoteDone = true;
    this.push(null);
    this.maybeDone();
  }

  localEnded(): void {
    this.localDone = true;
    this.maybeDone();
  }

  resetByPeer(): void {
    this.onReset(new Error(`stream ${this.id} was reset`));
    this.localDone = this.remoteDone = true;
    if (!this.readableEnded) this.push(null);
    this.destroy();
  }

  private maybeDone(): void {
    if (this.localDone && this.remoteDone) this.conn.forget(this.id);
  }

  _read(): void {
    this.conn.socket.resume();
  }

  _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.localDone || this.conn.socket.destroyed) {
      cb();
      return;
    }
    this.conn.writeData(this.id, chunk, false).then(() => cb(), cb);
  }

  _final(cb: (err?: Error | null) => void): void {
    if (!this.localDone) this.conn.writeData(this.id, Buffer.alloc(0), true);
    this.localEnded();
    cb();
  }

  _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!(this.localDone && this.remoteDone) && !this.conn.socket.destroyed) this.conn.reset(this.id);
    this.localDone = this.remoteDone = true;
    cb(err);
  }
}
