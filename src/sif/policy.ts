/**
 * The signed-images policy (`requireSigned`): an image passes when signatures made by keys of the
 * keyring, in the metadata formats (PGP or DSSE: they cover the header and descriptors too), verify
 * and together cover every object of the image. Legacy signatures cover object data only: they do
 * not count.
 */
import { DataType } from './format.js';
import type { VerifyKeys } from './keys.js';
import { readSif } from './read.js';
import { verifySif } from './verify.js';

/** Why `file` fails the policy, or undefined when it passes. */
export async function unsignedReason(file: string, keys: VerifyKeys): Promise<string | undefined> {
  const image = readSif(file);
  if (!image.descriptors.some((d) => d.dataType === DataType.Signature)) return 'the image has no signature';
  const sigs = (await verifySif(file, keys)).signatures;
  const metadata = sigs.filter((s) => s.format !== 'legacy');
  const covered = new Set(metadata.filter((s) => s.ok).flatMap((s) => s.covers));
  const uncovered = image.descriptors.filter((d) => d.dataType !== DataType.Signature && !covered.has(d.id)).map((d) => d.id);
  if (uncovered.length === 0) return undefined;
  if (metadata.length === 0) return 'it carries only legacy signatures, which do not cover the header and descriptors';
  // A signature of a keyring key that no longer matches the bytes: the image changed after signing.
  const broken = metadata.find((s) => !s.ok && !/not valid for the given keys|needs an? (OpenPGP|PEM)/.test(s.error ?? ''));
  if (broken) return `signature ${broken.signatureId} (${broken.format}): ${broken.error}`;
  if (covered.size === 0) return `no key of the keyring made its signature(s): ${metadata.map((s) => `${s.signatureId} (${s.format})`).join(', ')}`;
  return `object(s) ${uncovered.join(', ')} not covered by a signature of a keyring key`;
}

/**
 * The refusal users see (CreateContainer, image load): what failed and how to sign. `file`: the SIF
 * the user can sign (a loaded image's copy in a cluster's store is not one: they sign their own).
 */
export function unsignedRefusal(reason: string, file?: string): { problem: string; fix: string } {
  const how = 'using a private key whose public key is in the keyring';
  return {
    problem: `refused by the signed-images policy (requireSigned): not signed by a key of the keyring: ${reason}`,
    fix: file ? `sign it with \`sifkube sif sign ${file} --key KEY\` ${how}, then use the signed file` : `sign the SIF with \`sifkube sif sign FILE --key KEY\` ${how}, then \`sifkube image load\` the signed file`,
  };
}
