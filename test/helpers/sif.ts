import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// shared/ lies beside the repository (the worktree, or CI's clone).
const SHARED = new URL('../../../../shared/fixtures/sif/sylabs/', import.meta.url).pathname;
export const FIXTURES = join(SHARED, 'images');
export const KEYS = join(SHARED, 'keys');
export const BIN = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
export const FIXTURE_NAMES = readdirSync(FIXTURES).filter((f) => f.endsWith('.sif')).sort();

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** A scratch folder named for sifkube (so the leak check sees mounts under it), removed by `done`. */
export function scratch(): { dir: string; copy(name: string): string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sifkube-test-'));
  return {
    dir,
    copy(name: string) {
      const out = join(dir, name);
      copyFileSync(fixture(name), out);
      return out;
    },
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs the sifkube CLI; returns status, stdout and stderr. */
export function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A tiny root filesystem: static busybox with a few applet links, plus a data file. */
export function makeRootfs(dir: string): string {
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const app of ['sh', 'cat', 'echo', 'ls']) symlinkSync('busybox', join(root, 'bin', app));
  writeFileSync(join(root, 'etc', 'motd'), 'hello from sifkube\n');
  return root;
}
