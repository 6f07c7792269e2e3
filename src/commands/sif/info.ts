import { Args, Flags } from '@oclif/core';
import { positiveInt } from '../../cli/args.js';
import { SifkubeCommand } from '../../cli/command.js';
import { descriptorJson, findDescriptor, formatInfo, readSif } from '../../sif/index.js';

export default class SifInfo extends SifkubeCommand {
  static summary = 'Show one data object of a SIF image (like siftool info)';
  static args = {
    file: Args.string({ required: true, description: 'SIF image' }),
    id: Args.string({ required: true, description: 'object ID' }),
  };
  static flags = { json: Flags.boolean({ description: 'print the object as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifInfo);
    const d = findDescriptor(readSif(args.file), positiveInt('object ID', args.id));
    if (flags.json) this.printJson(descriptorJson(d));
    else process.stdout.write(formatInfo(d));
  }
}
