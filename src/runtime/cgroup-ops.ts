import { NotSupportedError } from './errors.js';
import { DEFAULT_ROOT, readRecord } from './state.js';

/** `pause`: freezes the container's processes (cgroup freezer). */
export async function pauseContainer(id: string, opts: { root?: string } = {}): Promise<void> {
  readRecord(opts.root ?? DEFAULT_ROOT, id);
  throw new NotSupportedError('pause: the cgroup freezer is not integrated yet');
}

/** `resume`: thaws a paused container. */
export async function resumeContainer(id: string, opts: { root?: string } = {}): Promise<void> {
  readRecord(opts.root ?? DEFAULT_ROOT, id);
  throw new NotSupportedError('resume: the cgroup freezer is not integrated yet');
}

/** `update`: applies new linux.resources to the container's cgroup. */
export async function updateContainer(id: string, _resources: unknown, opts: { root?: string } = {}): Promise<void> {
  readRecord(opts.root ?? DEFAULT_ROOT, id);
  throw new NotSupportedError('update: cgroups are not integrated yet');
}
