import { Args, Flags } from '@oclif/core';
import { keyValues } from '../cli/args.js';
import { SifkubeCommand } from '../cli/command.js';
import { requireRoot } from '../errors.js';
import { buildWithProgress } from '../cli/build-progress.js';
import { COMPRESSIONS, DEFAULT_COMPRESSION, type Compression } from '../sif/index.js';

export default class Build extends SifkubeCommand {
  static summary = 'Build a SIF image from a Singularity definition file';
  static description = 'Bootstrap agents localimage, scratch, docker/oci, debootstrap; %post runs inside the image with sifkube\'s runtime and the host\'s network. Unchanged rebuilds come from the build cache. Needs root.';
  static args = {
    out: Args.string({ required: true, description: 'SIF image to write' }),
    definition: Args.string({ required: true, description: 'definition file' }),
  };
  static flags = {
    'build-arg': Flags.string({ multiple: true, multipleNonGreedy: true, description: 'value for {{ NAME }} in the definition, NAME=VALUE; repeatable' }),
    notest: Flags.boolean({ description: 'skip %test' }),
    deterministic: Flags.boolean({ description: 'same inputs, same bytes: no times, nil image ID' }),
    force: Flags.boolean({ char: 'F', description: 'replace OUT if it exists' }),
    sign: Flags.string({ multiple: true, multipleNonGreedy: true, description: 'sign the image with this private key (sifkube key new); repeatable' }),
    'no-cache': Flags.boolean({ description: 'build from scratch, neither reading nor filling the build cache' }),
    'cache-dir': Flags.string({ description: 'build cache folder', default: '/var/lib/sifkube/build-cache' }),
    tmpdir: Flags.string({ description: 'folder for the build\'s scratch files (stage root filesystems, logs)', default: '/var/lib/sifkube/build' }),
    'registry-config': Flags.string({ description: 'CRI configuration file whose registry section (mirrors, auths, plainHttp) Docker base images are pulled with' }),
    compression: Flags.string({ options: [...COMPRESSIONS], default: DEFAULT_COMPRESSION, description: 'squashfs compression' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Build);
    requireRoot('sifkube build');
    const r = await buildWithProgress({
      out: args.out, definition: args.definition, buildArgs: keyValues('--build-arg', flags['build-arg']), noTest: flags.notest,
      deterministic: flags.deterministic, force: flags.force, sign: flags.sign, noCache: flags['no-cache'], cacheDir: flags['cache-dir'], workDir: flags.tmpdir,
      registry: flags['registry-config'] ? (await import('../cri/index.js')).loadCriConfig(flags['registry-config']).registry : undefined, compression: flags.compression as Compression,
    });
    for (const w of r.warnings) this.warn(w);
    this.log(`${r.out}: ${r.cached ? 'from the build cache' : 'built'} in ${(r.ms / 1000).toFixed(1)} s${r.signatures.length ? `, ${r.signatures.length} signature(s)` : ''}`);
  }
}
