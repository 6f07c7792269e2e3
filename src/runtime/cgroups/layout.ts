import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupLayout } from './types.js';

const MOUNT_OPTIONS = new Set(['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'nsdelegate', 'memory_recursiveprot', 'memory_localevents', 'favordynmods']);

let hostLayout: CgroupLayout | undefined;

/** The host's cgroup layout, detected once per process: the hierarchies are mounted at boot. */
export function hostCgroupLayout(): CgroupLayout {
  return (hostLayout ??= detectLayout());
}

/** The host's cgroup layout, from /proc/self/mountinfo (the first mount of each hierarchy wins). */
export function detectLayout(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupLayout {
  const v1 = new Map<string, string>();
  let unified: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const [fstype, , superOpts = ''] = right.split(' ');
    const mountPoint = left.split(' ')[4];
    if (fstype === 'cgroup2' && !unified) unified = mountPoint;
    if (fstype !== 'cgroup') continue;
    for (const opt of superOpts.split(',')) {
      if (MOUNT_OPTIONS.has(opt) || opt.startsWith('release_agent') || opt.startsWith('name=') || opt === 'clone_children' || opt === 'noprefix') continue;
      if (!v1.has(opt)) v1.set(opt, mountPoint);
    }
  }
  const controllersFile = unified ? join(unified, 'cgroup.controllers') : undefined;
  const unifiedControllers = controllersFile && existsSync(controllersFile) ? readFileSync(controllersFile, 'utf8').trim().split(/\s+/).filter(Boolean) : [];
  const mode = v1.size === 0 && unified ? 'v2' : unified ? 'hybrid' : 'v1';
  return { mode, v1, unified, unifiedControllers };
}
