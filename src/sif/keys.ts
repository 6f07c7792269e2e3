/**
 * Key files for signing and verifying SIF images: armored OpenPGP keys and PEM keys (ECDSA, Ed25519,
 * RSA), one or several blocks per file; keyrings (a file of public keys, or a folder of them); new
 * key pairs for `sifkube key new`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
// openpgp is loaded only when a key is read: it is large, and every other command would pay for it.
import type * as OpenPGP from 'openpgp';
import { SifInputError, SifKeyError } from './errors.js';
import { pemFingerprint } from './integrity.js';

const pgp = () => import('openpgp');

export const KEY_TYPES = ['pgp', 'ecdsa', 'ed25519', 'rsa'] as const;
export type KeyType = (typeof KEY_TYPES)[number];
type PemType = Exclude<KeyType, 'pgp'>;

export interface VerifyKeys {
  pgp: OpenPGP.Key[];
  pem: { file: string; key: KeyObject }[];
}

/** A private key that can sign: OpenPGP (clear-signed metadata) or PEM (DSSE envelope). */
export type SigningKey =
  | { kind: 'pgp'; file: string; key: OpenPGP.PrivateKey; fingerprint: string }
  | { kind: 'pem'; file: string; key: KeyObject; type: PemType; fingerprint: string };

export interface KeyInfo {
  file: string;
  /** pgp, ecdsa, ed25519, rsa, or Node's name of another PEM key type (which cannot sign SIFs) */
  type: string;
  private: boolean;
  /** OpenPGP: the 40-hex primary key fingerprint; PEM: the SHA-256 of the public key, as `sif verify` prints signers. */
  fingerprint: string;
  /** OpenPGP user IDs. */
  users: string[];
}

/** File names a key folder's keys have (what `key new` writes, and the usual armored/PEM names). */
const KEY_FILE = /\.(key|pub|asc|pem)$/;
const PUBLIC_FILE = /\.(pub|asc|pem)$/;
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const PUBLIC_ONLY_FIX = 'a keyring holds public keys only: pass the .pub file(s) `sifkube key new` wrote';

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SifKeyError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`, 'check the path');
  }
}

function pemType(key: KeyObject): PemType | undefined {
  return ({ ec: 'ecdsa', ed25519: 'ed25519', rsa: 'rsa' } as Record<string, PemType>)[key.asymmetricKeyType ?? ''];
}

/** Every key block of a file, public halves; `publicOnly` refuses private keys (keyrings). */
async function parseBlocks(text: string, file: string, publicOnly: boolean): Promise<VerifyKeys> {
  const keys: VerifyKeys = { pgp: [], pem: [] };
  const blocks = [...text.matchAll(BLOCK)];
  if (blocks.length === 0) throw new SifKeyError(file, 'no armored OpenPGP key or PEM block in it');
  for (const [block, label] of blocks) {
    const isPrivate = label.includes('PRIVATE');
    if (isPrivate && publicOnly) throw new SifKeyError(file, 'it holds a private key', PUBLIC_ONLY_FIX);
    try {
      if (label === 'PGP PUBLIC KEY BLOCK') keys.pgp.push(...(await (await pgp()).readKeys({ armoredKeys: block })));
      else if (label === 'PGP PRIVATE KEY BLOCK') keys.pgp.push(...(await (await pgp()).readPrivateKeys({ armoredKeys: block })).map((k) => k.toPublic()));
      else if (label.endsWith('PUBLIC KEY') || label.endsWith('PRIVATE KEY')) keys.pem.push({ file, key: createPublicKey(block) });
      else throw new Error(`a "${label}" block is not a key`);
    } catch (err) {
      throw new SifKeyError(file, (err as Error).message.split('\n')[0]);
    }
  }
  return keys;
}

/** Reads key files for `sif verify`: armored OpenPGP keys and PEM keys, public or private (their public halves are used). */
export async function loadKeys(files: string[]): Promise<VerifyKeys> {
  const keys: VerifyKeys = { pgp: [], pem: [] };
  for (const file of files) {
    const k = await parseBlocks(readText(file), file, false);
    keys.pgp.push(...k.pgp);
    keys.pem.push(...k.pem);
  }
  return keys;
}

/** A keyring's text: the file itself, or every public key file of a folder, concatenated. */
export function readKeyring(path: string): string {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new SifKeyError(path, `cannot read the keyring (${(err as NodeJS.ErrnoException).code ?? err})`, 'pass a file of public keys, or a folder holding .pub files');
  }
  if (!isDir) return readText(path);
  const files = readdirSync(path).filter((f) => PUBLIC_FILE.test(f)).sort();
  if (files.length === 0) throw new SifKeyError(path, 'the keyring folder holds no .pub, .asc or .pem file', 'put public keys in it (`sifkube key new --out DIR` writes NAME.pub)');
  return files.map((f) => readText(join(path, f))).join('\n');
}

/** Parses a keyring's text (public keys only); `source` names it in errors. */
export async function parseKeyring(text: string, source: string): Promise<VerifyKeys> {
  return parseBlocks(text, source, true);
}

export async function loadKeyring(path: string): Promise<VerifyKeys> {
  return parseKeyring(readKeyring(path), path);
}

/** Reads one private key for signing; a public key, a protected or an unsupported key is refused. */
export async function loadSigningKey(file: string): Promise<SigningKey> {
  const text = readText(file);
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
  if (!label) throw new SifKeyError(file, 'no armored OpenPGP key or PEM block in it', 'pass a private key file (`sifkube key new` writes NAME.key)');
  if (!label.includes('PRIVATE')) throw new SifKeyError(file, 'it is a public key, which cannot sign', 'pass the private key (the .key file `sifkube key new` wrote beside the .pub)');
  if (label === 'PGP PRIVATE KEY BLOCK') {
    const openpgp = await pgp();
    let key: OpenPGP.PrivateKey;
    try {
      key = await openpgp.readPrivateKey({ armoredKey: text });
    } catch (err) {
      throw new SifKeyError(file, (err as Error).message.split('\n')[0], 'pass an armored OpenPGP private key');
    }
    if (!key.isDecrypted()) throw new SifKeyError(file, 'the key is protected by a passphrase', 'export it without one (gpg --passwd), or make a key with `sifkube key new`');
    // The descriptor stores a 20-byte fingerprint, as the reference tools read it: v6 keys have 32.
    if (key.keyPacket.version !== 4) throw new SifKeyError(file, `an OpenPGP v${key.keyPacket.version} key`, 'use an OpenPGP v4 key (what gpg and `sifkube key new` make)');
    return { kind: 'pgp', file, key, fingerprint: key.getFingerprint().toUpperCase() };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    const msg = (err as Error).message;
    throw new SifKeyError(file, /passphrase/i.test(msg) ? 'the key is encrypted' : msg.split('\n')[0], 'pass an unencrypted PEM private key (PKCS#8, as `sifkube key new` writes)');
  }
  const type = pemType(key);
  if (!type) throw new SifKeyError(file, `${key.asymmetricKeyType} keys cannot sign SIF images`, 'use an ECDSA, Ed25519, RSA or OpenPGP key (`sifkube key new --type ...`)');
  return { kind: 'pem', file, key, type, fingerprint: pemFingerprint(createPublicKey(key)) };
}

/** What each key file of a folder holds. */
export async function listKeys(dir: string): Promise<KeyInfo[]> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new SifInputError(`${dir}: cannot list the key folder (${(err as NodeJS.ErrnoException).code ?? err}): pass the folder given to \`sifkube key new --out\``);
  }
  const out: KeyInfo[] = [];
  for (const name of names.filter((n) => KEY_FILE.test(n)).sort()) {
    const file = join(dir, name);
    const text = readText(file);
    const isPrivate = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY/.test(text);
    const keys = await parseBlocks(text, file, false);
    for (const k of keys.pgp) out.push({ file, type: 'pgp', private: isPrivate, fingerprint: k.getFingerprint().toUpperCase(), users: k.getUserIDs() });
    for (const { key } of keys.pem) out.push({ file, type: pemType(key) ?? String(key.asymmetricKeyType), private: isPrivate, fingerprint: pemFingerprint(key), users: [] });
  }
  return out;
}

export interface NewKeyOptions {
  type: string;
  /** OpenPGP user ID parts; the name defaults to the login name. */
  name?: string;
  email?: string;
  dir: string;
}

/** Makes a key pair in `dir`: TYPE-FPR.key (mode 0600) and TYPE-FPR.pub. Never overwrites. */
export async function newKey(opts: NewKeyOptions): Promise<{ type: KeyType; privateFile: string; publicFile: string; fingerprint: string }> {
  const type = opts.type as KeyType;
  if (!KEY_TYPES.includes(type)) throw new SifInputError(`--type ${opts.type} is not a key type: use one of ${KEY_TYPES.join(', ')}`);
  if (type !== 'pgp' && (opts.name !== undefined || opts.email !== undefined)) throw new SifInputError(`--name and --email are OpenPGP user IDs: a ${type} key has none (drop them, or use --type pgp)`);
  let privateText: string;
  let publicText: string;
  let fingerprint: string;
  if (type === 'pgp') {
    const openpgp = await pgp();
    const userID = { name: opts.name ?? userInfo().username, ...(opts.email ? { email: opts.email } : {}) };
    const k = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [userID], format: 'object' });
    privateText = k.privateKey.armor();
    publicText = k.publicKey.armor();
    fingerprint = k.privateKey.getFingerprint().toUpperCase();
  } else {
    const pair =
      type === 'ecdsa' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 3072 });
    privateText = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    publicText = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    fingerprint = pemFingerprint(pair.publicKey);
  }
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const base = join(opts.dir, `${type}-${fingerprint.slice(0, 16).toLowerCase()}`);
  const write = (file: string, text: string, mode: number) => {
    try {
      writeFileSync(file, text, { mode, flag: 'wx' });
    } catch (err) {
      throw new SifInputError(`${file}: cannot write the key (${(err as NodeJS.ErrnoException).code ?? err}): pass another --out folder`);
    }
  };
  write(`${base}.key`, privateText, 0o600);
  write(`${base}.pub`, publicText, 0o644);
  return { type, privateFile: `${base}.key`, publicFile: `${base}.pub`, fingerprint };
}
