import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  D,
  DataType,
  DESCRIPTOR_SIZE,
  type Descriptor,
  GROUP_MASK,
  H,
  HEADER_SIZE,
  type Header,
  MAGIC,
  MAX_DESCRIPTORS,
  PartType,
  VERSION,
} from './format.js';
import {
  SifDescriptorError,
  SifDescriptorTableError,
  SifMagicError,
  SifObjectBoundsError,
  SifObjectNotFoundError,
  SifOpenError,
  SifOverlapError,
  SifPrimaryPartitionError,
  SifTruncatedError,
  SifVersionError,
} from './errors.js';

/** Random access to the bytes of an image; reads never go past `size`. */
export interface ByteSource {
  readonly name: string;
  readonly size: number;
  read(offset: number, length: number): Buffer;
  /** Fills `buf` (or its first `length` bytes) from `offset`; returns the bytes read. Saves a fresh buffer per read when streaming large objects. */
  readInto?(buf: Buffer, offset: number, length: number): number;
}

/** A loaded image: the header and the used descriptors, in slot order. Object data stays on disk. */
export interface SifImage {
  path: string;
  fileSize: number;
  header: Header;
  /** The raw 128 header bytes (signatures hash parts of them). */
  rawHeader: Buffer;
  descriptors: Descriptor[];
  /** Raw 585-byte descriptors by slot index (signatures hash parts of them). */
  rawDescriptors: Map<number, Buffer>;
}

export function bufferSource(name: string, buf: Buffer): ByteSource {
  return {
    name,
    size: buf.length,
    read: (offset, length) => buf.subarray(offset, Math.min(offset + length, buf.length)),
  };
}

/** Opens `path` as a byte source; the caller closes it. */
export function openSource(path: string): ByteSource & { close(): void } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new SifOpenError(path, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new SifOpenError(path, 'not a regular file');
  }
  const readInto = (buf: Buffer, offset: number, length: number): number => {
    const n = Math.max(0, Math.min(length, buf.length, st.size - offset));
    let done = 0;
    while (done < n) {
      const got = readSync(fd, buf, done, n - done, offset + done);
      if (got === 0) break;
      done += got;
    }
    return done;
  };
  return {
    name: path,
    size: st.size,
    read(offset, length) {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, st.size - offset)));
      return buf.subarray(0, readInto(buf, offset, buf.length));
    },
    readInto,
    close: () => closeSync(fd),
  };
}

/** Opens `path` for reading; `use` gets a source that is closed afterwards. */
export function withFileSource<T>(path: string, use: (src: ByteSource) => T): T {
  const src = openSource(path);
  try {
    return use(src);
  } finally {
    src.close();
  }
}

/** Loads and checks an image file. Costs O(descriptors): only the header and table are read. */
export function readSif(path: string): SifImage {
  return withFileSource(path, (src) => parseSif(src));
}

function cstring(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('latin1');
}

export function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An int64 field as a number; out-of-range values (only in damaged files) become NaN-free sentinels. */
function int64(buf: Buffer, at: number): number {
  const v = buf.readBigInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(v);
}

export function decodeHeader(raw: Buffer): Header {
  return {
    launchScript: cstring(raw.subarray(H.launch, H.launch + 32)),
    magic: cstring(raw.subarray(H.magic, H.magic + 10)),
    version: cstring(raw.subarray(H.version, H.version + 3)),
    arch: cstring(raw.subarray(H.arch, H.arch + 3)),
    id: formatUuid(raw.subarray(H.id, H.id + 16)),
    createdAt: int64(raw, H.createdAt),
    modifiedAt: int64(raw, H.modifiedAt),
    descriptorsFree: int64(raw, H.descriptorsFree),
    descriptorsTotal: int64(raw, H.descriptorsTotal),
    descriptorsOffset: int64(raw, H.descriptorsOffset),
    descriptorsSize: int64(raw, H.descriptorsSize),
    dataOffset: int64(raw, H.dataOffset),
    dataSize: int64(raw, H.dataSize),
  };
}

/** Decodes one used descriptor (type-specific metadata included). */
export function decodeDescriptor(raw: Buffer, slot: number): Descriptor {
  const groupRaw = raw.readUInt32LE(D.groupId);
  const linkRaw = raw.readUInt32LE(D.linkedId);
  const extra = raw.subarray(D.extra, D.extra + 384);
  const d: Descriptor = {
    slot,
    dataType: raw.readInt32LE(D.dataType),
    id: raw.readUInt32LE(D.id),
    group: (groupRaw & ~GROUP_MASK) >>> 0,
    link: (linkRaw & ~GROUP_MASK) >>> 0,
    linkIsGroup: ((linkRaw & GROUP_MASK) >>> 0) === GROUP_MASK,
    offset: int64(raw, D.offset),
    size: int64(raw, D.size),
    sizeWithPadding: int64(raw, D.sizeWithPadding),
    createdAt: int64(raw, D.createdAt),
    modifiedAt: int64(raw, D.modifiedAt),
    uid: int64(raw, D.uid),
    gid: int64(raw, D.gid),
    name: cstring(raw.subarray(D.name, D.name + 128)),
    extra,
  };
  switch (d.dataType) {
    case DataType.Partition:
      d.partition = { fsType: extra.readInt32LE(0), partType: extra.readInt32LE(4), arch: cstring(extra.subarray(8, 11)) };
      break;
    case DataType.Signature: {
      const fp = extra.subarray(4, 24);
      d.signature = { hashType: extra.readInt32LE(0), entity: fp.every((b) => b === 0) ? '' : fp.toString('hex').toUpperCase() };
      break;
    }
    case DataType.CryptoMessage:
      d.cryptoMessage = { formatType: extra.readInt32LE(0), messageType: extra.readInt32LE(4) };
      break;
    case DataType.SBOM:
      d.sbomFormat = extra.readInt32LE(0);
      break;
    case DataType.OCIRootIndex:
    case DataType.OCIBlob:
      d.ociDigest = cstring(extra);
      break;
  }
  return d;
}

function checkHeader(src: ByteSource, raw: Buffer): Header {
  const file = src.name;
  if (raw.length >= H.magic + 10 && raw.subarray(H.magic, H.magic + 10).toString('latin1') !== `${MAGIC}\0`) throw new SifMagicError(file);
  if (raw.length < HEADER_SIZE) throw new SifTruncatedError(file, `${src.size} bytes, the global header alone is ${HEADER_SIZE}`);
  const header = decodeHeader(raw);
  if (header.version !== VERSION) throw new SifVersionError(file, header.version);
  const total = raw.readBigInt64LE(H.descriptorsTotal);
  const free = raw.readBigInt64LE(H.descriptorsFree);
  if (total < 0n) throw new SifDescriptorTableError(file, `negative descriptor count ${total}`);
  if (total > BigInt(MAX_DESCRIPTORS)) throw new SifDescriptorTableError(file, `descriptor count ${total} exceeds the limit of ${MAX_DESCRIPTORS}`);
  if (free < 0n || free > total) throw new SifDescriptorTableError(file, `free descriptor count ${free} is outside 0..${total}`);
  const tableSize = header.descriptorsTotal * DESCRIPTOR_SIZE;
  if (header.descriptorsSize !== tableSize) {
    throw new SifDescriptorTableError(file, `table size ${header.descriptorsSize} does not match ${header.descriptorsTotal} descriptors of ${DESCRIPTOR_SIZE} bytes`);
  }
  if (header.descriptorsOffset < HEADER_SIZE) throw new SifDescriptorTableError(file, `table offset ${header.descriptorsOffset} lies inside the global header`);
  if (header.descriptorsOffset + tableSize > src.size) {
    throw new SifDescriptorTableError(file, `table (offset ${header.descriptorsOffset}, ${tableSize} bytes) runs past the end of the file (${src.size} bytes)`);
  }
  const tableEnd = header.descriptorsOffset + tableSize;
  if (header.dataOffset < tableEnd || header.dataSize < 0 || header.dataOffset + header.dataSize > src.size) {
    throw new SifObjectBoundsError(file, `data area (offset ${header.dataOffset}, ${header.dataSize} bytes) lies outside ${tableEnd}..${src.size}`);
  }
  return header;
}

function checkDescriptor(file: string, d: Descriptor, dataOffset: number, fileSize: number): void {
  if (d.id === 0) throw new SifDescriptorError(file, `slot ${d.slot + 1} is in use but has object ID 0`);
  if (d.size < 0 || d.offset < 0) throw new SifObjectBoundsError(file, `object ${d.id} has a negative offset or size`);
  if (d.offset < dataOffset || d.offset + d.size > fileSize) {
    throw new SifObjectBoundsError(file, `object ${d.id} (offset ${d.offset}, ${d.size} bytes) lies outside the data area ${dataOffset}..${fileSize}`);
  }
}

function checkObjects(file: string, ds: Descriptor[]): void {
  const ids = new Set<number>();
  for (const d of ds) {
    if (ids.has(d.id)) throw new SifDescriptorError(file, `object ID ${d.id} is used twice`);
    ids.add(d.id);
  }
  const primaries = ds.filter((d) => d.partition?.partType === PartType.PrimSys);
  if (primaries.length > 1) {
    throw new SifPrimaryPartitionError(file, `two primary partitions (objects ${primaries.map((d) => d.id).join(' and ')}): keep one, for example with \`sifkube sif setprim ${file} ID\``);
  }
  if (primaries.length === 1 && primaries[0].size === 0) {
    throw new SifPrimaryPartitionError(file, `primary partition (object ${primaries[0].id}) is zero-length: the image is damaged, rebuild it`);
  }
  const sorted = ds.filter((d) => d.size > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.size) throw new SifOverlapError(file, prev.id, sorted[i].id);
  }
}

/** Parses and checks an image from any byte source. Throws a SifError naming the first defect. */
export function parseSif(src: ByteSource): SifImage {
  const rawHeader = Buffer.from(src.read(0, HEADER_SIZE));
  const header = checkHeader(src, rawHeader);
  const table = src.read(header.descriptorsOffset, header.descriptorsSize);
  const descriptors: Descriptor[] = [];
  const rawDescriptors = new Map<number, Buffer>();
  for (let slot = 0; slot < header.descriptorsTotal; slot++) {
    const raw = Buffer.from(table.subarray(slot * DESCRIPTOR_SIZE, (slot + 1) * DESCRIPTOR_SIZE));
    if (raw[D.used] === 0) continue;
    const d = decodeDescriptor(raw, slot);
    checkDescriptor(src.name, d, header.dataOffset, src.size);
    descriptors.push(d);
    rawDescriptors.set(slot, raw);
  }
  checkObjects(src.name, descriptors);
  return { path: src.name, fileSize: src.size, header, rawHeader, descriptors, rawDescriptors };
}

export function findDescriptor(image: SifImage, id: number): Descriptor {
  const d = image.descriptors.find((x) => x.id === id);
  if (!d) throw new SifObjectNotFoundError(image.path, id);
  return d;
}

/** The primary system partition, if the image has one. */
export function primaryPartition(image: SifImage): Descriptor | undefined {
  return image.descriptors.find((d) => d.partition?.partType === PartType.PrimSys);
}

/** Reads a (small) object's bytes. For large objects use objectStream. */
export function readObject(image: SifImage, id: number): Buffer {
  const d = findDescriptor(image, id);
  return withFileSource(image.path, (src) => src.read(d.offset, d.size));
}
