import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { FsType, primaryPartition, readImageConfig, readSif } from '../../sif/index.js';
import { DefinitionError, BuildStepError } from '../errors.js';
import { hashFile } from '../inputs.js';
import type { Stage } from '../definition.js';
import type { BootstrapAgent } from './agent.js';

const run = promisify(execFile);

function sifPath(stage: Stage, ctx: { dir: string; file: string }): string {
  const file = resolve(ctx.dir, stage.header.from);
  if (!existsSync(file)) throw new DefinitionError(ctx.file, stage.headerLines.from, `From: ${file} does not exist: build or copy the SIF there, or fix the path (a relative path starts at the definition's folder)`);
  return file;
}

/** `Bootstrap: localimage`, `From: IMAGE.sif`: the SIF's primary squashfs partition, unpacked. */
export const localimageAgent: BootstrapAgent = {
  async inputs(stage, ctx) {
    return `localimage ${await hashFile(sifPath(stage, ctx))}`;
  },
  async bootstrap(stage, ctx) {
    const file = sifPath(stage, ctx);
    const part = primaryPartition(readSif(file));
    if (!part || part.partition?.fsType !== FsType.Squashfs) throw new BuildStepError(`From: ${file}`, 'the SIF has no primary squashfs partition: use a container image built by sifkube or Singularity');
    try {
      await run('unsquashfs', ['-f', '-n', '-q', '-o', String(part.offset), '-d', ctx.rootfs, file], { maxBuffer: 16 << 20 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new BuildStepError(`From: ${file}`, `unsquashfs could not unpack it${e.message.includes('ENOENT') ? ' (apt-get install -y squashfs-tools)' : ''}`, (e.stderr ?? e.message).trim().split('\n').slice(-5).join('\n'));
    }
    const labelsFile = resolve(ctx.rootfs, '.singularity.d/labels.json');
    let labels: Record<string, string> = {};
    try {
      if (existsSync(labelsFile)) labels = JSON.parse(readFileSync(labelsFile, 'utf8')) as Record<string, string>;
    } catch {
      labels = {};
    }
    return { imageConfig: readImageConfig(file), labels };
  },
};
