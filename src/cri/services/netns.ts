import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { CriOperationError } from '../errors.js';

const run = promisify(execFile);

/** Where a pod's namespaces are held: each one a bind mount of its nsfs file (no pause process). */
export interface PodNamespaces {
  net?: string;
  ipc?: string;
  uts?: string;
}

/**
 * Creates the pod's namespaces in one `unshare`, each bind-mounted on its path, and sets the host
 * name inside the new UTS namespace.
 */
export async function createPodNamespaces(ns: PodNamespaces, hostname: string): Promise<void> {
  const entries = Object.entries(ns).filter((e): e is [string, string] => !!e[1]);
  if (entries.length === 0) return;
  for (const [, path] of entries) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  }
  try {
    // Dies with the server (setpriv's parent-death signal): a kill -9 must not let it mount after the
    // restarted server has cleaned up.
    await run('setpriv', ['--pdeathsig', 'KILL', 'unshare', ...entries.map(([kind, path]) => `--${kind}=${path}`), ...(ns.uts ? ['hostname', hostname] : ['true'])]);
  } catch (err) {
    for (const [, path] of entries) await removeNamespace(path).catch(() => undefined);
    throw new CriOperationError(`cannot create the pod namespaces (${entries.map(([k]) => k).join(', ')}): ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
}

/** Unmounts and deletes a namespace file; a namespace already gone is fine. */
export async function removeNamespace(path: string): Promise<void> {
  try {
    await run('umount', [path]);
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr ?? '';
    if (!/not mounted|no mount point|No such file/.test(msg)) {
      throw new CriOperationError(`cannot unmount the namespace ${path}: ${msg.trim()}`);
    }
  }
  rmSync(path, { force: true });
}

/** Runs a command inside the network namespace (sysctls, link statistics). */
export async function inNetns(path: string, argv: string[]): Promise<string> {
  const { stdout } = await run('nsenter', [`--net=${path}`, ...argv]);
  return stdout;
}

const NSFS_MAGIC = 0x6e736673;

/** True when `path` is a namespace (an nsfs file); false when the bind mount that held one is gone. */
export function isNamespace(path: string): boolean {
  try {
    return statfsSync(path).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}
