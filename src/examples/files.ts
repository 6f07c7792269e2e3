/** Where the examples' sources are (images/ of the package) and where their SIFs are written. */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stateRoot } from '../cluster/index.js';
import { ExampleFilesError } from './errors.js';

/** images/ at the package root (dist/src/examples/ → ../../../images). */
export function imagesDir(): string {
  const dir = fileURLToPath(new URL('../../../images/', import.meta.url));
  if (!existsSync(dir)) throw new ExampleFilesError(dir);
  return dir;
}

/** An example file (relative to images/), checked. */
export function exampleFile(rel: string): string {
  const path = join(imagesDir(), rel);
  if (!existsSync(path)) throw new ExampleFilesError(path);
  return path;
}

/** The folder of the built example SIFs (the build cache keeps them too; these are the ones loaded). */
export function sifDir(): string {
  const dir = join(stateRoot(), 'examples');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
