/**
 * The SIF on-disk format, spec version "01" (see shared/fixtures/sif/LAYOUT.md): sizes, offsets,
 * codes and their printed names. Everything here is data; reading and writing live elsewhere.
 */

export const HEADER_SIZE = 128;
export const DESCRIPTOR_SIZE = 585;
export const MAGIC = 'SIF_MAGIC';
export const VERSION = '01';
export const LAUNCH_SCRIPT_MAX = 31; // 32-byte field, always NUL-terminated
export const SINGULARITY_LAUNCH_SCRIPT = '#!/usr/bin/env run-singularity\n';
export const DEFAULT_DESCRIPTORS_OFFSET = 4096;
export const DEFAULT_DESCRIPTORS_TOTAL = 48;
/** Refuse tables larger than this: real images use 48 slots; the cap bounds memory on bad input. */
export const MAX_DESCRIPTORS = 65536;
export const GROUP_MASK = 0xf0000000;
export const NAME_SIZE = 128;
export const EXTRA_SIZE = 384;
export const PARTITION_ALIGNMENT = 4096;
/** Go's zero time (0001-01-01T00:00:00Z) in Unix seconds: "no time", written by deterministic mode. */
export const ZERO_TIME = -62135596800;

/** Header field offsets. */
export const H = {
  launch: 0,
  magic: 32,
  version: 42,
  arch: 45,
  id: 48,
  createdAt: 64,
  modifiedAt: 72,
  descriptorsFree: 80,
  descriptorsTotal: 88,
  descriptorsOffset: 96,
  descriptorsSize: 104,
  dataOffset: 112,
  dataSize: 120,
} as const;

/** Descriptor field offsets. */
export const D = {
  dataType: 0,
  used: 4,
  id: 5,
  groupId: 9,
  linkedId: 13,
  offset: 17,
  size: 25,
  sizeWithPadding: 33,
  createdAt: 41,
  modifiedAt: 49,
  uid: 57,
  gid: 65,
  name: 73,
  extra: 201,
} as const;

export enum DataType {
  DefFile = 0x4001,
  EnvVars = 0x4002,
  Labels = 0x4003,
  Partition = 0x4004,
  Signature = 0x4005,
  GenericJSON = 0x4006,
  Generic = 0x4007,
  CryptoMessage = 0x4008,
  SBOM = 0x4009,
  OCIRootIndex = 0x400a,
  OCIBlob = 0x400b,
}

export const DATA_TYPE_NAMES: Record<number, string> = {
  [DataType.DefFile]: 'Def.FILE',
  [DataType.EnvVars]: 'Env.Vars',
  [DataType.Labels]: 'JSON.Labels',
  [DataType.Partition]: 'FS',
  [DataType.Signature]: 'Signature',
  [DataType.GenericJSON]: 'JSON.Generic',
  [DataType.Generic]: 'Generic/Raw',
  [DataType.CryptoMessage]: 'Cryptographic Message',
  [DataType.SBOM]: 'SBOM',
  [DataType.OCIRootIndex]: 'OCI.RootIndex',
  [DataType.OCIBlob]: 'OCI.Blob',
};

export enum FsType {
  Squashfs = 1,
  Ext3 = 2,
  Archive = 3,
  Raw = 4,
  EncryptedSquashfs = 5,
}

export const FS_TYPE_NAMES: Record<number, string> = {
  1: 'Squashfs',
  2: 'Ext3',
  3: 'Archive',
  4: 'Raw',
  5: 'Encrypted squashfs',
};

export enum PartType {
  System = 1,
  PrimSys = 2,
  Data = 3,
  Overlay = 4,
}

export const PART_TYPE_NAMES: Record<number, string> = { 1: 'System', 2: '*System', 3: 'Data', 4: 'Overlay' };

export const HASH_TYPE_NAMES: Record<number, string> = { 1: 'SHA256', 2: 'SHA384', 3: 'SHA512', 4: 'BLAKE2S', 5: 'BLAKE2B' };

export const FORMAT_TYPE_NAMES: Record<number, string> = { 1: 'OpenPGP', 2: 'PEM' };

export const MESSAGE_TYPE_NAMES: Record<number, string> = { 0x100: 'Clear Signature', 0x200: 'RSA-OAEP' };

export const SBOM_FORMAT_NAMES: Record<number, string> = {
  1: 'cyclonedx-json',
  2: 'cyclonedx-xml',
  3: 'github-json',
  4: 'spdx-json',
  5: 'spdx-rdf',
  6: 'spdx-tag-value',
  7: 'spdx-yaml',
  8: 'syft-json',
};

/** Architecture codes as stored (two ASCII digits) and their Go names, which siftool prints. */
export const ARCH_CODES: Record<string, string> = {
  '00': 'unknown',
  '01': '386',
  '02': 'amd64',
  '03': 'arm',
  '04': 'arm64',
  '05': 'ppc64',
  '06': 'ppc64le',
  '07': 'mips',
  '08': 'mipsle',
  '09': 'mips64',
  '10': 'mips64le',
  '11': 's390x',
  '12': 'riscv64',
  '13': 'loong64',
};

/** Go architecture name → stored code; `unknown` for anything not in the table. */
export function archCode(name: string): string | undefined {
  return Object.entries(ARCH_CODES).find(([, n]) => n === name)?.[0];
}

/** The Go name of this machine's architecture (Node's names differ for x64 and ia32). */
export function hostArch(): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle' };
  return map[process.arch] ?? 'unknown';
}

export function typeName(names: Record<number, string>, value: number): string {
  return names[value] ?? 'Unknown';
}

/** The global header, decoded. Times are Unix seconds (ZERO_TIME = unset). */
export interface Header {
  launchScript: string;
  magic: string;
  version: string;
  arch: string; // two-digit code
  id: string; // UUID text, all zero when unset
  createdAt: number;
  modifiedAt: number;
  descriptorsFree: number;
  descriptorsTotal: number;
  descriptorsOffset: number;
  descriptorsSize: number;
  dataOffset: number;
  dataSize: number;
}

export interface PartitionInfo {
  fsType: number;
  partType: number;
  arch: string; // two-digit code
}

export interface SignatureInfo {
  hashType: number;
  /** Hex of the 20-byte fingerprint, upper case; empty when none is stored. */
  entity: string;
}

export interface CryptoMessageInfo {
  formatType: number;
  messageType: number;
}

/** One used descriptor, decoded. `group` and `link` are without the group flag. */
export interface Descriptor {
  slot: number;
  dataType: number;
  id: number;
  group: number; // 0 = none
  link: number; // 0 = none
  linkIsGroup: boolean;
  offset: number;
  size: number;
  sizeWithPadding: number;
  createdAt: number;
  modifiedAt: number;
  uid: number;
  gid: number;
  name: string;
  /** The raw 384-byte extra field, kept for signing digests and byte-exact rewrites. */
  extra: Buffer;
  partition?: PartitionInfo;
  signature?: SignatureInfo;
  cryptoMessage?: CryptoMessageInfo;
  sbomFormat?: number;
  ociDigest?: string;
}
