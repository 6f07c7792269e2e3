/**
 * Digests of build inputs for the cache key: a file's bytes, or a tree's names, modes and file bytes (so a changed %files source, however small, is a new build).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

async function feedFile(hash: Hash, file: string): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await feedFile(hash, file);
  return `sha256:${hash.digest('hex')}`;
}

async function feedTree(hash: Hash, path: string, rel: string): Promise<void> {
  // Links are followed, as %files copies what they point to.
  const st = statSync(path);
  hash.update(`${rel}\0${st.mode}\0`);
  if (st.isFile()) {
    hash.update(`${st.size}\0`);
    await feedFile(hash, path);
  } else if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) await feedTree(hash, join(path, name), `${rel}/${name}`);
  }
}

/** The digest of a file or folder tree. */
export async function hashTree(path: string): Promise<string> {
  const hash = createHash('sha256');
  await feedTree(hash, path, '.');
  return `sha256:${hash.digest('hex')}`;
}

/** A %files source holding glob characters. */
export const GLOB = /[*?[]/;

function globRegex(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** Expands `*`, `?` and `[...]` in each component of an absolute path (hidden names only when asked for). */
export function expandGlob(path: string): string[] {
  let found = ['/'];
  for (const part of path.split('/').filter(Boolean)) {
    if (!GLOB.test(part)) {
      found = found.map((p) => join(p, part));
      continue;
    }
    const re = globRegex(part);
    found = found.flatMap((p) => {
      try {
        return readdirSync(p).filter((n) => re.test(n) && (part.startsWith('.') || !n.startsWith('.'))).sort().map((n) => join(p, n));
      } catch {
        return [];
      }
    });
  }
  return found.filter((p) => existsSync(p));
}
