import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { descriptorJson, formatList, readSif } from '../../sif/index.js';

export default class SifList extends SifkubeCommand {
  static summary = 'List the data objects of a SIF image (like siftool list)';
  static args = { file: Args.string({ required: true, description: 'SIF image' }) };
  static flags = { json: Flags.boolean({ description: 'print the objects as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifList);
    const image = readSif(args.file);
    if (flags.json) this.printJson(image.descriptors.map(descriptorJson));
    else process.stdout.write(formatList(image));
  }
}
