import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { loadKeys, SifVerifyError, verifySif } from '../../sif/index.js';

export default class SifVerify extends SifkubeCommand {
  static summary = 'Verify the signatures of a SIF image (PGP, legacy PGP, DSSE)';
  static description = 'Checks every signature object over the header, descriptors and objects it covers; prints each signature with its signers and covered objects; exits non-zero on any failure.';
  static args = { file: Args.string({ required: true, description: 'SIF image' }) };
  static flags = {
    key: Flags.string({ multiple: true, required: true, description: 'key file: armored OpenPGP key, or PEM public key (ECDSA, Ed25519, RSA); repeatable' }),
    group: Flags.integer({ description: 'verify only the signatures of this group', exclusive: ['object'], min: 1 }),
    object: Flags.integer({ multiple: true, description: 'verify only this object (repeatable): its group may be signed in part, as `sif sign --object` does', min: 1 }),
    json: Flags.boolean({ description: 'print the report as JSON' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifVerify);
    const report = await verifySif(args.file, await loadKeys(flags.key), { group: flags.group, objects: flags.object });
    if (flags.json) this.printJson(report);
    else {
      for (const s of report.signatures) {
        const what = `signature ${s.signatureId} (${s.format}) covering objects ${s.covers.join(', ') || '-'}`;
        // Legacy signatures cover object data only, not the header or descriptors: say so.
        const note = s.format === 'legacy' ? ' (legacy: object data only)' : '';
        this.log(s.ok ? `ok    ${what}, signed by ${s.signers.join(', ')}${note}` : `FAIL  signature ${s.signatureId} (${s.format}): ${s.error}`);
      }
    }
    const bad = report.signatures.find((s) => !s.ok);
    if (bad) throw new SifVerifyError(args.file, `signature ${bad.signatureId}: ${bad.error}`);
  }
}
