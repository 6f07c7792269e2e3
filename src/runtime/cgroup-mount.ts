import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { MS } from './spec/constants.js';
import type { PlanLine } from './plan-encoding.js';

interface Hierarchy {
  /** Directory name under /sys/fs/cgroup (cpu, memory, unified...). */
  name: string;
  type: 'cgroup' | 'cgroup2';
  /** Super options naming the controllers (cgroup v1), e.g. "cpu" or "name=systemd". */
  options: string;
  /** This process's cgroup in the hierarchy, e.g. "/" or "/kubepods/x". */
  own: string;
}

/** The host's cgroup hierarchies mounted under /sys/fs/cgroup, and our own place in each. */
function hierarchies(): Hierarchy[] {
  const ownByKey = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, ctrls, path] = line.split(':');
    for (const c of ctrls === '' ? [''] : ctrls.split(',')) ownByKey.set(c, path);
  }
  const out: Hierarchy[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')) {
    const [pre, post] = line.split(' - ');
    const mountPoint = pre.split(' ')[4];
    const [fstype, , superOpts] = post.split(' ');
    if (!mountPoint.startsWith('/sys/fs/cgroup/') || (fstype !== 'cgroup' && fstype !== 'cgroup2')) continue;
    const ctrls = superOpts.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('nsdelegate') && o !== 'memory_recursiveprot');
    const key = fstype === 'cgroup2' ? '' : ctrls.find((c) => ownByKey.has(c)) ?? ctrls[0];
    out.push({ name: mountPoint.slice('/sys/fs/cgroup/'.length), type: fstype, options: ctrls.join(','), own: ownByKey.get(key) ?? '/' });
  }
  return out;
}

/**
 * The plan lines for a `cgroup` mount. On a cgroup v1 (or hybrid) host, as runc lays it out: a tmpfs
 * with one directory per hierarchy. With a cgroup namespace each hierarchy is mounted afresh (the
 * kernel shows the namespace's root); without one, the container's cgroup directory (cgroupsPath,
 * relative to ours when relative) is bind-mounted. On a pure cgroup v2 host, as runc: cgroup2 mounted
 * afresh (without a cgroup namespace it shows the whole hierarchy), except in a user namespace of
 * its own, where the kernel refuses that mount and the container's cgroup is bind-mounted instead.
 */
export function cgroupMountLines(dest: string, flags: number, ownNamespace: boolean, cgroupsPath: string, userNs: boolean): PlanLine[] {
  const inner = (own: string) => (cgroupsPath.startsWith('/') ? cgroupsPath : posix.join(own, cgroupsPath));
  const readonly = (flags & MS.RDONLY) !== 0;
  const base = flags & ~MS.RDONLY;
  const all = hierarchies();
  if (all.length === 0) {
    const v2own = inner(readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1] ?? '/');
    return ownNamespace || !userNs
      ? [['mkdir', dest, '493'], ['mount', 'cgroup2', dest, 'cgroup2', String(flags), '']]
      : [['mkdir', dest, '493'], ['mount', `/sys/fs/cgroup${v2own === '/' ? '' : v2own}`, dest, '', String(MS.BIND | MS.REC), ''],
         ...(readonly ? [['mount', '', dest, '', String(MS.BIND | MS.REMOUNT | MS.RDONLY | base), '']] : [])];
  }
  const lines: PlanLine[] = [['mkdir', dest, '493'], ['mount', 'tmpfs', dest, 'tmpfs', String(base), 'mode=755']];
  for (const h of all) {
    const at = `${dest}/${h.name}`;
    lines.push(['mkdir', at, '493']);
    if (ownNamespace) {
      lines.push(['mount', h.type, at, h.type, String(flags), h.type === 'cgroup' ? h.options : '']);
    } else {
      // Named hierarchies (systemd) hold no controller: the container is not moved there.
      const path = h.options.startsWith('name=') ? h.own : inner(h.own);
      lines.push(['mount', `/sys/fs/cgroup/${h.name}${path === '/' ? '' : path}`, at, '', String(MS.BIND | MS.REC), '']);
      if (readonly) lines.push(['mount', '', at, '', String(MS.BIND | MS.REMOUNT | MS.RDONLY | base), '']);
    }
  }
  // As runc: the tmpfs holding the hierarchies stays writable; the hierarchies get the flags.
  return lines;
}
