import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterNames } from './names.js';
import type { ClusterPlan } from './plan.js';

/** Mount points of every cgroup hierarchy on the host: each v1 controller mount and the cgroup2 one. */
export function cgroupMounts(): string[] {
  const out = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fstype = right.split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') out.add(left.split(' ')[4]);
  }
  return [...out].sort();
}

/** v1 cpuset cgroups start empty and refuse tasks: a new one inherits its parent's CPUs and memory nodes. */
function inheritCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const file = join(dir, f);
    if (existsSync(file) && readFileSync(file, 'utf8').trim() === '') writeFileSync(file, readFileSync(join(dir, '..', f), 'utf8'));
  }
}

/**
 * Creates each node's kubelet cgroupRoot in EVERY hierarchy (v1 controllers and the unified one):
 * the kubelet refuses to start with "cgroup … has some missing paths" otherwise.
 */
export function createNodeCgroups(plan: ClusterPlan): void {
  for (const mount of cgroupMounts()) {
    const parent = join(mount, plan.names.cgroupParent);
    mkdirSync(parent, { recursive: true });
    inheritCpuset(parent);
    for (const node of plan.nodes) {
      const dir = join(mount, node.cgroupRoot);
      mkdirSync(dir, { recursive: true });
      inheritCpuset(dir);
    }
  }
}

/** Every cgroup folder of the cluster, deepest first. */
export function clusterCgroups(names: ClusterNames): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    out.push(dir);
  };
  for (const mount of cgroupMounts()) {
    const top = join(mount, names.cgroupParent);
    if (existsSync(top)) walk(top);
  }
  return out;
}

/** PIDs in the cluster's cgroups, in any hierarchy. */
export function cgroupPids(names: ClusterNames): number[] {
  const pids = new Set<number>();
  for (const dir of clusterCgroups(names)) {
    try {
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
    } catch {
      continue; // the folder went while we read it
    }
  }
  return [...pids];
}

/** Removes the cluster's cgroup folders, deepest first; returns those that could not be removed. */
export function removeClusterCgroups(names: ClusterNames): string[] {
  const left: string[] = [];
  for (const dir of clusterCgroups(names)) {
    try {
      rmdirSync(dir);
    } catch {
      left.push(dir);
    }
  }
  return left;
}
