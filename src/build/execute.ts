/**
 * The build proper, once the cache has no image: each stage bootstrapped and its sections run in a
 * scratch folder, the last stage's /.singularity.d written, %test run, the SIF written. The
 * scratch folder goes whatever happens.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import type { CriConfig } from '../cri/index.js';
import { buildSif, type Compression } from '../sif/index.js';
import { loadAgent, type BaseImage } from './agents/index.js';
import type { Definition, Stage } from './definition.js';
import { BuildInputError, BuildStepError } from './errors.js';
import { copyFiles } from './files.js';
import type { BuildImageOptions } from './index.js';
import { prepareMetadata, writeMetadata } from './metadata.js';
import { runPost, runSetup, runTest } from './sections.js';
import { makeWorkspace, removeWorkspace } from './workspace.js';

export interface ExecuteContext {
  file: string;
  dir: string;
  out: string;
  registry: CriConfig['registry'];
  compression: Compression;
  step: (id: string) => void;
  onOutput: (line: string) => void;
  opts: BuildImageOptions;
}

function extraLabels(stage: Stage, deterministic: boolean): Record<string, string> {
  const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };
  return {
    'org.label-schema.schema-version': '1.0',
    ...(deterministic ? {} : { 'org.label-schema.build-date': new Date().toISOString() }),
    'org.label-schema.build-arch': goArch[arch()] ?? arch(),
    'org.label-schema.usage.singularity.deffile.bootstrap': stage.agent,
    ...(stage.header.from ? { 'org.label-schema.usage.singularity.deffile.from': stage.header.from } : {}),
  };
}

export async function executeBuild(definition: Definition, ctx: ExecuteContext): Promise<void> {
  const { file, dir, out, registry, compression, step, onOutput, opts } = ctx;
  const name = opts.name ?? randomBytes(4).toString('hex');
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(name)) throw new BuildInputError(`build name ${JSON.stringify(name)}`, 'use 1 to 40 letters, digits, _ . -');
  const work = makeWorkspace(name, opts.workDir);
  try {
    const roots = new Map<string, string>();
    let base: BaseImage = { labels: {} };
    let rootfs = '';
    const sectionCtx = { name, work, onOutput, signal: opts.signal };
    for (const [i, stage] of definition.stages.entries()) {
      rootfs = join(work, `stage-${i}`, 'rootfs');
      mkdirSync(rootfs, { recursive: true, mode: 0o755 });
      step(`${i}:bootstrap`);
      base = await (await loadAgent(stage.agent)).bootstrap(stage, { file, dir, rootfs, work, registry, onOutput, signal: opts.signal });
      if (stage.scripts.setup) {
        step(`${i}:setup`);
        await runSetup(stage.scripts.setup, rootfs, dir, sectionCtx);
      }
      if (stage.files.length > 0) {
        step(`${i}:files`);
        for (const f of stage.files) await copyFiles(f, { file, dir, rootfs, stages: roots });
      }
      prepareMetadata(rootfs);
      if (stage.scripts.post) {
        step(`${i}:post`);
        await runPost(stage.scripts.post, rootfs, base.imageConfig?.env ?? [], sectionCtx);
      }
      if (stage.name !== undefined) roots.set(stage.name, rootfs);
    }
    const last = definition.stages[definition.stages.length - 1];
    step('metadata');
    const meta = writeMetadata(rootfs, last, base, definition.text, extraLabels(last, !!opts.deterministic));
    if (last.scripts.test && !opts.noTest) {
      step('test');
      await runTest(last.scripts.test, rootfs, sectionCtx);
    }
    step('sif');
    try {
      buildSif({ rootfs, out, definition: definition.text, runscript: meta.runscript, environment: meta.environment, labels: meta.labels, imageConfig: meta.imageConfig, deterministic: opts.deterministic, compression });
    } catch (err) {
      throw new BuildStepError('writing the SIF', (err as Error).message);
    }
  } finally {
    removeWorkspace(work);
  }
}
