/**
 * `%files`: copies from the host (paths relative to the definition's folder) or, with `from STAGE`,
 * from an earlier stage's root filesystem, into the stage being built. As Singularity does, host
 * links are followed (`cp -LR`), a source may be a glob, and missing parent folders are made. Paths
 * inside a root filesystem resolve its links as if it were `/`, so nothing lands outside it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { secureJoin } from '../cri/index.js';
import type { FileCopy, FilesSection } from './definition.js';
import { BuildStepError, DefinitionError } from './errors.js';
import { expandGlob, GLOB } from './inputs.js';

const run = promisify(execFile);

/** The host paths a source names; `root` is the stage's root filesystem for `from STAGE`. */
function sources(copy: FileCopy, file: string, dir: string, root: string | undefined): string[] {
  const path = root ? secureJoin(root, copy.src) : resolve(dir, copy.src);
  const found = GLOB.test(copy.src) ? expandGlob(path) : existsSync(path) ? [path] : [];
  if (found.length === 0) {
    const where = root ? 'in that stage' : `(a relative path starts at ${dir})`;
    throw new DefinitionError(file, copy.line, `%files: ${copy.src} does not exist ${where}: fix the path`);
  }
  return found;
}

export interface FilesContext {
  file: string;
  dir: string;
  rootfs: string;
  /** Root filesystems of the earlier stages by name. */
  stages: Map<string, string>;
}

export async function copyFiles(section: FilesSection, ctx: FilesContext): Promise<void> {
  const root = section.from === undefined ? undefined : ctx.stages.get(section.from);
  for (const copy of section.copies) {
    const srcs = sources(copy, ctx.file, ctx.dir, root);
    const dest = secureJoin(ctx.rootfs, copy.dest);
    const intoDir = srcs.length > 1 || copy.dest.endsWith('/');
    mkdirSync(intoDir ? dest : dirname(dest), { recursive: true });
    try {
      // An existing folder at the destination receives the source inside it, as cp does. Existing
      // files are replaced, never written through: a link the base image put there could point
      // anywhere on the host. From a stage, links are copied as links for the same reason.
      await run('cp', [root ? '-PR' : '-LR', '--remove-destination', '--preserve=mode', '--', ...srcs, dest]);
    } catch (err) {
      throw new BuildStepError(`%files (line ${copy.line}) ${copy.src} -> ${copy.dest}`, 'the copy failed', ((err as { stderr?: string }).stderr ?? String(err)).trim());
    }
  }
}
