import { Args } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { unmountSif } from '../../sif/index.js';

export default class SifUmount extends SifkubeCommand {
  static summary = 'Unmount a SIF mounted with `sifkube sif mount` (its loop device is released)';
  static args = { dir: Args.string({ required: true, description: 'mount point' }) };

  async run(): Promise<void> {
    const { args } = await this.parse(SifUmount);
    unmountSif(args.dir);
  }
}
