/**
 * `sifkube build`: a SIF image from a Singularity definition file. The public API of the build
 * layer: `buildImage` and the step plan the CLI shows as progress.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CriConfig } from '../cri/index.js';
import { DEFAULT_COMPRESSION, loadSigningKey, signSif, type Compression, type SignResult } from '../sif/index.js';
import { substituteArgs } from './args.js';
import { BuildCache, cacheKey, DEFAULT_CACHE_DIR } from './cache.js';
import { parseDefinition, type Definition } from './definition.js';
import { BuildInputError, BuildStepError } from './errors.js';

export { parseDefinition, AGENTS, SECTIONS, type Definition, type Stage, type Agent } from './definition.js';
export { substituteArgs } from './args.js';
export { DefinitionError, BuildInputError, BuildStepError } from './errors.js';
export { BuildCache, DEFAULT_CACHE_DIR } from './cache.js';
export { DEFAULT_WORK_DIR } from './workspace.js';

export interface BuildImageOptions {
  /** The SIF to write. */
  out: string;
  /** The definition file. */
  definition: string;
  /** `--build-arg NAME=VALUE` values for `{{ NAME }}`. */
  buildArgs?: Record<string, string>;
  /** Skip %test. */
  noTest?: boolean;
  /** Same inputs, same bytes (no times, nil image ID). */
  deterministic?: boolean;
  /** Replace an existing OUT. */
  force?: boolean;
  /** Private keys to sign the image with (`sifkube key new` writes them). */
  sign?: string[];
  /** Neither use nor fill the build cache. */
  noCache?: boolean;
  cacheDir?: string;
  /** Parent of the build's scratch folder. */
  workDir?: string;
  /** Names what the build makes on the host (scratch folder `sifkube-build-NAME-…`, cgroups `/sifkube-build-NAME-…`); random by default. */
  name?: string;
  /** Mirrors, credentials and plain-HTTP hosts for Docker base images (the CRI configuration's registry section). */
  registry?: CriConfig['registry'];
  compression?: Compression;
  /** Progress: the step now running (one of `planSteps`), and its latest output line. */
  onStep?: (step: string) => void;
  onOutput?: (line: string) => void;
  /** Interrupts the build (the CLI aborts it on SIGINT and SIGTERM): it stops at once and cleans up. */
  signal?: AbortSignal;
}

export interface BuildResult {
  out: string;
  /** True when the image came from the build cache. */
  cached: boolean;
  key?: string;
  signatures: SignResult['signatures'];
  /** Build arguments never used, and the like. */
  warnings: string[];
  ms: number;
}

export interface BuildStep {
  id: string;
  title: string;
}

const NO_REGISTRY: CriConfig['registry'] = { mirrors: {}, auths: {}, plainHttp: [] };

/** Reads and parses the definition with its arguments substituted. */
export function loadDefinition(file: string, buildArgs: Record<string, string> = {}): { definition: Definition; unused: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BuildInputError(file, `cannot read the definition file (${(err as NodeJS.ErrnoException).code}): check the path`);
  }
  const { text: substituted, unused } = substituteArgs(file, text, buildArgs);
  return { definition: parseDefinition(file, substituted), unused };
}

function stageTitle(d: Definition, i: number): string {
  const s = d.stages[i];
  const from = s.header.from ?? s.header.osversion ?? '';
  const what = `${s.agent}${from ? ` ${from}` : ''}`;
  return d.stages.length > 1 ? `stage ${i + 1}${s.name ? ` (${s.name})` : ''}: ${what}` : what;
}

/** The steps a build of `definition` goes through, in order (a cached build stops after the first). */
export function planSteps(definition: Definition, opts: Pick<BuildImageOptions, 'noTest' | 'sign' | 'noCache' | 'compression'>): BuildStep[] {
  const steps: BuildStep[] = [];
  if (!opts.noCache) steps.push({ id: 'cache', title: 'Look up the build cache' });
  definition.stages.forEach((s, i) => {
    steps.push({ id: `${i}:bootstrap`, title: `Bootstrap ${stageTitle(definition, i)}` });
    if (s.scripts.setup) steps.push({ id: `${i}:setup`, title: `%setup${definition.stages.length > 1 ? ` (stage ${i + 1})` : ''}` });
    if (s.files.length > 0) steps.push({ id: `${i}:files`, title: `%files${definition.stages.length > 1 ? ` (stage ${i + 1})` : ''}` });
    if (s.scripts.post) steps.push({ id: `${i}:post`, title: `%post${definition.stages.length > 1 ? ` (stage ${i + 1})` : ''}` });
  });
  const last = definition.stages[definition.stages.length - 1];
  steps.push({ id: 'metadata', title: 'Write /.singularity.d (runscript, environment, labels)' });
  if (last.scripts.test && !opts.noTest) steps.push({ id: 'test', title: '%test' });
  steps.push({ id: 'sif', title: `Write the SIF (squashfs, ${opts.compression ?? DEFAULT_COMPRESSION})` });
  if (opts.sign?.length) steps.push({ id: 'sign', title: `Sign with ${opts.sign.length} key(s)` });
  return steps;
}

function checkOutput(out: string, force: boolean | undefined): void {
  if (!existsSync(dirname(out))) throw new BuildInputError(out, 'its folder does not exist: create it first');
  if (existsSync(out)) {
    if (statSync(out).isDirectory()) throw new BuildInputError(out, 'is a folder: name the SIF file to write');
    if (!force) throw new BuildInputError(out, 'exists already: pass --force to replace it');
  }
}

/** Checks the definition and the output path, and returns the steps the build will go through. */
export function planBuild(opts: BuildImageOptions): BuildStep[] {
  const { definition } = loadDefinition(resolve(opts.definition), opts.buildArgs);
  checkOutput(resolve(opts.out), opts.force);
  return planSteps(definition, opts);
}

/** Builds the SIF `opts.out` from the definition file `opts.definition`. */
export async function buildImage(opts: BuildImageOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const out = resolve(opts.out);
  const file = resolve(opts.definition);
  const dir = dirname(file);
  const step = (id: string) => {
    if (opts.signal?.aborted) throw new BuildStepError(id, 'interrupted');
    opts.onStep?.(id);
  };
  const onOutput = (line: string) => opts.onOutput?.(line);
  const registry = opts.registry ?? NO_REGISTRY;
  const compression = opts.compression ?? DEFAULT_COMPRESSION;
  const { definition, unused } = loadDefinition(file, opts.buildArgs);
  const warnings = unused.map((a) => `build argument ${a} is not used by ${file}`);
  checkOutput(out, opts.force);
  // Keys are read before the long part, so a wrong path or passphrase-protected key fails at once.
  for (const k of opts.sign ?? []) await loadSigningKey(k);
  const sign = async (): Promise<SignResult['signatures']> => {
    if (!opts.sign?.length) return [];
    step('sign');
    return (await signSif(out, { keys: opts.sign, deterministic: opts.deterministic })).signatures;
  };

  const cache = opts.noCache ? undefined : new BuildCache(opts.cacheDir ?? DEFAULT_CACHE_DIR);
  let key: string | undefined;
  if (cache) {
    step('cache');
    key = await cacheKey({ definition, dir, deterministic: !!opts.deterministic, compression, registry });
    if (cache.restore(key, out)) return { out, cached: true, key, signatures: await sign(), warnings, ms: Date.now() - t0 };
  }

  // The builder proper (runtime, registry client) is loaded only when there is something to build:
  // a cache hit costs no more than reading the inputs.
  const { executeBuild } = await import('./execute.js');
  await executeBuild(definition, { file, dir, out, registry, compression, step, onOutput, opts });
  if (cache && key) cache.store(key, out);
  return { out, cached: false, key, signatures: await sign(), warnings, ms: Date.now() - t0 };
}
