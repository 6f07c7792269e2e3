import { Args } from '@oclif/core';
import { positiveInt } from '../../cli/args.js';
import { SifkubeCommand } from '../../cli/command.js';
import { setPrimary } from '../../sif/index.js';

export default class SifSetprim extends SifkubeCommand {
  static summary = 'Make a system partition the primary partition of a SIF image (like siftool setprim)';
  static args = {
    file: Args.string({ required: true, description: 'SIF image' }),
    id: Args.string({ required: true, description: 'partition object ID' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(SifSetprim);
    setPrimary(args.file, positiveInt('object ID', args.id));
  }
}
