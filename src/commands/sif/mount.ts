import { Args, Flags } from '@oclif/core';
import { positiveInt } from '../../cli/args.js';
import { SifkubeCommand } from '../../cli/command.js';
import { mountSif } from '../../sif/index.js';

export default class SifMount extends SifkubeCommand {
  static summary = 'Mount the primary squashfs partition of a SIF read-only, straight from the file';
  static args = {
    file: Args.string({ required: true, description: 'SIF image' }),
    dir: Args.string({ required: true, description: 'empty folder to mount on (created if missing)' }),
  };
  static flags = {
    method: Flags.string({ options: ['auto', 'loop', 'squashfuse'], default: 'auto', description: 'kernel loop device, or squashfuse where loop devices are unavailable' }),
    partition: Flags.string({ description: 'mount this partition ID instead of the primary one' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifMount);
    const partitionId = flags.partition === undefined ? undefined : positiveInt('--partition', flags.partition);
    const r = mountSif(args.file, args.dir, { method: flags.method as 'auto' | 'loop' | 'squashfuse', partitionId });
    this.log(`mounted ${args.file} (offset ${r.offset}, ${r.size} bytes) on ${r.dir} with ${r.method}`);
  }
}
