/**
 * What signatures in the formats of the reference library's pkg/integrity are made over: the signed
 * fields of the global header and of descriptors, object data, the image metadata JSON, and the DSSE
 * pre-authentication encoding. Shared by the signer and the verifier, so both hash the same bytes.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { D, DataType, type Descriptor, H } from './format.js';
import type { ByteSource, SifImage } from './read.js';

export const METADATA_MEDIA_TYPE = 'application/vnd.sylabs.sif-metadata+json';

export interface ImageMetadata {
  version: number;
  header: { digest: string };
  objects: { relativeId: number; descriptorDigest: string; objectDigest: string }[];
}

/**
 * Streams object data through a hash without loading large objects into memory, yielding to the
 * event loop between chunks: a CRI server verifying a large image keeps answering meanwhile.
 */
export async function hashObjects(src: ByteSource, algo: string, ds: Descriptor[]): Promise<string> {
  const h = createHash(algo);
  const chunk = 8 * 1024 * 1024;
  // One buffer for every chunk: a fresh one each time costs more in page faults than the hashing.
  const buf = src.readInto ? Buffer.allocUnsafe(Math.min(chunk, Math.max(1, ...ds.map((d) => d.size)))) : undefined;
  for (const d of ds) {
    for (let done = 0; done < d.size; done += chunk) {
      const length = Math.min(chunk, d.size - done);
      h.update(buf ? buf.subarray(0, src.readInto!(buf, d.offset + done, length)) : src.read(d.offset + done, length));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return h.digest('hex');
}

/** The signed fields of the global header: launch script, magic, version and ID. */
export function headerIntegrityBytes(image: SifImage): Buffer {
  return Buffer.concat([image.rawHeader.subarray(0, H.arch), image.rawHeader.subarray(H.id, H.id + 16)]);
}

/** The signed fields of a descriptor, with its ID made relative to the group's smallest ID. */
export function descriptorIntegrityBytes(image: SifImage, d: Descriptor, relativeId: number): Buffer {
  const raw = image.rawDescriptors.get(d.slot)!;
  const rel = Buffer.alloc(4);
  rel.writeUInt32LE(relativeId);
  return Buffer.concat([
    raw.subarray(D.dataType, D.id),
    rel,
    raw.subarray(D.linkedId, D.offset),
    raw.subarray(D.size, D.sizeWithPadding),
    raw.subarray(D.createdAt, D.modifiedAt),
    raw.subarray(D.uid, D.name),
    raw.subarray(D.name),
  ]);
}

/** The objects of a group that a signature can cover (signatures themselves belong to no group). */
export function groupObjects(image: SifImage, group: number): Descriptor[] {
  return image.descriptors.filter((d) => d.group === group && d.dataType !== DataType.Signature);
}

/** Image metadata for `objects` of `group` (IDs relative to the group's smallest ID), SHA-256 digests. */
export async function imageMetadata(image: SifImage, src: ByteSource, group: number, objects: Descriptor[]): Promise<ImageMetadata> {
  const minId = Math.min(...groupObjects(image, group).map((d) => d.id));
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const entries: ImageMetadata['objects'] = [];
  for (const d of [...objects].sort((a, b) => a.id - b.id)) {
    entries.push({ relativeId: d.id - minId, descriptorDigest: sha(descriptorIntegrityBytes(image, d, d.id - minId)), objectDigest: `sha256:${await hashObjects(src, 'sha256', [d])}` });
  }
  return { version: 1, header: { digest: sha(headerIntegrityBytes(image)) }, objects: entries };
}

/** The DSSE pre-authentication encoding the signatures are made over. */
export function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

/** The ID sifkube prints for a PEM key: the SHA-256 of its public key (SubjectPublicKeyInfo DER), hex. */
export function pemFingerprint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}
