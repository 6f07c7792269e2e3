import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { CriOperationError } from '../errors.js';

const run = promisify(execFile);

/**
 * A pod's network namespace, held by a bind mount of its nsfs file on `path` (no pause process):
 * `unshare --net=PATH` creates the namespace and mounts it there in one step.
 */
export async function createNetns(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '');
  try {
    await run('unshare', [`--net=${path}`, 'true']);
  } catch (err) {
    rmSync(path, { force: true });
    throw new CriOperationError(`cannot create the network namespace ${path}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
}

/** Unmounts and deletes the namespace file; a namespace already gone is fine. */
export async function removeNetns(path: string): Promise<void> {
  try {
    await run('umount', [path]);
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr ?? '';
    if (!/not mounted|no mount point|No such file/.test(msg)) {
      throw new CriOperationError(`cannot unmount the network namespace ${path}: ${msg.trim()}`);
    }
  }
  rmSync(path, { force: true });
}

/** Runs a command inside the namespace (sysctls, link statistics). */
export async function inNetns(path: string, argv: string[]): Promise<string> {
  const { stdout } = await run('nsenter', [`--net=${path}`, ...argv]);
  return stdout;
}
