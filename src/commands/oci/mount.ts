import { Args } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { requireRoot } from '../../errors.js';
import { mountBundle } from '../../runtime/index.js';

export default class OciMount extends SifkubeCommand {
  static summary = 'Turn a SIF image into an OCI bundle (read-only image under a tmpfs overlay, config.json from the image)';
  static args = {
    image: Args.string({ required: true, description: 'SIF image' }),
    bundle: Args.string({ required: true, description: 'new or empty folder for the bundle' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(OciMount);
    requireRoot('sifkube oci mount');
    const { bundle } = mountBundle(args.image, args.bundle);
    this.log(`${args.image} is an OCI bundle in ${bundle}: run it with sifkube-oci run --bundle ${bundle} ID`);
  }
}
