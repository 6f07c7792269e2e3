import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { helperPath } from '../../runtime/index.js';

/** The init holding a pod-wide PID namespace: its host pid and start time (so a reused pid is never killed). */
export interface PodInit {
  pid: number;
  startTime: string;
}

function startTimeOf(pid: number): string | undefined {
  try {
    // Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces, so count after its ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Starts the helper's pod-init (its own PID namespace, detached from this server). */
export async function startPodInit(): Promise<PodInit> {
  const { stdout } = await promisify(execFile)(helperPath(), ['pod-init']);
  const pid = Number(stdout.trim());
  const startTime = startTimeOf(pid);
  if (!Number.isInteger(pid) || pid <= 0 || !startTime) throw new Error(`pod-init did not start (it printed ${JSON.stringify(stdout.trim())})`);
  return { pid, startTime };
}

/** The namespace containers join. */
export function podPidNamespace(init: PodInit): string {
  return `/proc/${init.pid}/ns/pid`;
}

export function podInitAlive(init: PodInit): boolean {
  return startTimeOf(init.pid) === init.startTime;
}

/** SIGKILL to the init ends every process of the namespace; waits until it is gone. */
export async function stopPodInit(init: PodInit): Promise<void> {
  if (!podInitAlive(init)) return;
  process.kill(init.pid, 'SIGKILL');
  for (let i = 0; i < 200 && podInitAlive(init); i++) await new Promise((r) => setTimeout(r, 10));
}
