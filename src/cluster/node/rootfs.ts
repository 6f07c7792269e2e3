import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../host.js';
import { isMountPoint } from '../state/store.js';
import type { NodeLayout } from '../components/layout.js';

/** Where a node's root filesystem lives: an overlay of the host's / whose writes land on the cluster's tmpfs. */
export function nodeRootfsPaths(layout: NodeLayout) {
  return { upper: join(layout.dir, 'root-upper'), work: join(layout.dir, 'root-work'), merged: join(layout.dir, 'rootfs') };
}

/**
 * Mounts the node's root: the host's / read-only below, an upper layer on tmpfs, so node processes
 * run the host's binaries but every write (kubelet's /var/lib, /var/log/pods, …) stays in the node.
 */
export function mountNodeRootfs(layout: NodeLayout): string {
  const p = nodeRootfsPaths(layout);
  for (const d of [p.upper, p.work, p.merged]) mkdirSync(d, { recursive: true, mode: 0o755 });
  if (!isMountPoint(realpathSync(p.merged))) sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=/,upperdir=${p.upper},workdir=${p.work}`, p.merged]);
  // A --persistent state folder is reached through a link; runc refuses a root path with one.
  return realpathSync(p.merged);
}
