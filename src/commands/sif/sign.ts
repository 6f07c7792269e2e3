import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { signSif } from '../../sif/index.js';

export default class SifSign extends SifkubeCommand {
  static summary = 'Sign a SIF image (OpenPGP clear-signed metadata, or DSSE for ECDSA, Ed25519 and RSA keys)';
  static description =
    'Adds one signature object per signed group, in the formats of the SIF reference library (what `sifkube sif verify`, `singularity verify` and siftool read). Each OpenPGP key makes its own signature; PEM keys share one DSSE envelope. Signing again with another key adds another signature.';
  static args = { file: Args.string({ required: true, description: 'SIF image (changed in place)' }) };
  static flags = {
    key: Flags.string({ multiple: true, required: true, description: 'private key file: armored OpenPGP, or PEM (ECDSA, Ed25519, RSA); repeatable' }),
    group: Flags.integer({ description: 'sign this group only (default: every group)', exclusive: ['object'], min: 1 }),
    object: Flags.integer({ multiple: true, description: 'sign only this object (repeatable); the signature covers it within its group', min: 1 }),
    deterministic: Flags.boolean({ description: 'no times on the signature objects (for reproducible images)' }),
    json: Flags.boolean({ description: 'print the result as JSON' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifSign);
    const r = await signSif(args.file, { keys: flags.key, group: flags.group, objects: flags.object, deterministic: flags.deterministic || undefined });
    if (flags.json) return this.printJson(r);
    for (const s of r.signatures) this.log(`signature ${s.id} (${s.format}) over group ${s.group}, objects ${s.covers.join(', ')}, by ${s.signers.join(', ')}`);
  }
}
