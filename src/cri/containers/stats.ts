import { existsSync, statfsSync } from 'node:fs';
import { CgroupManager } from '../../runtime/index.js';

/**
 * CPU and memory of a container's cgroup, when it has one: read through the runtime's cgroup manager,
 * so from the v1 hierarchies on a v1 or hybrid host and from the one directory on pure cgroup v2.
 */
export function cgroupStats(cgroupsPath: string | undefined): { cpuNs?: string; memUsage?: number; workingSet?: number; rss?: number; oomKills?: number } {
  if (!cgroupsPath) return {};
  const mgr = new CgroupManager(cgroupsPath);
  const v2 = mgr.layout.mode === 'v2';
  const memory = v2 ? mgr.paths.v2 : mgr.paths.v1.get('memory');
  if (!memory || !existsSync(memory)) return {};
  const { cpu, memory: mem } = mgr.stats();
  return {
    cpuNs: String(cpu.usageTotal),
    memUsage: mem.usage,
    // The kubelet's working set: usage minus the inactive file cache (v1 counts the subtree as total_*).
    workingSet: Math.max(0, mem.usage - (mem.stat[v2 ? 'inactive_file' : 'total_inactive_file'] ?? 0)),
    rss: mem.stat[v2 ? 'anon' : 'total_rss'] ?? 0,
    oomKills: mem.oomKills,
  };
}

/** Bytes and inodes used on the container's writable tmpfs. */
export function writableUsage(dir: string): { bytes: number; inodes: number } {
  try {
    const fs = statfsSync(dir);
    return { bytes: (fs.blocks - fs.bfree) * fs.bsize, inodes: fs.files - fs.ffree };
  } catch {
    return { bytes: 0, inodes: 0 };
  }
}
