import { readFileSync, statfsSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** CPU and memory of a cgroup (v1 hierarchies), when the container has one. */
export function cgroupStats(cgroupsPath: string | undefined): { cpuNs?: string; memUsage?: number; workingSet?: number; rss?: number; oomKills?: number } {
  if (!cgroupsPath) return {};
  const cpu = read(`/sys/fs/cgroup/cpuacct${cgroupsPath}/cpuacct.usage`)?.trim();
  const usage = read(`/sys/fs/cgroup/memory${cgroupsPath}/memory.usage_in_bytes`);
  const stat = read(`/sys/fs/cgroup/memory${cgroupsPath}/memory.stat`) ?? '';
  const field = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0);
  const oom = read(`/sys/fs/cgroup/memory${cgroupsPath}/memory.oom_control`);
  const mem = usage === undefined ? undefined : Number(usage);
  return {
    cpuNs: cpu,
    memUsage: mem,
    // The kubelet's working set: usage minus the inactive file cache.
    workingSet: mem === undefined ? undefined : Math.max(0, mem - field('total_inactive_file')),
    rss: usage === undefined ? undefined : field('total_rss'),
    oomKills: oom === undefined ? undefined : Number(/^oom_kill (\d+)$/m.exec(oom)?.[1] ?? 0),
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
