import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { formatHeader, headerJson, readSif } from '../../sif/index.js';

export default class SifHeader extends SifkubeCommand {
  static summary = 'Show the global header of a SIF image (like siftool header)';
  static args = { file: Args.string({ required: true, description: 'SIF image' }) };
  static flags = { json: Flags.boolean({ description: 'print the header as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifHeader);
    const image = readSif(args.file);
    if (flags.json) this.printJson(headerJson(image));
    else process.stdout.write(formatHeader(image));
  }
}
