import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupManager } from './cgroups/index.js';
import { ContainerNotFoundError, InvalidIdError } from './errors.js';
import type { Spec } from './spec/types.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export const DEFAULT_ROOT = '/run/sifkube/runtime';

/** What the runtime keeps about one container in ROOT/ID/state.json. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 creation time. */
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  monitorPid?: number;
  /** The process running `create` and its start time: until the monitor's pid is recorded, it says the container is still being created. */
  creatorPid?: number;
  creatorStartTime?: string;
  initPid?: number;
  /** /proc/PID/stat start time of the init: tells a live init from a reused pid. */
  initStartTime?: string;
  /** Set once the init reached the start barrier. */
  createdDone?: boolean;
  /** The cgroup path the container was placed in, when it has one. */
  cgroupsPath?: string;
}

/** How the container process ended, as the monitor recorded it. */
export interface ExitStatus {
  exitCode: number;
  signal?: number;
  finishedAt: string;
}

export function checkId(id: string): void {
  if (!/^[\w+.-]+$/.test(id) || id === '.' || id === '..' || id.length > 1024) throw new InvalidIdError(id);
}

export function containerDir(root: string, id: string): string {
  checkId(id);
  return join(root, id);
}

export function writeRecord(root: string, rec: ContainerRecord): void {
  const dir = containerDir(root, rec.id);
  writeFileSync(join(dir, 'state.json.tmp'), JSON.stringify(rec));
  renameSync(join(dir, 'state.json.tmp'), join(dir, 'state.json'));
}

export function readRecord(root: string, id: string): ContainerRecord {
  const dir = containerDir(root, id);
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ContainerRecord;
  } catch {
    throw new ContainerNotFoundError(id, root);
  }
}

/** The validated config the container was created with (kept for hooks and exec defaults). */
export function readSpec(root: string, id: string): Spec {
  return JSON.parse(readFileSync(join(containerDir(root, id), 'config.json'), 'utf8')) as Spec;
}

export function writeSpec(root: string, id: string, spec: Spec): void {
  writeFileSync(join(containerDir(root, id), 'config.json'), JSON.stringify(spec));
}

export function listIds(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((d) => existsSync(join(root, d, 'state.json'))).sort();
}

function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}

/** Makes ROOT/ID (and ROOT, the first time); false when it exists already. */
export function makeContainerDir(root: string, id: string): boolean {
  const dir = containerDir(root, id);
  for (let first = true; ; first = false) {
    try {
      mkdirSync(dir, { mode: 0o711 });
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'ENOENT' || !first) throw err;
      ensureRoot(root);
    }
  }
}

/** Removes ROOT/ID: its files one by one (cheaper than a recursive removal's probing), then itself. */
export function removeContainerDir(root: string, id: string): void {
  const dir = containerDir(root, id);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    for (const name of names) unlinkSync(join(dir, name));
    rmdirSync(dir);
  } catch {
    // a folder inside, or a file written meanwhile
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The start time field of /proc/PID/stat, or undefined when the process is gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

export function initAlive(rec: ContainerRecord): boolean {
  return !!rec.initPid && processStartTime(rec.initPid) === rec.initStartTime;
}

export function monitorAlive(rec: ContainerRecord): boolean {
  return !!rec.monitorPid && processStartTime(rec.monitorPid) !== undefined;
}

function creatorAlive(rec: ContainerRecord): boolean {
  return !!rec.creatorPid && processStartTime(rec.creatorPid) === rec.creatorStartTime;
}

function frozen(rec: ContainerRecord): boolean {
  try {
    return !!rec.cgroupsPath && new CgroupManager(rec.cgroupsPath).state() === 'frozen';
  } catch {
    return false;
  }
}

/** The container's status, from its processes, files and freezer rather than from what was last written. */
export function statusOf(root: string, rec: ContainerRecord): Status {
  // Between the clone and the monitor's pid being recorded only the creator says the create goes on:
  // without it a concurrent reader saw "stopped" and could kill the init it had just made.
  if (!rec.createdDone) return monitorAlive(rec) || creatorAlive(rec) ? 'creating' : 'stopped';
  if (!initAlive(rec)) return 'stopped';
  if (existsSync(join(root, rec.id, 'exec.fifo'))) return 'created';
  return frozen(rec) ? 'paused' : 'running';
}

export function readExit(root: string, id: string): ExitStatus | undefined {
  let text: string;
  try {
    text = readFileSync(join(containerDir(root, id), 'exit'), 'utf8');
  } catch {
    return undefined;
  }
  const [kind, value, time] = text.trim().split(' ');
  const finishedAt = new Date(Number(time) * 1000).toISOString();
  return kind === 'signaled' ? { exitCode: 128 + Number(value), signal: Number(value), finishedAt } : { exitCode: Number(value), finishedAt };
}

const wallAtLoad = BigInt(Date.now()) * 1_000_000n;
const hrAtLoad = process.hrtime.bigint();

/** Now in RFC 3339 with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano, as runc prints it). */
export function rfc3339Nano(): string {
  const ns = wallAtLoad + (process.hrtime.bigint() - hrAtLoad);
  const iso = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso}${frac ? `.${frac}` : ''}Z`;
}

/** The user name owning the container's state directory (runc's `list` OWNER column). */
export function ownerName(root: string, id: string): string {
  const uid = statSync(containerDir(root, id)).uid;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
  return line ? line.split(':')[0] : `#${uid}`;
}
