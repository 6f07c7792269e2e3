import { Args } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { requireRoot } from '../../errors.js';
import { unmountBundle } from '../../runtime/index.js';

export default class OciUmount extends SifkubeCommand {
  static summary = 'Undo `sifkube oci mount`: unmount the bundle\'s root filesystem and image, remove its files';
  static args = {
    bundle: Args.string({ required: true, description: 'bundle folder made by sifkube oci mount' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(OciUmount);
    requireRoot('sifkube oci umount');
    unmountBundle(args.bundle);
    this.log(`unmounted ${args.bundle}`);
  }
}
