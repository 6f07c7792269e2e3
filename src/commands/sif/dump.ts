import { Args } from '@oclif/core';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { positiveInt } from '../../cli/args.js';
import { SifkubeCommand } from '../../cli/command.js';
import { findDescriptor, readSif } from '../../sif/index.js';

export default class SifDump extends SifkubeCommand {
  static summary = 'Write the data of one object of a SIF image to standard output (like siftool dump)';
  static args = {
    file: Args.string({ required: true, description: 'SIF image' }),
    id: Args.string({ required: true, description: 'object ID' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(SifDump);
    const d = findDescriptor(readSif(args.file), positiveInt('object ID', args.id));
    if (d.size === 0) return;
    await pipeline(createReadStream(args.file, { start: d.offset, end: d.offset + d.size - 1 }), process.stdout, { end: false });
  }
}
