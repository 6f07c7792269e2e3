/**
 * Mounting a SIF's squashfs partition read-only straight from the image file, at its offset: with
 * a kernel loop device (mount -o loop,offset=,sizelimit= sets the loop device to autoclear, so the
 * kernel releases it at umount) or, where loop devices are unavailable, with squashfuse -o offset=.
 * Nothing is extracted or copied.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FsType, type Descriptor } from './format.js';
import { SifMountError } from './errors.js';
import { findDescriptor, primaryPartition, readSif } from './read.js';

export type MountMethod = 'loop' | 'squashfuse' | 'auto';

export interface MountOptions {
  method?: MountMethod;
  /** A partition other than the primary one. */
  partitionId?: number;
}

export interface MountResult {
  dir: string;
  method: 'loop' | 'squashfuse';
  offset: number;
  size: number;
}

function run(cmd: string, args: string[], what: string, missingFix: string): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new SifMountError(what, `${cmd} is not installed: ${missingFix}`);
    const msg = (e.stderr?.toString() ?? e.message).trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'failed';
    throw new SifMountError(what, `${cmd} failed: ${msg}`);
  }
}

/** Unescapes a mountinfo path (spaces and the like are written as \040 octal escapes). */
function unescape(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mountinfo entry whose mount point is `dir`, if any (the last one: the top of a stack). */
export function mountEntry(dir: string): { source: string; fstype: string } | undefined {
  // mountinfo names real paths: a path through a link (a --persistent cluster's state) must be resolved.
  let target = dir;
  try {
    target = realpathSync(dir);
  } catch {
    // gone, or a dead FUSE mount: look for the path as given
  }
  let found: { source: string; fstype: string } | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length < 10 || unescape(f[4]) !== target) continue;
    const sep = f.indexOf('-');
    found = { fstype: f[sep + 1], source: unescape(f[sep + 2]) };
  }
  return found;
}

function loopAvailable(): boolean {
  return existsSync('/dev/loop-control') && process.getuid?.() === 0;
}

function pickPartition(file: string, opts: MountOptions): Descriptor {
  const image = readSif(file);
  const d = opts.partitionId !== undefined ? findDescriptor(image, opts.partitionId) : primaryPartition(image);
  if (!d) throw new SifMountError(file, 'the image has no primary partition to mount: name one with --partition ID');
  if (!d.partition) throw new SifMountError(file, `object ${d.id} is not a partition`);
  if (d.partition.fsType !== FsType.Squashfs) throw new SifMountError(file, `partition ${d.id} is not squashfs: not supported yet: mounting ${d.partition.fsType === FsType.Ext3 ? 'ext3' : 'non-squashfs'} partitions`);
  return d;
}

/** Mounts the primary (or chosen) squashfs partition of `file` read-only on `dir` (created if missing). */
export function mountSif(file: string, dir: string, opts: MountOptions = {}): MountResult {
  const d = pickPartition(file, opts);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  if (!statSync(dir).isDirectory()) throw new SifMountError(dir, 'mount point is not a directory');
  const target = realpathSync(dir);
  if (mountEntry(target)) throw new SifMountError(target, 'something is already mounted here: unmount it first (sifkube sif umount)');
  if (readdirSync(target).length > 0) throw new SifMountError(target, 'mount point is not empty: pick an empty directory');
  const source = resolve(file);
  const loop = () => {
    if (!loopAvailable()) throw new SifMountError(file, 'loop devices need root and /dev/loop-control: run as root, or use --method squashfuse');
    run('mount', ['-t', 'squashfs', '-o', `ro,loop,offset=${d.offset},sizelimit=${d.size}`, source, target], target, 'apt-get install -y mount');
  };
  const fuse = () => run('squashfuse', ['-o', `offset=${d.offset}`, source, target], target, 'apt-get install -y squashfuse');
  let method: 'loop' | 'squashfuse' = opts.method === 'squashfuse' ? 'squashfuse' : 'loop';
  if (method === 'squashfuse') fuse();
  else if (opts.method === 'loop') loop();
  else {
    // auto: the kernel loop device where it works (no daemon, kernel page cache), else squashfuse.
    try {
      loop();
    } catch (err) {
      if (!(err instanceof SifMountError)) throw err;
      method = 'squashfuse';
      fuse();
    }
  }
  return { dir: target, method, offset: d.offset, size: d.size };
}

/** squashfuse daemons still serving `dir` (they exit shortly after the unmount). */
function fuseDaemons(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv[0].endsWith('squashfuse') && argv.includes(dir)) pids.push(Number(p));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Unmounts a SIF mounted by mountSif; the loop device (or squashfuse daemon) goes with it. */
export function unmountSif(dir: string): void {
  if (!existsSync(dir)) throw new SifMountError(dir, 'no such directory');
  const target = realpathSync(dir);
  const entry = mountEntry(target);
  if (!entry) throw new SifMountError(target, 'nothing is mounted here');
  if (entry.fstype !== 'squashfs' && entry.fstype !== 'fuse.squashfuse') {
    throw new SifMountError(target, `the mount here is ${entry.fstype}, not a SIF mount: unmount it with umount`);
  }
  run('umount', [target], target, 'apt-get install -y mount');
  // Wait (briefly) for a squashfuse daemon to exit, so callers see nothing left behind.
  const deadline = Date.now() + 5000;
  while (entry.fstype === 'fuse.squashfuse' && fuseDaemons(target).length > 0 && Date.now() < deadline) {
    execFileSync('sleep', ['0.05']);
  }
}
