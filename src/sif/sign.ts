/**
 * Signing, in the formats of the reference library's pkg/integrity (what `verify.ts` reads): for each
 * signed group, the image metadata JSON (header digest, and per object its descriptor and data
 * digests) is signed as a clear-signed OpenPGP message (one per OpenPGP key, the key's fingerprint in
 * the descriptor) or as one DSSE envelope holding a signature per PEM key. The signature object
 * belongs to no group and links to the group it covers.
 */
import { createHash, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { DataType, type Descriptor } from './format.js';
import { SifInputError, SifWriteError } from './errors.js';
import { groupObjects, imageMetadata, METADATA_MEDIA_TYPE, pae } from './integrity.js';
import { loadSigningKey, type SigningKey } from './keys.js';
import { findDescriptor, openSource, readSif, type SifImage } from './read.js';
import { addObject, type TimeOptions } from './write.js';

export interface SignOptions extends TimeOptions {
  /** Private key files: each OpenPGP key makes its own signature, all PEM keys one DSSE envelope. */
  keys: string[];
  /** Sign this group only (default: every group). */
  group?: number;
  /** Sign only these objects (one signature per group they belong to). */
  objects?: number[];
}

export interface SignResult {
  file: string;
  signatures: { id: number; format: 'pgp' | 'dsse'; group: number; covers: number[]; signers: string[] }[];
}

interface Signed {
  data: Buffer;
  hashType: number;
  fingerprint?: Buffer;
}

/** SIF hash types by OpenPGP hash algorithm ID (RFC 4880): SHA-256, SHA-384, SHA-512. */
const PGP_TO_SIF_HASH: Record<number, number> = { 8: 1, 9: 2, 10: 3 };
const SIF_SHA256 = 1;

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** An SSH mpint: big-endian, with a zero byte in front when the top bit is set. */
function mpint(b: Buffer): Buffer {
  return sshString(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** The key ID a DSSE signature carries, as the reference signer writes it: the SSH SHA256 fingerprint. */
function sshKeyId(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const b64 = (s?: string) => Buffer.from(s ?? '', 'base64url');
  const text = (s: string) => sshString(Buffer.from(s));
  let wire: Buffer;
  if (jwk.kty === 'OKP') wire = Buffer.concat([text('ssh-ed25519'), sshString(b64(jwk.x))]);
  else if (jwk.kty === 'RSA') wire = Buffer.concat([text('ssh-rsa'), mpint(b64(jwk.e)), mpint(b64(jwk.n))]);
  else {
    const curve = `nistp${jwk.crv?.slice(2)}`;
    wire = Buffer.concat([text(`ecdsa-sha2-${curve}`), text(curve), sshString(Buffer.concat([Buffer.from([4]), b64(jwk.x), b64(jwk.y)]))]);
  }
  return `SHA256:${createHash('sha256').update(wire).digest('base64').replace(/=+$/, '')}`;
}

/** One DSSE envelope with a signature per key (SHA-256; Ed25519 signs the message itself). */
function signDsse(keys: Extract<SigningKey, { kind: 'pem' }>[], json: string): Signed {
  const body = Buffer.from(json);
  const message = pae(METADATA_MEDIA_TYPE, body);
  const signatures = keys.map((k) => ({ keyid: sshKeyId(createPublicKey(k.key)), sig: cryptoSign(k.type === 'ed25519' ? null : 'sha256', message, k.key).toString('base64') }));
  const envelope = { payloadType: METADATA_MEDIA_TYPE, payload: body.toString('base64'), signatures };
  return { data: Buffer.from(JSON.stringify(envelope)), hashType: SIF_SHA256 };
}

async function signPgp(k: Extract<SigningKey, { kind: 'pgp' }>, json: string): Promise<Signed> {
  const openpgp = await import('openpgp');
  // SHA-256 as the reference signer uses, where the key allows it; the descriptor records the hash used.
  const config = { preferredHashAlgorithm: openpgp.enums.hash.sha256 };
  const armored = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text: json }), signingKeys: k.key, config });
  const armoredSignature = armored.slice(armored.indexOf('-----BEGIN PGP SIGNATURE-----'));
  const algo = (await openpgp.readSignature({ armoredSignature })).packets[0].hashAlgorithm ?? 0;
  const hashType = PGP_TO_SIF_HASH[algo];
  if (!hashType) throw new SifInputError(`${k.file}: the key prefers hash algorithm ${algo}, which SIF cannot record: use a key preferring SHA-256, SHA-384 or SHA-512`);
  return { data: Buffer.from(armored), hashType, fingerprint: Buffer.from(k.fingerprint, 'hex') };
}

/** The groups to sign and, per group, the objects the signature covers. */
function targets(image: SifImage, opts: SignOptions): { group: number; objects: Descriptor[] }[] {
  const file = image.path;
  if (opts.objects?.length) {
    const byGroup = new Map<number, Descriptor[]>();
    for (const id of opts.objects) {
      const d = findDescriptor(image, id);
      if (d.dataType === DataType.Signature) throw new SifInputError(`${file}: object ${id} is a signature: sign the objects it covers`);
      if (d.group === 0) throw new SifInputError(`${file}: object ${id} belongs to no group, and signatures cover objects of a group: add it to one (sif add --groupid) or sign another object`);
      byGroup.set(d.group, [...(byGroup.get(d.group) ?? []).filter((x) => x.id !== id), d]);
    }
    return [...byGroup.entries()].sort(([a], [b]) => a - b).map(([group, objects]) => ({ group, objects }));
  }
  if (opts.group !== undefined) {
    const objects = groupObjects(image, opts.group);
    if (objects.length === 0) throw new SifInputError(`${file}: group ${opts.group} has no objects: see the groups with \`sifkube sif list ${file}\``);
    return [{ group: opts.group, objects }];
  }
  const groups = [...new Set(image.descriptors.filter((d) => d.group > 0 && d.dataType !== DataType.Signature).map((d) => d.group))].sort((a, b) => a - b);
  if (groups.length === 0) throw new SifWriteError(file, 'no object belongs to a group, so there is nothing to sign: signatures cover groups (sif add --groupid)');
  return groups.map((group) => ({ group, objects: groupObjects(image, group) }));
}

/**
 * Signs `file` in place: a signature object per signed group and per OpenPGP key (or per DSSE
 * envelope). The objects are read once, whatever the number of keys.
 */
export async function signSif(file: string, opts: SignOptions): Promise<SignResult> {
  if (opts.keys.length === 0) throw new SifInputError('no key given: pass --key FILE, a private key (`sifkube key new` writes one)');
  const keys = await Promise.all(opts.keys.map((k) => loadSigningKey(k)));
  const image = readSif(file);
  const src = openSource(file);
  const metadata: { group: number; covers: number[]; json: string }[] = [];
  try {
    for (const t of targets(image, opts)) {
      metadata.push({ group: t.group, covers: t.objects.map((d) => d.id).sort((a, b) => a - b), json: JSON.stringify(await imageMetadata(image, src, t.group, t.objects)) });
    }
  } finally {
    src.close();
  }
  const pem = keys.filter((k): k is Extract<SigningKey, { kind: 'pem' }> => k.kind === 'pem');
  // Every signature is made before the first is written, and the slots are counted: a failure
  // leaves the image as it was, not signed in part.
  const made: { md: (typeof metadata)[number]; format: 'pgp' | 'dsse'; signed: Signed; signers: string[] }[] = [];
  for (const md of metadata) {
    for (const k of keys) if (k.kind === 'pgp') made.push({ md, format: 'pgp', signed: await signPgp(k, md.json), signers: [k.fingerprint] });
    if (pem.length > 0) made.push({ md, format: 'dsse', signed: signDsse(pem, md.json), signers: pem.map((k) => k.fingerprint) });
  }
  if (made.length > image.header.descriptorsFree) {
    throw new SifWriteError(file, `${made.length} signature objects need ${made.length} free descriptor slots, the image has ${image.header.descriptorsFree}: delete objects (sif del) or rebuild it with more descriptors`);
  }
  const result: SignResult = { file, signatures: [] };
  for (const { md, format, signed, signers } of made) {
    const id = addObject(file, { dataType: DataType.Signature, data: signed.data, group: 0, link: { id: md.group, isGroup: true }, signature: { hashType: signed.hashType, fingerprint: signed.fingerprint } }, opts);
    result.signatures.push({ id, format, group: md.group, covers: md.covers, signers });
  }
  return result;
}
