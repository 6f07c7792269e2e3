import { existsSync } from 'node:fs';
import { CgroupManager } from './cgroups/index.js';
import type { LinuxDeviceCgroup, LinuxResources } from './cgroups/index.js';
import type { ContainerRecord } from './state.js';
import type { Spec } from './spec/types.js';

/** Without linux.cgroupsPath a container gets its own cgroup, named for it (runc uses /ID). */
export function cgroupsPathOf(spec: Spec, id: string): string {
  return spec.linux?.cgroupsPath || `/sifkube-oci-${id}`;
}

/**
 * The container's cgroup manager, when it has a cgroup: a create killed early may have none yet, or
 * only some of its hierarchies' directories.
 */
export function cgroupOf(rec: ContainerRecord): CgroupManager | undefined {
  const mgr = rec.cgroupsPath ? new CgroupManager(rec.cgroupsPath) : undefined;
  return mgr && mgr.dirs().some((d) => existsSync(d)) ? mgr : undefined;
}

/**
 * The devices every container may use (runc's AllowedDevices: mknod of any node, null, zero, full,
 * random, urandom, tty, ptys, ptmx, tun), allowed after the config's own rules, with the config's
 * linux.devices: without them a config that denies all devices could not even make /dev/null.
 */
const ALLOWED_DEVICES: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', access: 'm' }, { allow: true, type: 'b', access: 'm' },
  ...[[1, 3], [1, 8], [1, 7], [5, 0], [1, 5], [1, 9], [5, 2], [10, 200]].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

function withDefaultDevices(spec: Spec): LinuxResources {
  const resources = { ...(spec.linux?.resources ?? {}) } as LinuxResources;
  if (!resources.devices?.length) return resources;
  const own = (spec.linux?.devices ?? []).filter((d) => d.type !== 'p').map((d) => ({ allow: true, type: d.type === 'u' ? 'c' : d.type, major: d.major, minor: d.minor, access: 'rwm' }));
  resources.devices = [...resources.devices, ...ALLOWED_DEVICES, ...own];
  return resources;
}

/** Creates the cgroup and applies linux.resources; the caller adds the init's pid. */
export async function setUpCgroup(path: string, spec: Spec): Promise<CgroupManager> {
  const mgr = new CgroupManager(path);
  mgr.create();
  try {
    mgr.apply(withDefaultDevices(spec));
  } catch (err) {
    await mgr.remove();
    throw err;
  }
  return mgr;
}
