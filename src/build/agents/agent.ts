import type { CriConfig } from '../../cri/index.js';
import type { ImageConfig } from '../../sif/index.js';
import type { Stage } from '../definition.js';

/** What a stage starts from, besides the files: the base image's runtime settings and labels. */
export interface BaseImage {
  imageConfig?: ImageConfig;
  labels: Record<string, string>;
}

export interface AgentContext {
  /** The definition file, for errors. */
  file: string;
  /** The folder relative paths of the definition are resolved against. */
  dir: string;
  /** The stage's empty root filesystem folder, to fill. */
  rootfs: string;
  /** The build's scratch folder (logs, downloads). */
  work: string;
  registry: CriConfig['registry'];
  /** Live output of a long step. */
  onOutput: (line: string) => void;
  /** Aborted when the build is interrupted: child processes are killed. */
  signal?: AbortSignal;
}

/** A bootstrap agent: `inputs` is cheap and names the base exactly (for the cache key); `bootstrap` fills the root filesystem. */
export interface BootstrapAgent {
  inputs(stage: Stage, ctx: Omit<AgentContext, 'rootfs' | 'work' | 'onOutput' | 'signal'>): Promise<string>;
  bootstrap(stage: Stage, ctx: AgentContext): Promise<BaseImage>;
}
