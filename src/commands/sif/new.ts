import { Args, Flags } from '@oclif/core';
import { positiveInt } from '../../cli/args.js';
import { SifkubeCommand } from '../../cli/command.js';
import { createSif } from '../../sif/index.js';

export default class SifNew extends SifkubeCommand {
  static summary = 'Create an empty SIF image (like siftool new)';
  static args = { file: Args.string({ required: true, description: 'SIF image to create (replaced if it exists)' }) };
  static flags = {
    'launch-script': Flags.string({ description: 'first line of the image (at most 31 bytes), e.g. "#!/usr/bin/env run-singularity\\n"' }),
    id: Flags.string({ description: 'image ID (a UUID); random by default, nil with --deterministic' }),
    deterministic: Flags.boolean({ description: 'no times and a nil ID, for reproducible images' }),
    descriptors: Flags.string({ description: 'number of descriptor slots', default: '48' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifNew);
    const launchScript = flags['launch-script']?.replace(/\\n/g, '\n');
    createSif(args.file, { launchScript, id: flags.id, deterministic: flags.deterministic, descriptorsTotal: positiveInt('--descriptors', flags.descriptors) });
  }
}
