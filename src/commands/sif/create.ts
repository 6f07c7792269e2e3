import { Args, Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { keyValues } from '../../cli/args.js';
import { SifkubeCommand } from '../../cli/command.js';
import { buildSif, COMPRESSIONS, DEFAULT_COMPRESSION, type ImageConfig, SifInputError } from '../../sif/index.js';

function readText(flag: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SifInputError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code}): check the path`);
  }
}

export default class SifCreate extends SifkubeCommand {
  static summary = 'Build a container SIF from a root filesystem folder';
  static args = { out: Args.string({ required: true, description: 'SIF image to write' }) };
  static flags = {
    rootfs: Flags.string({ required: true, description: 'folder holding the container root filesystem' }),
    runscript: Flags.string({ description: 'file with the runscript (shell)' }),
    definition: Flags.string({ description: 'definition file to store' }),
    env: Flags.string({ multiple: true, description: 'environment variable KEY=VALUE; repeatable' }),
    label: Flags.string({ multiple: true, description: 'label KEY=VALUE; repeatable' }),
    'image-config': Flags.string({ description: 'JSON file with an OCI image config {entrypoint, cmd, env, user, workingDir}' }),
    compression: Flags.string({ options: [...COMPRESSIONS], default: DEFAULT_COMPRESSION, description: 'squashfs compression' }),
    arch: Flags.string({ description: 'architecture of the root filesystem (Go name); this machine\'s by default' }),
    deterministic: Flags.boolean({ description: 'same input, same bytes: no times, nil ID' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SifCreate);
    const configText = readText('--image-config', flags['image-config']);
    let imageConfig: ImageConfig | undefined;
    try {
      imageConfig = configText === undefined ? undefined : (JSON.parse(configText) as ImageConfig);
    } catch {
      throw new SifInputError(`--image-config ${flags['image-config']}: not valid JSON: fix the file`);
    }
    buildSif({
      rootfs: flags.rootfs, out: args.out, runscript: readText('--runscript', flags.runscript), definition: readText('--definition', flags.definition),
      env: keyValues('--env', flags.env), labels: keyValues('--label', flags.label), imageConfig,
      compression: flags.compression as (typeof COMPRESSIONS)[number], arch: flags.arch, deterministic: flags.deterministic,
    });
  }
}
