import { createRequire } from 'node:module';
import zlib from 'node:zlib';

/**
 * SPDY/3.1 frames (the subset Kubernetes' streaming uses: moby/spdystream speaks it): encoding,
 * incremental decoding, and the connection-wide zlib contexts that compress header blocks with the
 * SPDY/3 dictionary. Header names are lower case on the wire.
 */

const require = createRequire(import.meta.url);
/** The SPDY/3 header-compression dictionary, from the spdy-transport library. */
const DICTIONARY = (require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<number, Buffer>)[3];

export const FLAG_FIN = 0x01;

export const enum FrameType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

export const RST_PROTOCOL_ERROR = 1;
export const RST_CANCEL = 5;

export type Headers = Record<string, string>;

export type Frame =
  | { kind: 'data'; streamId: number; flags: number; data: Buffer }
  | { kind: 'control'; type: number; flags: number; body: Buffer };

const HEADER_SIZE = 8;
/** Largest DATA payload we send in one frame (the format allows 16 MiB; smaller keeps streams fair). */
export const MAX_DATA = 64 * 1024;

/** A DATA frame's 8-byte header; the payload follows it on the wire. */
export function dataHeader(streamId: number, length: number, flags = 0): Buffer {
  const head = Buffer.allocUnsafe(HEADER_SIZE);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24) | length, 4);
  return head;
}

export function controlFrame(type: FrameType, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_SIZE);
  head.writeUInt16BE(0x8000 | 3, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | body.length, 4);
  return Buffer.concat([head, body]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

export const rstStream = (streamId: number, status: number) => controlFrame(FrameType.RstStream, 0, u32(streamId, status));
export const ping = (id: number) => controlFrame(FrameType.Ping, 0, u32(id));
export const goAway = (lastGoodStreamId: number) => controlFrame(FrameType.GoAway, 0, u32(lastGoodStreamId, 0));

/** SYN_STREAM body head: stream id, associated stream id, priority (3 bits) and slot. */
export function synStreamHead(streamId: number, priority = 0): Buffer {
  const b = Buffer.alloc(10);
  b.writeUInt32BE(streamId, 0);
  b.writeUInt32BE(0, 4);
  b.writeUInt8((priority & 7) << 5, 8);
  return b;
}

/** Splits a byte stream into frames; feed it socket chunks (copied only when a frame spans chunks). */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const frames: Frame[] = [];
    while (this.size >= HEADER_SIZE) {
      const head = this.peek(HEADER_SIZE);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (this.size < HEADER_SIZE + length) break;
      const flags = head[4];
      const body = this.take(HEADER_SIZE + length).subarray(HEADER_SIZE);
      if (head[0] & 0x80) {
        const version = head.readUInt16BE(0) & 0x7fff;
        if (version !== 3) throw new Error(`unsupported SPDY version ${version} (only SPDY/3.1 is spoken)`);
        frames.push({ kind: 'control', type: head.readUInt16BE(2), flags, body });
      } else {
        frames.push({ kind: 'data', streamId: head.readUInt32BE(0) & 0x7fffffff, flags, data: body });
      }
    }
    return frames;
  }

  /** The first `n` buffered bytes, without consuming them (joins only the chunks it needs). */
  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) {
      let count = 0;
      for (let have = 0; have < n; count++) have += this.chunks[count].length;
      this.chunks.splice(0, count, Buffer.concat(this.chunks.slice(0, count)));
    }
    return this.chunks[0];
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    this.size -= n;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    return first.subarray(0, n);
  }
}

/** One direction's zlib context; SPDY compresses every header block of a connection in one stream. */
class ZContext {
  private chunks: Buffer[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly z: zlib.Deflate | zlib.Inflate) {
    z.on('data', (c: Buffer) => this.chunks.push(c));
    z.on('error', () => {});
  }

  run(input: Buffer): Promise<Buffer> {
    const next = this.queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          this.z.write(input, (err) => {
            if (err) reject(err);
          });
          this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            const out = Buffer.concat(this.chunks);
            this.chunks = [];
            resolve(out);
          });
        }),
    );
    this.queue = next.catch(() => {});
    return next;
  }

  close(): void {
    this.z.close();
  }
}

export class HeaderCodec {
  private readonly deflate = new ZContext(zlib.createDeflate({ dictionary: DICTIONARY }));
  private readonly inflate = new ZContext(zlib.createInflate({ dictionary: DICTIONARY }));

  encode(headers: Headers): Promise<Buffer> {
    const entries = Object.entries(headers);
    const parts: Buffer[] = [u32(entries.length)];
    for (const [name, value] of entries) {
      const n = Buffer.from(name.toLowerCase());
      const v = Buffer.from(value);
      parts.push(u32(n.length), n, u32(v.length), v);
    }
    return this.deflate.run(Buffer.concat(parts));
  }

  async decode(block: Buffer): Promise<Headers> {
    const raw = await this.inflate.run(block);
    const headers: Headers = {};
    let off = 4;
    const count = raw.readUInt32BE(0);
    for (let i = 0; i < count; i++) {
      const nlen = raw.readUInt32BE(off);
      const name = raw.subarray(off + 4, off + 4 + nlen).toString().toLowerCase();
      off += 4 + nlen;
      const vlen = raw.readUInt32BE(off);
      headers[name] = raw.subarray(off + 4, off + 4 + vlen).toString();
      off += 4 + vlen;
    }
    return headers;
  }

  close(): void {
    this.deflate.close();
    this.inflate.close();
  }
}
