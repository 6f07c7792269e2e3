import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { KEY_TYPES, newKey } from '../../sif/index.js';

export default class KeyNew extends SifkubeCommand {
  static summary = 'Make a signing key pair for SIF images';
  static description =
    'Writes TYPE-FINGERPRINT.key (the private key, mode 0600) and TYPE-FINGERPRINT.pub into --out. pgp: an OpenPGP Ed25519 key (clear-signed signatures); ecdsa (P-256), ed25519, rsa (3072 bits): PEM keys (DSSE signatures). Give the .key to `sif sign --key`, the .pub (or the folder) to `sif verify --key` and `init --require-signed`.';
  static flags = {
    type: Flags.string({ description: `key type: ${KEY_TYPES.join(', ')}`, default: 'pgp' }),
    name: Flags.string({ description: 'OpenPGP user ID name (default: the login name)' }),
    email: Flags.string({ description: 'OpenPGP user ID email' }),
    out: Flags.string({ required: true, description: 'folder to write the key pair into (created when missing)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(KeyNew);
    const k = await newKey({ type: flags.type, name: flags.name, email: flags.email, dir: flags.out });
    this.log(`${k.type} key ${k.fingerprint}\n  private: ${k.privateFile}\n  public:  ${k.publicFile}`);
  }
}
