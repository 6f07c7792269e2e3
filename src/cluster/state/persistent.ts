import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PersistentDirError } from '../errors.js';
import { stateRoot } from '../names.js';

/** `inner` is `outer` or lies below it. */
function within(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The folder a node mounts its own of (/tmp, /run, /dev, /proc, /sys) that `real` lies in: a host
 * folder there is not what a node sees at that path. Undefined for a path nodes see as the host does.
 */
export function hiddenInNodes(real: string): string | undefined {
  return ['/tmp', '/run', '/dev', '/proc', '/sys'].find((d) => within(real, d));
}

/** The path with every symbolic link resolved, for a path that need not exist yet. */
export function resolved(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const parent = dirname(path);
  return parent === path ? path : join(resolved(parent), path.slice(parent.length));
}

function fsType(dir: string): string {
  return spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout.trim() || 'unknown';
}

/**
 * Mounts a small overlay whose upper layer lies in `dir`, writes through it and removes a lower file
 * (a whiteout): what a node's root and its containers do. Returns why it failed, or undefined.
 */
function overlayUpperProblem(dir: string): string | undefined {
  const probe = mkdtempSync(join(dir, '.sifkube-probe-'));
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(probe, d));
  try {
    for (const d of [lower, upper, work, merged]) mkdirSync(d);
    writeFileSync(join(lower, 'f'), 'lower');
    const m = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged], { encoding: 'utf8' });
    if (m.status !== 0) return (m.stderr || `mount exit ${m.status}`).trim().split('\n')[0];
    try {
      writeFileSync(join(merged, 'g'), 'upper');
      rmSync(join(merged, 'f'));
      return undefined;
    } catch (err) {
      return (err as Error).message;
    } finally {
      spawnSync('umount', [merged]);
    }
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** The cluster whose state a folder holds (its state.json), if any. */
export function stateIn(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { plan?: { name?: string } }).plan?.name;
  } catch {
    return undefined;
  }
}

/**
 * The checks of a --persistent folder that change nothing: an absolute path outside sifkube's own
 * folders and every other cluster's state (given by name → real state folder), new or empty.
 */
export function checkPersistentDir(dir: string, others: Record<string, string>): void {
  if (!isAbsolute(dir)) throw new PersistentDirError(dir, 'not an absolute path', 'pass an absolute folder path');
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new PersistentDirError(dir, 'not a folder', 'pass a folder path (new or empty)');
  const real = resolved(dir);
  // Hidden inside the nodes (and /tmp and /run do not survive a reboot).
  const hidden = hiddenInNodes(real);
  if (hidden) throw new PersistentDirError(dir, `lies under ${hidden}, which every node mounts its own of`, 'pass a folder elsewhere, e.g. under /var/lib or /srv');
  for (const own of [stateRoot(), '/run/sifkube']) {
    if (within(real, resolved(own)) || within(resolved(own), real)) throw new PersistentDirError(dir, `overlaps sifkube's own folder ${own}`, 'pass a folder outside it');
  }
  for (const [name, state] of Object.entries(others)) {
    if (within(real, state) || within(state, real)) throw new PersistentDirError(dir, `overlaps the state of cluster ${name} (${state})`, 'pass a folder outside every cluster\'s state');
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    const owner = stateIn(dir);
    if (owner) throw new PersistentDirError(dir, `holds the state of sifkube cluster ${owner}`, `start that cluster from it with \`sifkube start --name ${owner} --persistent ${dir}\`, or pass an empty folder`);
    throw new PersistentDirError(dir, 'not empty and not a sifkube state', 'pass an empty or new folder');
  }
}

/**
 * Checks a --persistent folder (checkPersistentDir), creates it, and checks that its filesystem can
 * hold an overlay's upper layer (node roots and container roots are overlays). Returns whether
 * sifkube created the folder (delete then removes it; a folder the user made stays, emptied).
 */
export function preparePersistentDir(dir: string, others: Record<string, string>): boolean {
  checkPersistentDir(dir, others);
  const existed = existsSync(dir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new PersistentDirError(dir, `cannot be created (${(err as Error).message})`, 'pass a folder on a writable filesystem');
  }
  const problem = overlayUpperProblem(dir);
  if (problem !== undefined) {
    const type = fsType(dir);
    if (!existed) rmSync(dir, { recursive: true, force: true });
    throw new PersistentDirError(dir, `its filesystem (${type}) cannot hold an overlay upper layer (${problem})`, 'pass a folder on ext4, xfs, btrfs or tmpfs');
  }
  return !existed;
}
