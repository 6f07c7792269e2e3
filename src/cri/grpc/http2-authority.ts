import { createRequire } from 'node:module';

/**
 * Rewrites the client-to-server half of an HTTP/2 connection so that every request's `:authority`
 * is one Node's HTTP/2 layer accepts. Go gRPC clients that dial a unix socket by a bare path (the
 * v1.28 kubelet, crictl 1.26, device-plugin registrars) send that path as `:authority`; nghttp2
 * resets every stream whose authority holds a `/`. grpc-go itself and newer kubelets send
 * `localhost` there, so an invalid authority becomes `localhost`.
 *
 * Header blocks are decoded with HPACK (tracking the client's dynamic table) and re-encoded as
 * literals that never touch the server's dynamic table, so both tables stay consistent whatever
 * the block held. Every other frame passes through unchanged.
 */

const require = createRequire(import.meta.url);

interface HeaderField {
  name: string;
  value: string;
  neverIndex: boolean;
}
interface Decompressor {
  write(chunk: Buffer): void;
  execute(): void;
  read(): HeaderField | null;
  on(event: 'error', listener: (err: Error) => void): void;
}
const hpack = require('hpack.js') as { decompressor: { create(options: { table: { maxSize: number } }): Decompressor } };

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER = 9;
const TYPE_HEADERS = 0x1;
const TYPE_CONTINUATION = 0x9;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** Every HTTP/2 peer accepts frames of this size (SETTINGS_MAX_FRAME_SIZE cannot go lower). */
const MAX_FRAME = 16_384;
/** SETTINGS_HEADER_TABLE_SIZE: Node's HTTP/2 server never advertises another. */
const HEADER_TABLE_SIZE = 4096;

/** RFC 3986 authority characters (reg-name, IP literal, userinfo, port): what nghttp2 accepts. */
const VALID_AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/;

export class Http2ProtocolError extends Error {}

/** A header block being collected: its HEADERS frame's flags and priority, and its fragments. */
interface OpenBlock {
  streamId: number;
  flags: number;
  priority?: Buffer;
  fragments: Buffer[];
}

export class AuthorityRewriter {
  private buffered: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  private block?: OpenBlock;
  private readonly decompressor = hpack.decompressor.create({ table: { maxSize: HEADER_TABLE_SIZE } });
  private decodeError?: Error;

  constructor(private readonly replacement = 'localhost') {
    this.decompressor.on('error', (err) => (this.decodeError = err));
  }

  /** Takes the next bytes from the client; returns the bytes to hand the server (maybe none yet). */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    if (!this.prefaceSeen) {
      if (this.buffered.length < PREFACE.length) return out;
      // gRPC speaks HTTP/2 with prior knowledge only: anything else is not a client of ours.
      if (!this.buffered.subarray(0, PREFACE.length).equals(PREFACE)) throw new Http2ProtocolError('the connection does not start with the HTTP/2 preface');
      out.push(this.buffered.subarray(0, PREFACE.length));
      this.buffered = this.buffered.subarray(PREFACE.length);
      this.prefaceSeen = true;
    }
    let passFrom = 0;
    let at = 0;
    while (this.buffered.length - at >= FRAME_HEADER) {
      const length = this.buffered.readUIntBE(at, 3);
      const end = at + FRAME_HEADER + length;
      if (this.buffered.length < end) break;
      const type = this.buffered[at + 3];
      if (type === TYPE_HEADERS || type === TYPE_CONTINUATION || this.block) {
        if (at > passFrom) out.push(this.buffered.subarray(passFrom, at));
        const rewritten = this.headerFrame(type, this.buffered[at + 4], this.buffered.readUInt32BE(at + 5) & 0x7fffffff, this.buffered.subarray(at + FRAME_HEADER, end));
        if (rewritten) out.push(rewritten);
        passFrom = end;
      }
      at = end;
    }
    // Whole frames that need no rewriting go out as they came, without a copy.
    if (at > passFrom) out.push(this.buffered.subarray(passFrom, at));
    this.buffered = this.buffered.subarray(at);
    return out;
  }

  private headerFrame(type: number, flags: number, streamId: number, payload: Buffer): Buffer | undefined {
    if (type === TYPE_HEADERS) {
      if (this.block) throw new Http2ProtocolError(`HEADERS on stream ${streamId} while the header block of stream ${this.block.streamId} is open`);
      let body = payload;
      if (flags & FLAG_PADDED) {
        const pad = body[0];
        if (pad === undefined || pad >= body.length) throw new Http2ProtocolError(`HEADERS on stream ${streamId}: padding longer than the frame`);
        body = body.subarray(1, body.length - pad);
      }
      let priority: Buffer | undefined;
      if (flags & FLAG_PRIORITY) {
        if (body.length < 5) throw new Http2ProtocolError(`HEADERS on stream ${streamId}: priority field cut short`);
        priority = body.subarray(0, 5);
        body = body.subarray(5);
      }
      this.block = { streamId, flags, priority, fragments: [body] };
    } else {
      if (!this.block || type !== TYPE_CONTINUATION || streamId !== this.block.streamId) {
        throw new Http2ProtocolError(`frame type ${type} on stream ${streamId} inside the header block of stream ${this.block?.streamId ?? '?'}`);
      }
      this.block.fragments.push(payload);
    }
    if (!(flags & FLAG_END_HEADERS)) return undefined;
    const block = this.block;
    this.block = undefined;
    return this.encodeBlock(block, this.decode(Buffer.concat(block.fragments)));
  }

  private decode(block: Buffer): HeaderField[] {
    this.decompressor.write(block);
    this.decompressor.execute();
    if (this.decodeError) throw new Http2ProtocolError(`header block cannot be decoded: ${this.decodeError.message}`);
    const fields: HeaderField[] = [];
    for (let f = this.decompressor.read(); f !== null; f = this.decompressor.read()) {
      fields.push(f.name === ':authority' && !VALID_AUTHORITY.test(f.value) ? { ...f, value: this.replacement } : f);
    }
    return fields;
  }

  /** HEADERS (+ CONTINUATION) frames holding the fields as HPACK literals without indexing. */
  private encodeBlock(block: OpenBlock, fields: HeaderField[]): Buffer {
    const parts: Buffer[] = [];
    for (const f of fields) parts.push(Buffer.from([f.neverIndex ? 0x10 : 0x00]), hpackString(f.name), hpackString(f.value));
    const payload = Buffer.concat([...(block.priority ? [block.priority] : []), ...parts]);
    const frames: Buffer[] = [];
    const keptFlags = block.flags & ~(FLAG_PADDED | FLAG_END_HEADERS);
    for (let at = 0, first = true; first || at < payload.length; first = false) {
      const piece = payload.subarray(at, at + MAX_FRAME);
      at += piece.length;
      const last = at >= payload.length;
      frames.push(frameHeader(piece.length, first ? TYPE_HEADERS : TYPE_CONTINUATION, (first ? keptFlags : 0) | (last ? FLAG_END_HEADERS : 0), block.streamId), piece);
    }
    return Buffer.concat(frames);
  }
}

function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return h;
}

/** An HPACK string literal without Huffman coding: a 7-bit-prefix length, then the octets. */
function hpackString(s: string): Buffer {
  const octets = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInteger(octets.length, 7, 0x00), octets]);
}

function hpackInteger(value: number, prefixBits: number, firstByte: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const bytes = [firstByte | max];
  for (value -= max; value >= 128; value = Math.floor(value / 128)) bytes.push((value % 128) + 128);
  bytes.push(value);
  return Buffer.from(bytes);
}
