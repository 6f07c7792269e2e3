import { Args, Flags } from '@oclif/core';
import { positiveInt } from '../../cli/args.js';
import { SifkubeCommand } from '../../cli/command.js';
import { addObject, ARCH_CODES, SifInputError } from '../../sif/index.js';

const code = (name: string, v: number | undefined, max: number) => {
  if (v !== undefined && (v < 1 || v > max)) throw new SifInputError(`${name} ${v} is out of range: give 1..${max}`);
  return v;
};

export default class SifAdd extends SifkubeCommand {
  static summary = 'Add a data object to a SIF image (like siftool add)';
  static description = 'Data types: 1 Def.FILE, 2 Env.Vars, 3 JSON.Labels, 4 FS partition, 5 Signature, 6 JSON.Generic, 7 Generic/Raw, 8 Cryptographic Message, 9 SBOM, 10 OCI.RootIndex, 11 OCI.Blob.';
  static args = {
    file: Args.string({ required: true, description: 'SIF image' }),
    data: Args.string({ required: true, description: 'file holding the object data' }),
  };
  static flags = {
    datatype: Flags.integer({ required: true, description: 'data type, 1..11 (see description)' }),
    name: Flags.string({ description: 'object name' }),
    groupid: Flags.integer({ description: 'group number (default: no group)' }),
    linkid: Flags.integer({ description: 'link to this object ID' }),
    linkgroup: Flags.integer({ description: 'link to this group' }),
    alignment: Flags.integer({ description: 'alignment of the data (default 4096 for partitions, none otherwise)' }),
    partfs: Flags.integer({ description: 'partition filesystem: 1 Squashfs, 2 Ext3, 3 Archive, 4 Raw, 5 Encrypted squashfs', default: 1 }),
    parttype: Flags.integer({ description: 'partition type: 1 System, 2 primary System, 3 Data, 4 Overlay', default: 3 }),
    partarch: Flags.integer({ description: 'partition architecture code: 1 386, 2 amd64, 3 arm, 4 arm64, … 13 loong64', default: 2 }),
    signhash: Flags.integer({ description: 'signature hash: 1 SHA256, 2 SHA384, 3 SHA512, 4 BLAKE2S, 5 BLAKE2B', default: 1 }),
    signentity: Flags.string({ description: 'signer fingerprint (40 hex digits)' }),
    sbomformat: Flags.integer({ description: 'SBOM format: 1 cyclonedx-json … 8 syft-json', default: 1 }),
    deterministic: Flags.boolean({ description: 'no times (for reproducible images)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifAdd);
    const dataType = 0x4000 + (code('--datatype', flags.datatype, 11) ?? 0);
    const arch = String(code('--partarch', flags.partarch, Object.keys(ARCH_CODES).length - 1)).padStart(2, '0');
    if (flags.signentity !== undefined && !/^[0-9a-fA-F]{40}$/.test(flags.signentity)) throw new SifInputError(`--signentity ${flags.signentity} is not a 40-hex-digit fingerprint`);
    const link = flags.linkgroup !== undefined ? { id: positiveInt('--linkgroup', String(flags.linkgroup)), isGroup: true } : flags.linkid !== undefined ? { id: positiveInt('--linkid', String(flags.linkid)), isGroup: false } : undefined;
    const id = addObject(args.file, {
      dataType,
      data: { path: args.data },
      name: flags.name,
      group: flags.groupid ?? 0,
      link,
      alignment: flags.alignment,
      partition: { fsType: code('--partfs', flags.partfs, 5)!, partType: code('--parttype', flags.parttype, 4)!, arch },
      signature: { hashType: code('--signhash', flags.signhash, 5)!, fingerprint: flags.signentity ? Buffer.from(flags.signentity, 'hex') : undefined },
      sbomFormat: code('--sbomformat', flags.sbomformat, 8),
    }, { deterministic: flags.deterministic });
    this.log(String(id));
  }
}
