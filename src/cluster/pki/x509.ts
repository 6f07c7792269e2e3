import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

// ECDSA P-256: every Kubernetes component, etcd and OpenSSL accept it, and a key takes well under a
// millisecond to make where RSA-2048 takes tens: init makes about a dozen.
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const SKEW_MS = 5 * 60_000;
const YEAR_MS = 365 * 24 * 3600_000;

/** A key pair with its PEM forms: private key in SEC1 (`EC PRIVATE KEY`), public key in SPKI. */
export interface KeyPair {
  keys: CryptoKeyPair;
  privatePem: string;
  publicPem: string;
}

export interface Issued {
  key: KeyPair;
  cert: x509.X509Certificate;
  certPem: string;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const privatePem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'sec1', format: 'pem' }) as string;
  const publicPem = `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END PUBLIC KEY-----\n`;
  return { keys, privatePem, publicPem };
}

function serial(): string {
  // Positive 128-bit serial: the top bit cleared so DER does not read it as negative.
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

/** A self-signed CA certificate valid ten years. */
export async function createCa(commonName: string): Promise<Issued> {
  const key = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(now + 10 * YEAR_MS),
    signingAlgorithm: ALG,
    keys: key.keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
    ],
  });
  return { key, cert, certPem: cert.toString('pem') + '\n' };
}

/** A CA written by createCa, read back from its PEM files (to sign more leaves later). */
export async function loadCa(certPem: string, keyPem: string): Promise<Issued> {
  const cert = new x509.X509Certificate(certPem);
  const pkcs8 = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, ALG, true, ['sign']);
  const publicKey = await cert.publicKey.export(ALG, ['verify'], webcrypto as unknown as Crypto);
  return { key: { keys: { privateKey, publicKey }, privatePem: keyPem, publicPem: cert.publicKey.toString('pem') }, cert, certPem };
}

export interface LeafSpec {
  commonName: string;
  organizations?: string[];
  usage: ('server' | 'client')[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

/** A leaf certificate signed by `ca`, valid one year. */
export async function issue(ca: Issued, spec: LeafSpec): Promise<Issued> {
  const key = await generateKeyPair();
  const now = Date.now();
  const subject: Record<string, string[]>[] = [];
  for (const o of spec.organizations ?? []) subject.push({ O: [o] });
  subject.push({ CN: [spec.commonName] });
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(spec.usage.map((u) => (u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth))),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
  ];
  const sans = [...(spec.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(spec.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value }))];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(now + YEAR_MS),
    signingAlgorithm: ALG,
    publicKey: key.keys.publicKey,
    signingKey: ca.key.keys.privateKey,
    extensions,
  });
  return { key, cert, certPem: cert.toString('pem') + '\n' };
}
