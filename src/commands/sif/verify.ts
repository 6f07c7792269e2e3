import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { loadKeys, SifVerifyError, verifySif } from '../../sif/index.js';

export default class SifVerify extends SifkubeCommand {
  static summary = 'Verify the signatures of a SIF image (PGP, legacy PGP, DSSE)';
  static description = 'Checks every signature object over the header, descriptors and objects it covers; prints each signature with its signers and covered objects; exits non-zero on any failure.';
  static args = { file: Args.string({ required: true, description: 'SIF image' }) };
  static flags = {
    key: Flags.string({ multiple: true, required: true, description: 'key file: armored OpenPGP key, or PEM public key (ECDSA, Ed25519, RSA); repeatable' }),
    json: Flags.boolean({ description: 'print the report as JSON' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifVerify);
    const report = await verifySif(args.file, await loadKeys(flags.key));
    if (flags.json) this.printJson(report);
    else {
      for (const s of report.signatures) {
        const what = `signature ${s.signatureId} (${s.format}) covering objects ${s.covers.join(', ') || '-'}`;
        this.log(s.ok ? `ok    ${what}, signed by ${s.signers.join(', ')}` : `FAIL  signature ${s.signatureId} (${s.format}): ${s.error}`);
      }
    }
    const bad = report.signatures.find((s) => !s.ok);
    if (bad) throw new SifVerifyError(args.file, `signature ${bad.signatureId}: ${bad.error}`);
  }
}
