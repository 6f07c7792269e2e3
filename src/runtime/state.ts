import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

export function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
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

/** Whether the container's processes are frozen (cgroup freezer), when it has a cgroup. */
export type FrozenProbe = (rec: ContainerRecord) => boolean;

/** The container's status, from its processes and files rather than from what was last written. */
export function statusOf(root: string, rec: ContainerRecord, frozen?: FrozenProbe): Status {
  if (!rec.createdDone) return monitorAlive(rec) ? 'creating' : 'stopped';
  if (!initAlive(rec)) return 'stopped';
  if (existsSync(join(root, rec.id, 'exec.fifo'))) return 'created';
  if (frozen?.(rec)) return 'paused';
  return 'running';
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
