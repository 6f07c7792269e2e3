import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mountEntry, mountSif, unmountSif } from '../../sif/index.js';
import { CriOperationError } from '../errors.js';

const run = promisify(execFile);

async function mount(args: string[], what: string): Promise<void> {
  try {
    await run('mount', args);
  } catch (err) {
    throw new CriOperationError(`cannot mount ${what}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
}

async function umount(path: string): Promise<void> {
  if (!existsSync(path) || !mountEntry(path)) return;
  try {
    await run('umount', [path]);
  } catch (err) {
    throw new CriOperationError(`cannot unmount ${path}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
}

/**
 * The image's squashfs, mounted read-only once per image and shared by its containers (the
 * lower layer of their overlays).
 */
export function mountImage(sif: string, dir: string): void {
  if (existsSync(dir) && mountEntry(dir)) return;
  mountSif(sif, dir);
}

export function unmountImage(dir: string): void {
  if (existsSync(dir) && mountEntry(dir)) unmountSif(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A container's root: an overlay whose lower layer is the image mount and whose upper layer is on
 * a tmpfs of its own, so writes never reach the image and vanish with the container.
 */
export async function mountRootfs(imageDir: string, dir: string): Promise<string> {
  const rw = join(dir, 'rw');
  const rootfs = join(dir, 'bundle', 'rootfs');
  mkdirSync(rw, { recursive: true });
  mkdirSync(rootfs, { recursive: true });
  await mount(['-t', 'tmpfs', '-o', 'mode=755', 'sifkube-rw', rw], `the writable layer ${rw}`);
  mkdirSync(join(rw, 'upper'), { mode: 0o755 });
  mkdirSync(join(rw, 'work'), { mode: 0o755 });
  await mount(['-t', 'overlay', '-o', `lowerdir=${imageDir},upperdir=${join(rw, 'upper')},workdir=${join(rw, 'work')}`, 'sifkube-rootfs', rootfs], `the container root ${rootfs}`);
  return rootfs;
}

export async function unmountRootfs(dir: string): Promise<void> {
  await umount(join(dir, 'bundle', 'rootfs'));
  await umount(join(dir, 'rw'));
}
