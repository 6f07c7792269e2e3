import type { LinuxResources } from './cgroups/index.js';
import { cgroupOf } from './container-cgroup.js';
import { InvalidInputError, InvalidStatusError, NotSupportedError } from './errors.js';
import { DEFAULT_ROOT, readRecord, statusOf, type ContainerRecord } from './state.js';

function withCgroup(id: string, root: string, want: string[], what: string): { rec: ContainerRecord; cgroup: NonNullable<ReturnType<typeof cgroupOf>> } {
  const rec = readRecord(root, id);
  const status = statusOf(root, rec);
  if (!want.includes(status)) throw new InvalidStatusError(id, status, what);
  const cgroup = cgroupOf(rec);
  if (!cgroup) throw new NotSupportedError(`container ${id} has no cgroup (it was created without one)`);
  return { rec, cgroup };
}

/** `pause`: freezes the container's processes (cgroup freezer). */
export async function pauseContainer(id: string, opts: { root?: string } = {}): Promise<void> {
  await withCgroup(id, opts.root ?? DEFAULT_ROOT, ['running'], 'only a running container can be paused').cgroup.freeze();
}

/** `resume`: thaws a paused container. */
export async function resumeContainer(id: string, opts: { root?: string } = {}): Promise<void> {
  await withCgroup(id, opts.root ?? DEFAULT_ROOT, ['paused'], 'only a paused container can be resumed').cgroup.thaw();
}

/** `update`: applies new linux.resources to the container's cgroup. */
export async function updateContainer(id: string, resources: unknown, opts: { root?: string } = {}): Promise<void> {
  if (typeof resources !== 'object' || resources === null || Array.isArray(resources)) {
    throw new InvalidInputError('update: the resources must be a JSON object (runtime-spec linux.resources)');
  }
  const { cgroup } = withCgroup(id, opts.root ?? DEFAULT_ROOT, ['created', 'running', 'paused'], 'only a live container can be updated');
  cgroup.apply(resources as LinuxResources);
}
