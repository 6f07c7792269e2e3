/** One tar entry's header, with PAX and GNU long names already applied. */
export interface TarHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  /** '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' directory, '6' fifo. */
  type: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/** What the reader calls for each entry: `entry` may return a sink for the body bytes. */
export interface TarHandler {
  entry(h: TarHeader): ((chunk: Buffer) => void) | undefined;
  end(h: TarHeader): void;
}

export class TarFormatError extends Error {}

function str(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/** A numeric field: octal text, or base-256 when the high bit of the first byte is set (GNU). */
function num(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) {
    let v = b[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return v;
  }
  const t = str(b, off, len).trim();
  return t === '' ? 0 : parseInt(t, 8);
}

function checksumOk(b: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i];
  return sum === num(b, 148, 8);
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(body.subarray(off, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) throw new TarFormatError('bad PAX record length');
    const rec = body.subarray(sp + 1, off + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

/**
 * A streaming tar reader (ustar, PAX extended headers, GNU long names): feed it chunks with
 * `push`, call `finish` at the end. Bodies go straight to the handler's sink, so a layer of any
 * size is read in constant memory.
 */
export class TarReader {
  private pending = Buffer.alloc(0);
  private current?: { h: TarHeader; left: number; pad: number; sink?: (c: Buffer) => void; meta?: Buffer[] };
  private pax: Record<string, string> = {};
  private longName?: string;
  private longLink?: string;
  private done = false;

  constructor(private readonly handler: TarHandler) {}

  push(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0 && !this.done) {
      const cur = this.current;
      if (cur) {
        if (cur.left > 0) {
          const n = Math.min(cur.left, data.length);
          const part = data.subarray(0, n);
          if (cur.meta) cur.meta.push(Buffer.from(part));
          else cur.sink?.(part);
          cur.left -= n;
          data = data.subarray(n);
          continue;
        }
        if (cur.pad > 0) {
          const n = Math.min(cur.pad, data.length);
          cur.pad -= n;
          data = data.subarray(n);
          if (cur.pad > 0) continue;
        }
        this.current = undefined;
        this.finishEntry(cur);
        continue;
      }
      if (data.length < 512) {
        this.pending = Buffer.from(data);
        return;
      }
      this.header(data.subarray(0, 512));
      data = data.subarray(512);
      const c = this.current as typeof this.current;
      if (c && c.left === 0 && c.pad === 0) {
        this.current = undefined;
        this.finishEntry(c);
      }
    }
  }

  finish(): void {
    const cur = this.current;
    if (cur && cur.left === 0 && cur.pad === 0) {
      this.current = undefined;
      this.finishEntry(cur);
    }
    if (this.current || (!this.done && this.pending.length > 0)) throw new TarFormatError('the archive ends in the middle of an entry');
  }

  private header(b: Buffer): void {
    if (b.every((x) => x === 0)) {
      this.done = true;
      return;
    }
    if (!checksumOk(b)) throw new TarFormatError('a tar header has a bad checksum (the layer is not a tar archive, or it is damaged)');
    const prefix = str(b, 257, 6).startsWith('ustar') ? str(b, 345, 155) : '';
    const base = str(b, 0, 100);
    const h: TarHeader = {
      name: prefix ? `${prefix}/${base}` : base,
      mode: num(b, 100, 8),
      uid: num(b, 108, 8),
      gid: num(b, 116, 8),
      size: num(b, 124, 12),
      mtime: num(b, 136, 12),
      type: String.fromCharCode(b[156] || 0x30),
      linkname: str(b, 157, 100),
      devmajor: num(b, 329, 8),
      devminor: num(b, 337, 8),
    };
    const meta = h.type === 'x' || h.type === 'g' || h.type === 'L' || h.type === 'K';
    if (!meta) {
      const p = this.pax;
      if (p.path !== undefined) h.name = p.path;
      if (p.linkpath !== undefined) h.linkname = p.linkpath;
      if (p.size !== undefined) h.size = Number(p.size);
      if (p.uid !== undefined) h.uid = Number(p.uid);
      if (p.gid !== undefined) h.gid = Number(p.gid);
      if (p.mtime !== undefined) h.mtime = Math.floor(Number(p.mtime));
      if (this.longName !== undefined) h.name = this.longName;
      if (this.longLink !== undefined) h.linkname = this.longLink;
      this.pax = {};
      this.longName = undefined;
      this.longLink = undefined;
    }
    // Only regular files (and metadata) carry a body; a hard link's size field is ignored.
    const bodySize = meta || h.type === '0' || h.type === '7' ? h.size : 0;
    this.current = { h, left: bodySize, pad: (512 - (bodySize % 512)) % 512, meta: meta ? [] : undefined };
    if (!meta) this.current.sink = this.handler.entry(h);
  }

  private finishEntry(cur: { h: TarHeader; meta?: Buffer[] }): void {
    const { h } = cur;
    if (cur.meta) {
      const body = Buffer.concat(cur.meta);
      if (h.type === 'x') this.pax = parsePax(body);
      else if (h.type === 'L') this.longName = str(body, 0, body.length);
      else if (h.type === 'K') this.longLink = str(body, 0, body.length);
      return;
    }
    this.handler.end(h);
  }
}
