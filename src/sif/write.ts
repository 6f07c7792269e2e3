/**
 * Creating and changing SIF images, following the reference library's rules (LAYOUT.md): an object
 * takes the first free slot (ID = slot + 1), its data goes at the end of the data area rounded up to
 * its alignment, and the header's free count, data size, arch and times follow.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import {
  D,
  DataType,
  DEFAULT_DESCRIPTORS_OFFSET,
  DEFAULT_DESCRIPTORS_TOTAL,
  DESCRIPTOR_SIZE,
  EXTRA_SIZE,
  GROUP_MASK,
  H,
  HEADER_SIZE,
  LAUNCH_SCRIPT_MAX,
  MAGIC,
  MAX_DESCRIPTORS,
  NAME_SIZE,
  PARTITION_ALIGNMENT,
  PartType,
  VERSION,
  ZERO_TIME,
  type PartitionInfo,
} from './format.js';
import { SifDescriptorError, SifInputError, SifObjectNotFoundError, SifOpenError, SifWriteError } from './errors.js';
import { parseSif, withFileSource, type SifImage } from './read.js';

/**
 * Where an object's bytes come from: in memory, a file streamed in chunks, or already written in
 * the image at the offset the object will get (`inPlace` bytes; used to let mksquashfs write a
 * partition straight into the image).
 */
export type ObjectData = Buffer | { path: string } | { inPlace: number };

export interface ObjectInput {
  dataType: DataType;
  data: ObjectData;
  name?: string;
  /** Group number; 0 = no group. Defaults to 1 like the reference library (signatures: none). */
  group?: number;
  link?: { id: number; isGroup: boolean };
  /** Absolute-offset alignment; defaults to 4096 for partitions, 1 otherwise. */
  alignment?: number;
  partition?: PartitionInfo;
  signature?: { hashType: number; fingerprint?: Buffer };
  cryptoMessage?: { formatType: number; messageType: number };
  sbomFormat?: number;
}

/** When the change is stamped: deterministic = Go's zero time (no time), else `time` or now. */
export interface TimeOptions {
  deterministic?: boolean;
  time?: Date;
}

export interface CreateOptions extends TimeOptions {
  launchScript?: string;
  /** UUID text; random by default, nil in deterministic mode. */
  id?: string;
  descriptorsTotal?: number;
  descriptorsOffset?: number;
  objects?: ObjectInput[];
}

export interface DeleteOptions extends TimeOptions {
  zero?: boolean;
  compact?: boolean;
}

function stamp(opts: TimeOptions, image?: SifImage): number {
  if (opts.deterministic) return ZERO_TIME;
  if (opts.time) return Math.floor(opts.time.getTime() / 1000);
  // Like the reference library, an image made deterministic stays deterministic when changed.
  if (image && image.header.createdAt === ZERO_TIME && image.header.modifiedAt === ZERO_TIME) return ZERO_TIME;
  return Math.floor(Date.now() / 1000);
}

export function parseUuid(text: string): Buffer {
  if (!/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(text)) {
    throw new SifInputError(`invalid image ID ${JSON.stringify(text)}: give a UUID such as 6ecc76b7-a497-4f7f-9ebd-8da2a04c6be1`);
  }
  return Buffer.from(text.replace(/-/g, ''), 'hex');
}

function openRw(path: string, flags: string): number {
  try {
    return openSync(path, flags);
  } catch (err) {
    throw new SifOpenError(path, (err as NodeJS.ErrnoException).code ?? String(err));
  }
}

function writeAt(fd: number, buf: Buffer, offset: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, offset + done);
}

const CHUNK = 8 * 1024 * 1024;

/** Copies the object's data to `offset`, returning its size and (for OCI objects) its sha256. */
function writeData(fd: number, data: ObjectData, offset: number, digest: boolean): { size: number; sha256: string } {
  const hash = digest ? createHash('sha256') : undefined;
  if (Buffer.isBuffer(data)) {
    writeAt(fd, data, offset);
    hash?.update(data);
    return { size: data.length, sha256: hash?.digest('hex') ?? '' };
  }
  if ('inPlace' in data) {
    if (hash) throw new SifInputError('OCI objects must be given as data, not in place, so their digest can be computed');
    return { size: data.inPlace, sha256: '' };
  }
  const src = openRw(data.path, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    let size = 0;
    for (;;) {
      const n = readSync(src, buf, 0, CHUNK, size);
      if (n === 0) break;
      writeAt(fd, buf.subarray(0, n), offset + size);
      hash?.update(buf.subarray(0, n));
      size += n;
    }
    return { size, sha256: hash?.digest('hex') ?? '' };
  } finally {
    closeSync(src);
  }
}

function setInt64(buf: Buffer, at: number, v: number): void {
  buf.writeBigInt64LE(BigInt(v), at);
}

function extraFor(input: ObjectInput, sha256: string, file: string): Buffer {
  const extra = Buffer.alloc(EXTRA_SIZE);
  if (input.dataType === DataType.Partition) {
    const p = input.partition;
    if (!p) throw new SifWriteError(file, 'a partition needs its filesystem type, partition type and architecture');
    extra.writeInt32LE(p.fsType, 0);
    extra.writeInt32LE(p.partType, 4);
    extra.write(p.arch.slice(0, 2), 8, 'latin1');
  } else if (input.dataType === DataType.Signature) {
    extra.writeInt32LE(input.signature?.hashType ?? 1, 0);
    input.signature?.fingerprint?.copy(extra, 4, 0, 20);
  } else if (input.dataType === DataType.CryptoMessage) {
    extra.writeInt32LE(input.cryptoMessage?.formatType ?? 0, 0);
    extra.writeInt32LE(input.cryptoMessage?.messageType ?? 0, 4);
  } else if (input.dataType === DataType.SBOM) {
    extra.writeInt32LE(input.sbomFormat ?? 0, 0);
  } else if (input.dataType === DataType.OCIRootIndex || input.dataType === DataType.OCIBlob) {
    extra.write(`sha256:${sha256}`, 0, 'latin1');
  }
  return extra;
}

function readImage(path: string): SifImage {
  return withFileSource(path, (src) => parseSif(src));
}

/**
 * Writes the header and a free descriptor table at the start of `path` without truncating it (bytes
 * past the table, such as a partition written there beforehand, stay). Returns the data offset.
 */
export function initSif(path: string, opts: CreateOptions = {}): number {
  const { header, dataOffset } = headerFor(opts);
  const fd = openRw(path, 'r+');
  try {
    // The gap between header and table and the table itself are zero (free slots are all zero).
    writeAt(fd, Buffer.concat([header, Buffer.alloc(dataOffset - HEADER_SIZE)]), 0);
  } finally {
    closeSync(fd);
  }
  return dataOffset;
}

/** The header of a new, empty image; checks the options first. */
function headerFor(opts: CreateOptions): { header: Buffer; dataOffset: number } {
  const launch = opts.launchScript ?? '';
  if (Buffer.byteLength(launch, 'latin1') > LAUNCH_SCRIPT_MAX) {
    throw new SifInputError(`launch script ${JSON.stringify(launch)} is ${launch.length} bytes: it must be at most ${LAUNCH_SCRIPT_MAX}`);
  }
  const total = opts.descriptorsTotal ?? DEFAULT_DESCRIPTORS_TOTAL;
  if (!Number.isInteger(total) || total < 1 || total > MAX_DESCRIPTORS) {
    throw new SifInputError(`descriptor count ${total} is out of range: give 1..${MAX_DESCRIPTORS}`);
  }
  const tableOffset = opts.descriptorsOffset ?? DEFAULT_DESCRIPTORS_OFFSET;
  if (!Number.isInteger(tableOffset) || tableOffset < HEADER_SIZE) {
    throw new SifInputError(`descriptor table offset ${tableOffset} is out of range: give ${HEADER_SIZE} or more`);
  }
  const id = opts.id !== undefined ? parseUuid(opts.id) : opts.deterministic ? Buffer.alloc(16) : parseUuid(randomUUID());
  const t = stamp(opts);
  const dataOffset = tableOffset + total * DESCRIPTOR_SIZE;
  const h = Buffer.alloc(HEADER_SIZE);
  h.write(launch, H.launch, 'latin1');
  h.write(`${MAGIC}\0`, H.magic, 'latin1');
  h.write(`${VERSION}\0`, H.version, 'latin1');
  h.write('00\0', H.arch, 'latin1');
  id.copy(h, H.id);
  setInt64(h, H.createdAt, t);
  setInt64(h, H.modifiedAt, t);
  setInt64(h, H.descriptorsFree, total);
  setInt64(h, H.descriptorsTotal, total);
  setInt64(h, H.descriptorsOffset, tableOffset);
  setInt64(h, H.descriptorsSize, total * DESCRIPTOR_SIZE);
  setInt64(h, H.dataOffset, dataOffset);
  setInt64(h, H.dataSize, 0);
  return { header: h, dataOffset };
}

/** Makes a new image (header and free descriptor table), then adds `objects` in order. */
export function createSif(path: string, opts: CreateOptions = {}): SifImage {
  const t = stamp(opts);
  const timeOpts: TimeOptions = { deterministic: t === ZERO_TIME, time: new Date(t * 1000) };
  headerFor({ ...opts, ...timeOpts });
  closeSync(openRw(path, 'w'));
  initSif(path, { ...opts, ...timeOpts });
  for (const o of opts.objects ?? []) addObject(path, o, timeOpts);
  return readImage(path);
}

/** Adds one object; returns its ID. */
export function addObject(path: string, input: ObjectInput, opts: TimeOptions = {}): number {
  const image = readImage(path);
  const h = image.header;
  const slot = Array.from({ length: h.descriptorsTotal }, (_, i) => i).find((i) => !image.rawDescriptors.has(i));
  if (slot === undefined) {
    throw new SifWriteError(path, `no free descriptor slot (all ${h.descriptorsTotal} in use): create the image with more descriptors (sif new --descriptors N)`);
  }
  if (input.name !== undefined && Buffer.byteLength(input.name) > NAME_SIZE) {
    throw new SifWriteError(path, `object name ${JSON.stringify(input.name)} is longer than ${NAME_SIZE} bytes: shorten it`);
  }
  const isPrimary = input.dataType === DataType.Partition && input.partition?.partType === PartType.PrimSys;
  if (isPrimary && image.descriptors.some((d) => d.partition?.partType === PartType.PrimSys)) {
    throw new SifWriteError(path, 'the image already has a primary partition: add this one as a System partition, then use `sif setprim`');
  }
  const alignment = input.alignment ?? (input.dataType === DataType.Partition ? PARTITION_ALIGNMENT : 1);
  if (!Number.isInteger(alignment) || alignment < 1) throw new SifInputError(`alignment ${alignment} is invalid: give a positive integer`);
  const end = h.dataOffset + h.dataSize;
  const offset = Math.ceil(end / alignment) * alignment;
  const t = stamp(opts, image);
  const fd = openRw(path, 'r+');
  try {
    const oci = input.dataType === DataType.OCIBlob || input.dataType === DataType.OCIRootIndex;
    const { size, sha256 } = writeData(fd, input.data, offset, oci);
    if (input.dataType === DataType.Partition && size === 0) {
      ftruncateSync(fd, end);
      throw new SifWriteError(path, 'a partition cannot be empty: give a filesystem image with data');
    }
    const group = input.group ?? (input.dataType === DataType.Signature ? 0 : 1);
    const d = Buffer.alloc(DESCRIPTOR_SIZE);
    d.writeInt32LE(input.dataType, D.dataType);
    d[D.used] = 1;
    d.writeUInt32LE(slot + 1, D.id);
    d.writeUInt32LE((GROUP_MASK | group) >>> 0, D.groupId);
    if (input.link) d.writeUInt32LE(input.link.isGroup ? (GROUP_MASK | input.link.id) >>> 0 : input.link.id, D.linkedId);
    setInt64(d, D.offset, offset);
    setInt64(d, D.size, size);
    setInt64(d, D.sizeWithPadding, offset - end + size);
    setInt64(d, D.createdAt, t);
    setInt64(d, D.modifiedAt, t);
    d.write(input.name ?? '', D.name, 'utf8');
    extraFor(input, sha256, path).copy(d, D.extra);
    writeAt(fd, d, h.descriptorsOffset + slot * DESCRIPTOR_SIZE);
    const hdr = Buffer.from(image.rawHeader);
    setInt64(hdr, H.descriptorsFree, h.descriptorsFree - 1);
    setInt64(hdr, H.dataSize, offset + size - h.dataOffset);
    setInt64(hdr, H.modifiedAt, t);
    if (isPrimary) hdr.write(`${input.partition!.arch.slice(0, 2)}\0`, H.arch, 'latin1');
    writeAt(fd, hdr, 0);
  } finally {
    closeSync(fd);
  }
  return slot + 1;
}

/** Deletes object `id`: frees its slot, optionally zeroes its bytes and drops trailing free space. */
export function deleteObject(path: string, id: number, opts: DeleteOptions = {}): void {
  const image = readImage(path);
  const target = image.descriptors.find((d) => d.id === id);
  if (!target) throw new SifObjectNotFoundError(path, id);
  const h = image.header;
  const t = stamp(opts, image);
  const fd = openRw(path, 'r+');
  try {
    if (opts.zero) {
      for (let done = 0; done < target.size; done += CHUNK) writeAt(fd, Buffer.alloc(Math.min(CHUNK, target.size - done)), target.offset + done);
    }
    writeAt(fd, Buffer.alloc(DESCRIPTOR_SIZE), h.descriptorsOffset + target.slot * DESCRIPTOR_SIZE);
    const hdr = Buffer.from(image.rawHeader);
    setInt64(hdr, H.descriptorsFree, h.descriptorsFree + 1);
    setInt64(hdr, H.modifiedAt, t);
    if (target.partition?.partType === PartType.PrimSys) hdr.write('00\0', H.arch, 'latin1');
    if (opts.compact) {
      const rest = image.descriptors.filter((d) => d.id !== id);
      const dataEnd = Math.max(h.dataOffset, ...rest.map((d) => d.offset + d.size));
      setInt64(hdr, H.dataSize, dataEnd - h.dataOffset);
      ftruncateSync(fd, dataEnd);
    }
    writeAt(fd, hdr, 0);
  } finally {
    closeSync(fd);
  }
}

/** Makes system partition `id` the primary one (the former primary becomes a System partition). */
export function setPrimary(path: string, id: number, opts: TimeOptions = {}): void {
  const image = readImage(path);
  const target = image.descriptors.find((d) => d.id === id);
  if (!target) throw new SifObjectNotFoundError(path, id);
  if (!target.partition) throw new SifWriteError(path, `object ${id} is not a partition (it is ${DataType[target.dataType] ?? 'unknown'}): pick a partition ID from \`sifkube sif list\``);
  if (target.partition.partType === PartType.PrimSys) return;
  if (target.partition.partType !== PartType.System) {
    throw new SifWriteError(path, `object ${id} is not a system partition: only System partitions can become primary`);
  }
  const t = stamp(opts, image);
  const fd = openRw(path, 'r+');
  try {
    const update = (slot: number, partType: PartType) => {
      const raw = image.rawDescriptors.get(slot);
      if (!raw) throw new SifDescriptorError(path, `slot ${slot + 1} vanished while updating`);
      const d = Buffer.from(raw);
      d.writeInt32LE(partType, D.extra + 4);
      setInt64(d, D.modifiedAt, t);
      writeAt(fd, d, image.header.descriptorsOffset + slot * DESCRIPTOR_SIZE);
    };
    const old = image.descriptors.find((d) => d.partition?.partType === PartType.PrimSys);
    if (old) update(old.slot, PartType.System);
    update(target.slot, PartType.PrimSys);
    const hdr = Buffer.from(image.rawHeader);
    hdr.write(`${target.partition.arch.slice(0, 2)}\0`, H.arch, 'latin1');
    setInt64(hdr, H.modifiedAt, t);
    writeAt(fd, hdr, 0);
  } finally {
    closeSync(fd);
  }
}
