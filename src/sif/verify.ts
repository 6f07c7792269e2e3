/**
 * Signature verification, in the formats of the reference library's pkg/integrity:
 * - PGP: a clear-signed OpenPGP message whose text is the image metadata JSON
 *   ({version, header: {digest}, objects: [{relativeId, descriptorDigest, objectDigest}]});
 * - DSSE: a JSON envelope (payload type application/vnd.sylabs.sif-metadata+json) around the same
 *   JSON, signed over the DSSE pre-authentication encoding with ECDSA, Ed25519 or RSA keys;
 * - legacy: a clear-signed "SIFHASH:\n<hex digest>" over one object (linked by object ID) or over
 *   the concatenated data of a group's objects (linked by group).
 * A signature object links to the group (or object) it covers.
 */
import { createHash, verify as cryptoVerify } from 'node:crypto';
// openpgp is loaded only when verifying: it is large, and every other command would pay for it.
import type * as OpenPGP from 'openpgp';
const pgp = () => import('openpgp');
import { DataType, type Descriptor } from './format.js';
import { descriptorIntegrityBytes, groupObjects, hashObjects, headerIntegrityBytes, METADATA_MEDIA_TYPE, pae, pemFingerprint, type ImageMetadata } from './integrity.js';
import { SifInputError, SifVerifyError } from './errors.js';
import type { VerifyKeys } from './keys.js';
import { findDescriptor, openSource, readSif, type ByteSource, type SifImage } from './read.js';

export interface SignatureResult {
  signatureId: number;
  format: 'pgp' | 'dsse' | 'legacy';
  /** IDs of the objects this signature covers. */
  covers: number[];
  /** Fingerprints of the keys that made a valid signature (OpenPGP: 40 hex; PEM: sha256 of the public key DER). */
  signers: string[];
  ok: boolean;
  error?: string;
}

export interface VerifyReport {
  file: string;
  ok: boolean;
  signatures: SignatureResult[];
}

/** Node's name for a SIF hash type (legacy signatures) or a digest prefix (metadata). */
const SIF_HASHES: Record<number, string> = { 1: 'sha256', 2: 'sha384', 3: 'sha512', 4: 'blake2s256' };
const DIGEST_HASHES: Record<string, string> = { sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', sha512_224: 'sha512-224', sha512_256: 'sha512-256' };

class Failure extends Error {}

async function checkDigest(src: ByteSource, text: unknown, what: string, data: Buffer | Descriptor[]): Promise<void> {
  const m = typeof text === 'string' ? /^([a-z0-9_]+):([0-9a-f]+)$/.exec(text) : null;
  const algo = m ? DIGEST_HASHES[m[1]] : undefined;
  if (!m || !algo) throw new Failure(`malformed digest for ${what}`);
  const got = Buffer.isBuffer(data) ? createHash(algo).update(data).digest('hex') : await hashObjects(src, algo, data);
  if (got !== m[2]) throw new Failure(`${what} integrity compromised (digest mismatch)`);
}

/**
 * Checks image metadata JSON against the image; returns the covered object IDs. With `only`, just
 * those objects are checked and must be covered (the rest of the group may be unsigned).
 */
async function checkMetadata(image: SifImage, src: ByteSource, sig: Descriptor, json: string, only?: number[]): Promise<number[]> {
  if (!sig.linkIsGroup || sig.link === 0) throw new Failure('a metadata signature must link to a group');
  let md: ImageMetadata;
  try {
    md = JSON.parse(json) as ImageMetadata;
  } catch {
    throw new Failure('signed message is not image metadata JSON');
  }
  if (md?.version !== 1 || !Array.isArray(md.objects)) throw new Failure('unsupported image metadata version');
  await checkDigest(src, md.header?.digest, 'global header', headerIntegrityBytes(image));
  const members = groupObjects(image, sig.link);
  if (members.length === 0) throw new Failure(`signed group ${sig.link} has no objects`);
  const minId = Math.min(...members.map((d) => d.id));
  const covered: number[] = [];
  for (const om of md.objects) {
    const id = minId + Number(om.relativeId);
    const d = members.find((x) => x.id === id);
    if (!d) throw new Failure(`signed object ${id} not found in group ${sig.link}`);
    if (only && !only.includes(id)) continue;
    await checkDigest(src, om.descriptorDigest, `object ${id} descriptor`, descriptorIntegrityBytes(image, d, id - minId));
    await checkDigest(src, om.objectDigest, `object ${id} data`, [d]);
    covered.push(id);
  }
  const unsigned = members.filter((d) => !covered.includes(d.id) && (!only || only.includes(d.id))).map((d) => d.id);
  if (unsigned.length > 0) throw new Failure(`object(s) ${unsigned.join(', ')} of group ${sig.link} not covered by the signature`);
  return covered.sort((a, b) => a - b);
}

/** Verifies a clear-signed message; returns its text and the primary fingerprint of the signer. */
async function checkClearsign(text: string, keys: VerifyKeys): Promise<{ text: string; fingerprint: string }> {
  if (keys.pgp.length === 0) throw new Failure('an OpenPGP signature needs an OpenPGP key: pass --key with an armored key');
  const openpgp = await pgp();
  let message: OpenPGP.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: text });
  } catch (err) {
    throw new Failure(`malformed clear-signed message (${(err as Error).message.split('\n')[0]})`);
  }
  // A key whose self-signatures were renewed after it signed (the reference test key is one) is
  // still accepted when it is valid now, as the reference verifier (go-crypto) accepts it.
  const config = { allowInsecureVerificationWithReformattedKeys: true };
  const res = await openpgp.verify({ message, verificationKeys: keys.pgp, config });
  for (const s of res.signatures) {
    try {
      await s.verified;
    } catch {
      continue;
    }
    const key = keys.pgp.find((k) => k.getKeys(s.keyID).length > 0);
    if (key) return { text: message.getText(), fingerprint: key.getFingerprint().toUpperCase() };
  }
  throw new Failure('OpenPGP signature not valid for the given keys');
}

function checkDsse(envelopeText: string, keys: VerifyKeys, hash: string): { payload: string; signers: string[] } {
  if (keys.pem.length === 0) throw new Failure('a DSSE signature needs a PEM public key: pass --key with a PEM file');
  let env: { payloadType?: unknown; payload?: unknown; signatures?: unknown };
  try {
    env = JSON.parse(envelopeText) as typeof env;
  } catch {
    throw new Failure('malformed DSSE envelope');
  }
  if (env.payloadType !== METADATA_MEDIA_TYPE) throw new Failure(`unexpected DSSE payload type ${JSON.stringify(env.payloadType)}`);
  if (typeof env.payload !== 'string' || !Array.isArray(env.signatures)) throw new Failure('malformed DSSE envelope');
  const body = Buffer.from(env.payload, 'base64');
  const message = pae(METADATA_MEDIA_TYPE, body);
  const signers = new Set<string>();
  for (const s of env.signatures as { sig?: unknown }[]) {
    if (typeof s?.sig !== 'string') continue;
    const sig = Buffer.from(s.sig, 'base64');
    for (const { key } of keys.pem) {
      const algo = key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' ? null : hash;
      let ok = false;
      try {
        ok = cryptoVerify(algo, message, key, sig);
      } catch {
        ok = false;
      }
      if (ok) signers.add(pemFingerprint(key));
    }
  }
  if (signers.size === 0) throw new Failure('DSSE signature not valid for the given keys');
  return { payload: body.toString('utf8'), signers: [...signers] };
}

async function checkSignature(image: SifImage, src: ByteSource, sig: Descriptor, keys: VerifyKeys, only?: number[]): Promise<SignatureResult> {
  const result: SignatureResult = { signatureId: sig.id, format: 'pgp', covers: [], signers: [], ok: false };
  try {
    const text = src.read(sig.offset, sig.size).toString('utf8');
    if (text.trimStart().startsWith('{')) {
      result.format = 'dsse';
      const hash = SIF_HASHES[sig.signature?.hashType ?? 1] ?? 'sha256';
      const { payload, signers } = checkDsse(text, keys, hash);
      result.signers = signers;
      result.covers = await checkMetadata(image, src, sig, payload, only);
    } else {
      const { text: plain, fingerprint } = await checkClearsign(text, keys);
      result.signers = [fingerprint];
      const entity = sig.signature?.entity ?? '';
      if (entity !== '' && entity !== fingerprint) throw new Failure(`signing key ${fingerprint} does not match the fingerprint ${entity} in the descriptor`);
      if (plain.startsWith('SIFHASH:')) {
        result.format = 'legacy';
        const algo = SIF_HASHES[sig.signature?.hashType ?? 0];
        if (!algo) throw new Failure(`hash type ${sig.signature?.hashType} is not supported`);
        const covered = sig.linkIsGroup ? groupObjects(image, sig.link) : image.descriptors.filter((d) => d.id === sig.link);
        if (covered.length === 0) throw new Failure(`signed ${sig.linkIsGroup ? 'group' : 'object'} ${sig.link} not found`);
        const want = plain.slice('SIFHASH:'.length).trim();
        if ((await hashObjects(src, algo, covered)) !== want) throw new Failure(`object(s) ${covered.map((d) => d.id).join(', ')} integrity compromised (digest mismatch)`);
        result.covers = covered.map((d) => d.id);
      } else {
        result.covers = await checkMetadata(image, src, sig, plain, only);
      }
    }
    result.ok = true;
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    result.error = err.message;
  }
  return result;
}

/** What to verify: every signature (default), those of one group, or those covering some objects. */
export interface VerifySelection {
  group?: number;
  /** Only these objects are checked, so a signature may cover part of their group (as `sif sign --object`). */
  objects?: number[];
}

/** The signatures the selection asks for: linked to the group, or to the objects or their groups. */
function selectSignatures(image: SifImage, sel: VerifySelection): Descriptor[] {
  const all = image.descriptors.filter((d) => d.dataType === DataType.Signature);
  const groupOf = (id: number) => image.descriptors.find((d) => d.id === id)?.group;
  if (sel.group !== undefined) return all.filter((s) => (s.linkIsGroup ? s.link : groupOf(s.link)) === sel.group);
  if (sel.objects?.length) {
    const objects = sel.objects.map((id) => findDescriptor(image, id));
    return all.filter((s) => objects.some((o) => (s.linkIsGroup ? o.group === s.link : o.id === s.link)));
  }
  return all;
}

/** Verifies every (selected) signature object in the image. Fails when there is none. */
export async function verifySif(file: string, keys: VerifyKeys, sel: VerifySelection = {}): Promise<VerifyReport> {
  if (keys.pgp.length === 0 && keys.pem.length === 0) throw new SifInputError('no key given: pass --key FILE (an armored OpenPGP key or a PEM public key)');
  const image = readSif(file);
  const sigs = selectSignatures(image, sel);
  if (sigs.length === 0) {
    const what = sel.group !== undefined ? `group ${sel.group} has` : sel.objects?.length ? `object(s) ${sel.objects.join(', ')} have` : 'the image has';
    throw new SifVerifyError(file, `${what} no signature objects: sign it first`);
  }
  const signatures: SignatureResult[] = [];
  const src = openSource(file);
  try {
    for (const sig of sigs) signatures.push(await checkSignature(image, src, sig, keys, sel.objects?.length ? sel.objects : undefined));
  } finally {
    src.close();
  }
  return { file, ok: signatures.every((s) => s.ok), signatures };
}
