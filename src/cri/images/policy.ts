import { statSync } from 'node:fs';
import { parseKeyring, readKeyring, unsignedReason, unsignedRefusal, type VerifyKeys } from '../../sif/index.js';
import { FailedPreconditionError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ImageRecord } from './store.js';

/**
 * `requireSigned`: containers only from SIFs that keys of the keyring signed. A verdict is kept per
 * image digest and file identity (a local.file/ SIF can be rewritten in place), so only the first
 * container of an image pays for reading it.
 */
export class SignedImagePolicy {
  private keys?: Promise<VerifyKeys>;
  private readonly verdicts = new Map<string, Promise<string | undefined>>();

  constructor(
    readonly keyring: string,
    private readonly log: Logger,
  ) {}

  /** Throws FailedPrecondition (the kubelet shows it in the pod's events) when the image fails. */
  async check(image: string, rec: ImageRecord): Promise<void> {
    const st = statSync(rec.sif, { bigint: true });
    const key = `${rec.id}:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    let verdict = this.verdicts.get(key);
    if (!verdict) {
      this.keys ??= parseKeyring(readKeyring(this.keyring), this.keyring);
      verdict = this.keys.then((keys) => unsignedReason(rec.sif, keys));
      this.verdicts.set(key, verdict);
      // A keyring or read failure is not a verdict: the next creation tries again.
      verdict.catch(() => {
        this.verdicts.delete(key);
        this.keys = undefined;
      });
      verdict.then((r) => this.log.info(`image ${rec.id.slice(0, 19)} (${rec.sif}) ${r ? `refused: ${r}` : 'signed by a keyring key'}`), () => undefined);
    }
    const reason = await verdict;
    if (!reason) return;
    // Only a local.file/ SIF is the user's own file; a store copy is re-signed by loading a signed SIF.
    const { problem, fix } = unsignedRefusal(reason, rec.external ? rec.sif : undefined);
    // A registry image is converted to a SIF here, and nobody signed that SIF.
    const pulled = !rec.external && rec.repoDigests.length > 0 ? ' (an image pulled from a registry is converted to an unsigned SIF: sign a SIF of it and `sifkube image load` that)' : '';
    // The kubelet names images by ID: the tags say which one it is (a local.file/ tag gets `:latest`).
    const names = [...rec.repoTags, ...rec.repoDigests].filter((n) => n !== image && n !== `${image}:latest`);
    throw new FailedPreconditionError(`image ${image}${names.length ? ` (${names.join(', ')})` : ''}: ${problem}: ${fix}${pulled}`);
  }
}
