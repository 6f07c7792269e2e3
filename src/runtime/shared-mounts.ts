import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { log } from './log.js';
import type { Spec } from './spec/types.js';

/** Whether a container shares the runtime's mount namespace (no mount namespace in its config). */
export const sharesMountNs = (spec: Spec): boolean => !(spec.linux?.namespaces ?? []).some((n) => n.type === 'mount');

/** mountinfo's octal escapes (a space is \040). */
const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/**
 * Unmounts what a container that shared the runtime's mount namespace mounted under its root
 * filesystem (its config's mounts, made there as runc makes them), deepest first: they would
 * otherwise outlive it in the runtime's namespace.
 */
export function unmountUnder(rootfs: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => decode(l.split(' ')[4] ?? ''))
    .filter((p) => p.startsWith(`${rootfs}/`))
    .reverse();
  if (points.length === 0) return;
  const r = spawnSync('umount', ['--lazy', ...points], { encoding: 'utf8' });
  if (r.status !== 0) log('warning', `unmounting the container's mounts under ${rootfs}: ${(r.stderr || r.error?.message || '').trim()}`);
}
