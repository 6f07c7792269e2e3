import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { requireRoot } from '../../errors.js';
import { DEFAULT_GPU_ROOT, mountBundle } from '../../runtime/index.js';

export default class OciMount extends SifkubeCommand {
  static summary = 'Turn a SIF image into an OCI bundle (read-only image under a tmpfs overlay, config.json from the image)';
  static args = {
    image: Args.string({ required: true, description: 'SIF image' }),
    bundle: Args.string({ required: true, description: 'new or empty folder for the bundle' }),
  };
  static flags = {
    nv: Flags.boolean({ description: "add every NVIDIA GPU to config.json (device nodes, the driver's files read-only, NVIDIA_VISIBLE_DEVICES), as Singularity's --nv" }),
    gpus: Flags.string({ description: 'add these GPUs instead of every one: indexes or UUIDs separated by commas' }),
    'gpu-root': Flags.string({ description: 'root of the NVIDIA driver tree the GPUs are found under', default: DEFAULT_GPU_ROOT }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(OciMount);
    requireRoot('sifkube oci mount');
    const list = flags.gpus?.split(',').map((g) => g.trim());
    const gpus = flags.nv || list ? { gpus: list ?? ['all'], root: flags['gpu-root'] } : undefined;
    const { bundle } = mountBundle(args.image, args.bundle, { gpus });
    this.log(`${args.image} is an OCI bundle in ${bundle}: run it with sifkube-oci run --bundle ${bundle} ID`);
  }
}
