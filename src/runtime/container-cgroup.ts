import { existsSync } from 'node:fs';
import { CgroupManager } from './cgroups/index.js';
import type { LinuxResources } from './cgroups/index.js';
import type { ContainerRecord } from './state.js';
import type { Spec } from './spec/types.js';

/** Without linux.cgroupsPath a container gets its own cgroup, named for it (runc uses /ID). */
export function cgroupsPathOf(spec: Spec, id: string): string {
  return spec.linux?.cgroupsPath || `/sifkube-oci-${id}`;
}

/** The container's cgroup manager, when it has a cgroup (a create killed early may have none yet). */
export function cgroupOf(rec: ContainerRecord): CgroupManager | undefined {
  const mgr = rec.cgroupsPath ? new CgroupManager(rec.cgroupsPath) : undefined;
  return mgr && existsSync(mgr.dirs()[0]) ? mgr : undefined;
}

/** Creates the cgroup and applies linux.resources; the caller adds the init's pid. */
export function setUpCgroup(path: string, resources: Record<string, unknown> | undefined): CgroupManager {
  const mgr = new CgroupManager(path);
  mgr.create();
  try {
    mgr.apply((resources ?? {}) as LinuxResources);
  } catch (err) {
    void mgr.remove().catch(() => {});
    throw err;
  }
  return mgr;
}
