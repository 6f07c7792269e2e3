/**
 * The build's scratch folder (stage root filesystems, logs, bundles), named for sifkube so a leak is
 * easy to find, and removed whatever happens. Nothing is mounted on the host by a build (every
 * script runs in a mount namespace of its own); should a mount still be found under the folder it is
 * detached first, so the removal never reaches through it into another file system.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_WORK_DIR = '/var/lib/sifkube/build';

export function makeWorkspace(name: string, parent = DEFAULT_WORK_DIR): string {
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  return mkdtempSync(join(parent, `sifkube-build-${name}-`));
}

/** Mount points at or under `dir`, deepest first (octal escapes of mountinfo undone). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

export function removeWorkspace(dir: string): void {
  for (const m of mountsUnder(dir)) execFileSync('umount', ['-l', m], { stdio: 'ignore' });
  if (mountsUnder(dir).length > 0) throw new Error(`${dir} still has mounts under it; it was left in place: unmount them and remove it`);
  rmSync(dir, { recursive: true, force: true });
}
