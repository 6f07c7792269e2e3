import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

/** A process that is gone reads as undefined. */
function read(fn: () => string): string | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** PIDs whose network namespace is one of the given nsfs files. */
export function pidsInNetns(netnsFiles: string[]): number[] {
  const inodes = new Set(netnsFiles.map((f) => read(() => `net:[${statSync(f).ino}]`)).filter(Boolean));
  if (inodes.size === 0) return [];
  return allPids().filter((p) => inodes.has(read(() => readlinkSync(`/proc/${p}/ns/net`))));
}

/**
 * PIDs with an argument that is `dir`, lies under it, or is a `--flag=` naming either (a cluster's state
 * folder: every component's flags name it). Matched on whole path parts, so cluster "a" never
 * matches cluster "ab".
 */
export function pidsNamingPath(dir: string): number[] {
  const names = (arg: string) => {
    const value = arg.slice(arg.indexOf('=') + 1);
    return arg === dir || arg.startsWith(`${dir}/`) || value === dir || value.startsWith(`${dir}/`);
  };
  return allPids().filter((p) => p !== process.pid && (read(() => readFileSync(`/proc/${p}/cmdline`, 'utf8')) ?? '').split('\0').some(names));
}

function alive(pid: number): boolean {
  const stat = read(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  // A zombie has exited; its parent reaps it.
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** SIGKILLs the processes (never this one) and waits until they are gone; returns those still alive. */
export async function killAndWait(pids: number[], timeoutMs = 5000): Promise<number[]> {
  const targets = [...new Set(pids)].filter((p) => p !== process.pid && p > 1);
  for (const p of targets) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      continue; // already gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  let left = targets.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter(alive);
  }
  return left;
}
