import { Args, Flags } from '@oclif/core';
import { positiveInt } from '../../cli/args.js';
import { SifkubeCommand } from '../../cli/command.js';
import { deleteObject } from '../../sif/index.js';

export default class SifDel extends SifkubeCommand {
  static summary = 'Delete a data object from a SIF image (like siftool del)';
  static args = {
    file: Args.string({ required: true, description: 'SIF image' }),
    id: Args.string({ required: true, description: 'object ID' }),
  };
  static flags = {
    zero: Flags.boolean({ description: 'overwrite the object data with zeros' }),
    compact: Flags.boolean({ description: 'shrink the file when the object was at its end' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifDel);
    deleteObject(args.file, positiveInt('object ID', args.id), { zero: flags.zero, compact: flags.compact });
  }
}
