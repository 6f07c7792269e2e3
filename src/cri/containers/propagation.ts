import { readFileSync, realpathSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';

/** The CRI propagation modes as OCI mount options. */
export const PROPAGATION: Record<string, string> = { PROPAGATION_PRIVATE: 'rprivate', PROPAGATION_HOST_TO_CONTAINER: 'rslave', PROPAGATION_BIDIRECTIONAL: 'rshared' };

/** The mount a path lies on (the longest mount point above it) and its propagation fields. */
function mountOf(path: string): { point: string; shared: boolean; slave: boolean } {
  const real = realpathSync(path);
  let best = { point: '', shared: false, slave: false };
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const point = f[4]?.replace(/\\040/g, ' ');
    if (!point || !(real === point || real.startsWith(point === '/' ? '/' : `${point}/`)) || point.length < best.point.length) continue;
    const optional = f.slice(6, f.indexOf('-'));
    best = { point, shared: optional.some((o) => o.startsWith('shared:')), slave: optional.some((o) => o.startsWith('master:')) };
  }
  return best;
}

/**
 * The container's root propagation for its mounts, as containerd sets it: rshared when a mount is
 * bidirectional (a mount made inside must travel back through the root to the host), else rslave.
 * The host path of such a mount must itself be shared (bidirectional) or shared or a slave
 * (host to container), or the mode could not work: refused with the fix.
 */
export function rootfsPropagation(mounts: { hostPath: string; propagation: string }[]): 'rshared' | 'rslave' {
  let shared = false;
  mounts.forEach((m, i) => {
    if (m.propagation !== 'PROPAGATION_BIDIRECTIONAL' && m.propagation !== 'PROPAGATION_HOST_TO_CONTAINER') return;
    const on = mountOf(m.hostPath);
    const bidi = m.propagation === 'PROPAGATION_BIDIRECTIONAL';
    if (bidi ? !on.shared : !on.shared && !on.slave) {
      throw new InvalidArgumentError(`config.mounts[${i}].propagation ${m.propagation}: host_path ${m.hostPath} is on ${on.point}, which is not a ${bidi ? 'shared' : 'shared or slave'} mount: make it one (mount --make-rshared ${on.point})`);
    }
    shared ||= bidi;
  });
  return shared ? 'rshared' : 'rslave';
}
