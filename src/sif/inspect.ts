/**
 * The facts `siftool header|list|info` print, as text in siftool's exact layout and as plain objects
 * for `--json`.
 */
import {
  ARCH_CODES,
  DATA_TYPE_NAMES,
  DataType,
  type Descriptor,
  FORMAT_TYPE_NAMES,
  FS_TYPE_NAMES,
  MESSAGE_TYPE_NAMES,
  PART_TYPE_NAMES,
  SBOM_FORMAT_NAMES,
  typeName,
  ZERO_TIME,
} from './format.js';
import type { SifImage } from './read.js';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Go's crypto.Hash names, which siftool prints for signature hash types. */
const HASH_NAMES: Record<number, string> = { 1: 'SHA-256', 2: 'SHA-384', 3: 'SHA-512', 4: 'BLAKE2s-256', 5: 'BLAKE2b-256' };

export function archName(code: string): string {
  return ARCH_CODES[code] ?? 'unknown';
}

/** A time as Go's `time.Time.UTC()` prints it: `2020-06-20 20:16:23 +0000 UTC`. */
export function goTime(unix: number): string {
  const iso = new Date(unix * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

/** siftool's human size: `27 KiB`, `707 B`. */
export function readableSize(size: number): string {
  if (size > -1024 && size < 1024) return `${size} B`;
  const units = 'KMGTPE';
  let div = 1024;
  let exp = 0;
  for (let n = Math.trunc(size / 1024); n <= -1024 || n >= 1024; n = Math.trunc(n / 1024)) {
    div *= 1024;
    exp++;
  }
  return `${Math.round(size / div)} ${units[exp]}iB`;
}

/** Aligns `rows` like Go's tabwriter: every column as wide as its widest cell plus `padding`. */
function table(rows: string[][], padding: number): string {
  const widths: number[] = [];
  for (const r of rows) r.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length + padding)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join('') + '\n').join('');
}

export function typeLabel(d: Descriptor): string {
  return typeName(DATA_TYPE_NAMES, d.dataType);
}

/** The TYPE column of `list`: the type plus its key metadata. */
function typeColumn(d: Descriptor): string {
  const t = typeLabel(d);
  if (d.partition) return `${t} (${typeName(FS_TYPE_NAMES, d.partition.fsType)}/${typeName(PART_TYPE_NAMES, d.partition.partType)}/${archName(d.partition.arch)})`;
  if (d.signature) return `${t} (${HASH_NAMES[d.signature.hashType] ?? 'Unknown'})`;
  if (d.cryptoMessage) return `${t} (${typeName(FORMAT_TYPE_NAMES, d.cryptoMessage.formatType)}/${typeName(MESSAGE_TYPE_NAMES, d.cryptoMessage.messageType)})`;
  if (d.sbomFormat !== undefined) return `${t} (${typeName(SBOM_FORMAT_NAMES, d.sbomFormat)})`;
  return t;
}

export function formatHeader(image: SifImage): string {
  const h = image.header;
  const rows: string[][] = [];
  const script = h.launchScript.replace(/\n$/, '');
  if (h.launchScript !== '') rows.push(['Launch Script:', script]);
  rows.push(['Version:', h.version]);
  if (archName(h.arch) !== 'unknown') rows.push(['Primary Architecture:', archName(h.arch)]);
  if (h.id !== NIL_UUID) rows.push(['ID:', h.id]);
  if (h.createdAt !== ZERO_TIME) rows.push(['Created At:', goTime(h.createdAt)]);
  if (h.modifiedAt !== ZERO_TIME) rows.push(['Modified At:', goTime(h.modifiedAt)]);
  rows.push(['Descriptors Free:', String(h.descriptorsFree)]);
  rows.push(['Descriptors Total:', String(h.descriptorsTotal)]);
  rows.push(['Descriptors Offset:', String(h.descriptorsOffset)]);
  rows.push(['Descriptors Size:', readableSize(h.descriptorsSize)]);
  rows.push(['Data Offset:', String(h.dataOffset)]);
  rows.push(['Data Size:', readableSize(h.dataSize)]);
  return table(rows, 1);
}

const RULE = '------------------------------------------------------------------------------\n';

export function formatList(image: SifImage): string {
  let out = `${RULE}${'ID'.padEnd(4)} ${'|GROUP'.padEnd(8)} ${'|LINK'.padEnd(8)} ${'|SIF POSITION (start-end)'.padEnd(26)} |TYPE\n${RULE}`;
  for (const d of image.descriptors) {
    const group = d.group === 0 ? '|NONE'.padEnd(8) : `|${String(d.group).padEnd(7)}`;
    const link = d.link === 0 ? '|NONE'.padEnd(8) : d.linkIsGroup ? `|${String(d.link).padEnd(3)} (G)` : `|${String(d.link).padEnd(7)}`;
    const pos = `|${d.offset}-${d.offset + d.size} `.padEnd(26);
    out += `${String(d.id).padEnd(4)} ${group} ${link} ${pos} |${typeColumn(d)}\n`;
  }
  return out;
}

export function formatInfo(d: Descriptor): string {
  const rows: string[][] = [];
  const row = (k: string, v: string) => rows.push(['', k, v]);
  row('Data Type:', typeLabel(d));
  row('ID:', String(d.id));
  row('Group ID:', d.group === 0 ? 'NONE' : String(d.group));
  row('Linked ID:', d.link === 0 ? 'NONE' : d.linkIsGroup ? `${d.link} (G)` : String(d.link));
  row('Offset:', String(d.offset));
  row('Size:', String(d.size));
  if (d.createdAt !== ZERO_TIME) row('Created At:', goTime(d.createdAt));
  if (d.modifiedAt !== ZERO_TIME) row('Modified At:', goTime(d.modifiedAt));
  if (d.name !== '') row('Name:', d.name);
  if (d.partition) {
    row('Filesystem Type:', typeName(FS_TYPE_NAMES, d.partition.fsType));
    row('Partition Type:', typeName(PART_TYPE_NAMES, d.partition.partType));
    row('Architecture:', archName(d.partition.arch));
  } else if (d.signature) {
    row('Hash Type:', HASH_NAMES[d.signature.hashType] ?? 'Unknown');
    if (d.signature.entity !== '') row('Entity:', d.signature.entity);
  } else if (d.cryptoMessage) {
    row('Format Type:', typeName(FORMAT_TYPE_NAMES, d.cryptoMessage.formatType));
    row('Message Type:', typeName(MESSAGE_TYPE_NAMES, d.cryptoMessage.messageType));
  } else if (d.sbomFormat !== undefined) {
    row('Format:', typeName(SBOM_FORMAT_NAMES, d.sbomFormat));
  } else if (d.dataType === DataType.OCIBlob || d.dataType === DataType.OCIRootIndex) {
    row('Digest:', d.ociDigest ?? '');
  }
  return table(rows, 2);
}

/** Time as ISO text for JSON, null when unset. */
function isoTime(unix: number): string | null {
  return unix === ZERO_TIME ? null : new Date(unix * 1000).toISOString();
}

export function headerJson(image: SifImage): Record<string, unknown> {
  const h = image.header;
  return {
    launchScript: h.launchScript,
    version: h.version,
    primaryArch: archName(h.arch),
    id: h.id,
    createdAt: isoTime(h.createdAt),
    modifiedAt: isoTime(h.modifiedAt),
    descriptorsFree: h.descriptorsFree,
    descriptorsTotal: h.descriptorsTotal,
    descriptorsOffset: h.descriptorsOffset,
    descriptorsSize: h.descriptorsSize,
    dataOffset: h.dataOffset,
    dataSize: h.dataSize,
  };
}

export function descriptorJson(d: Descriptor): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: d.id,
    dataType: typeLabel(d),
    group: d.group === 0 ? null : d.group,
    link: d.link === 0 ? null : { id: d.link, isGroup: d.linkIsGroup },
    offset: d.offset,
    size: d.size,
    sizeWithPadding: d.sizeWithPadding,
    createdAt: isoTime(d.createdAt),
    modifiedAt: isoTime(d.modifiedAt),
    name: d.name,
  };
  if (d.partition) {
    out.partition = { fsType: typeName(FS_TYPE_NAMES, d.partition.fsType), partType: typeName(PART_TYPE_NAMES, d.partition.partType), arch: archName(d.partition.arch) };
  }
  if (d.signature) out.signature = { hashType: HASH_NAMES[d.signature.hashType] ?? 'Unknown', entity: d.signature.entity || null };
  if (d.cryptoMessage) out.cryptoMessage = { formatType: typeName(FORMAT_TYPE_NAMES, d.cryptoMessage.formatType), messageType: typeName(MESSAGE_TYPE_NAMES, d.cryptoMessage.messageType) };
  if (d.sbomFormat !== undefined) out.sbomFormat = typeName(SBOM_FORMAT_NAMES, d.sbomFormat);
  if (d.ociDigest !== undefined) out.digest = d.ociDigest;
  return out;
}
