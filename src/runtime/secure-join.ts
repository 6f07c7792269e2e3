import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { InvalidConfigError } from './errors.js';

/** The target of a symlink; undefined for anything else, or nothing. */
function linkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined; // does not exist (yet): kept as written
  }
}

/**
 * ROOT + PATH with every symlink on the way resolved as if ROOT were `/` (filepath-securejoin's
 * rule, as runc uses it): an image's `/dev -> /etc` or `../../..` cannot make a mount, a device node
 * or a mount point land outside its root filesystem. Missing components are kept as written.
 * `seen` keeps what each path was (a link's target, or none) across the calls of one plan.
 */
export function secureJoin(root: string, path: string, seen: Map<string, string | undefined> = new Map()): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  for (let links = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const full = posix.join(root, ...done, part);
    const target = seen.has(full) ? seen.get(full) : linkTarget(full);
    seen.set(full, target);
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > 255) throw new InvalidConfigError('config.json', path, `too many symlinks under ${root}: fix the root filesystem`);
    if (target.startsWith('/')) done.length = 0;
    parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return posix.join(root, ...done);
}
