import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { InvalidConfigError } from './errors.js';

/**
 * ROOT + PATH with every symlink on the way resolved as if ROOT were `/` (filepath-securejoin's
 * rule, as runc uses it): an image's `/dev -> /etc` or `../../..` cannot make a mount, a device node
 * or a mount point land outside its root filesystem. Missing components are kept as written.
 */
export function secureJoin(root: string, path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  for (let links = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const full = posix.join(root, ...done, part);
    let target: string | undefined;
    try {
      if (lstatSync(full).isSymbolicLink()) target = readlinkSync(full);
    } catch {
      // does not exist (yet): kept as written
    }
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
