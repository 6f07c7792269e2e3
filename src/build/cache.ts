/**
 * The build cache: finished images by a key made of the definition as built (arguments
 * substituted), the options that change the bytes, and the digests of the inputs (each stage's
 * base — the local SIF's bytes, the pulled manifest's digest — and every %files source on the
 * host). An unchanged rebuild is a copy of the cached image.
 */
import { createHash } from 'node:crypto';
import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Definition } from './definition.js';
import { loadAgent } from './agents/index.js';
import type { CriConfig } from '../cri/index.js';
import { expandGlob, GLOB, hashTree } from './inputs.js';

export const DEFAULT_CACHE_DIR = '/var/lib/sifkube/build-cache';
/** Bumped when the builder's output changes for the same inputs. */
const FORMAT = 1;
/** Entries beyond this many, or beyond this many bytes in all, are removed least recently used first (the newest is always kept). */
const KEEP = 20;
const KEEP_BYTES = 10 * 2 ** 30;

export interface CacheKeyInput {
  definition: Definition;
  dir: string;
  deterministic: boolean;
  compression: string;
  registry: CriConfig['registry'];
}

/** The key: a SHA-256 over everything that makes the image what it is. */
export async function cacheKey(k: CacheKeyInput): Promise<string> {
  const parts: unknown[] = [FORMAT, k.definition.text, k.deterministic, k.compression];
  for (const stage of k.definition.stages) {
    parts.push(await (await loadAgent(stage.agent)).inputs(stage, { file: k.definition.file, dir: k.dir, registry: k.registry }));
    for (const f of stage.files) {
      if (f.from !== undefined) continue;
      for (const c of f.copies) {
        const path = resolve(k.dir, c.src);
        const found = GLOB.test(c.src) ? expandGlob(path) : existsSync(path) ? [path] : [];
        for (const p of found) parts.push([p, await hashTree(p)]);
      }
    }
  }
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export class BuildCache {
  constructor(readonly dir: string = DEFAULT_CACHE_DIR) {}

  private entry(key: string): string {
    return join(this.dir, `${key}.sif`);
  }

  /** Copies the cached image for `key` to `out` (a reflink where the filesystem can); false when there is none. */
  restore(key: string, out: string): boolean {
    const file = this.entry(key);
    if (!existsSync(file)) return false;
    // Copied beside OUT and renamed over it: an interrupted copy never leaves half an image.
    const tmp = `${out}.${process.pid}.partial`;
    try {
      copyFileSync(file, tmp, constants.COPYFILE_FICLONE);
      renameSync(tmp, out);
    } finally {
      rmSync(tmp, { force: true });
    }
    const now = new Date();
    utimesSync(file, now, statSync(file).mtime);
    return true;
  }

  /** Keeps a copy of a finished image under `key`, and trims the cache to the most recently used entries. */
  store(key: string, image: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.entry(key)}.${process.pid}.tmp`;
    copyFileSync(image, tmp, constants.COPYFILE_FICLONE);
    renameSync(tmp, this.entry(key));
    const entries = readdirSync(this.dir)
      .filter((f) => f.endsWith('.sif'))
      .map((f) => ({ f, st: statSync(join(this.dir, f)) }))
      .sort((a, b) => b.st.atimeMs - a.st.atimeMs);
    let bytes = 0;
    entries.forEach((e, i) => {
      bytes += e.st.size;
      if (i > 0 && (i >= KEEP || bytes > KEEP_BYTES)) rmSync(join(this.dir, e.f), { force: true });
    });
  }
}
