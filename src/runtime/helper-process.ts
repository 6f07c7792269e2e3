import { spawn, type ChildProcess, type IOType } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { InvalidInputError } from './errors.js';
import type { Stream } from 'node:stream';
import type { Duplex } from 'node:stream';
import { log } from './log.js';
import { helperPath } from './native.js';
import { encodePlan, type PlanLine } from './plan-encoding.js';

export interface StartedPlan {
  /** The helper process: the monitor that waits for the container process. */
  monitor: ChildProcess;
  /** The container process (the init, or the exec'd process), as the host sees it. */
  pid: number;
}

/** One of the container process's standard streams: inherited, a file descriptor, a stream, or none. */
export type Stdio = IOType | number | Stream;

export interface RunPlanOptions {
  /** stdin, stdout, stderr of the container process. */
  stdio: [Stdio, Stdio, Stdio];
  /** The monitor outlives the caller (create, detached exec). */
  detached: boolean;
  /** Called once the process's pid is known, before it goes on: to record it. */
  onPid?: (pid: number, monitorPid: number) => void | Promise<void>;
  /** Called when the init stops to let the create-time hooks run; a throw aborts the create. */
  onHooks?: (pid: number) => Promise<void>;
  /** --preserve-fds: this process's fds 3..3+N-1 become the container process's fds 3..3+N-1. */
  preserveFds?: number;
}

const isOpen = (fd: number): boolean => {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

/**
 * Checks --preserve-fds N: a count, and every fd it names open. As with runc, a gap the caller left
 * that Node's own startup fds filled cannot be told apart (Node marks inherited fds close-on-exec too).
 */
export function checkPreserveFds(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidInputError(`--preserve-fds ${n}: use a count of fds (0 or more) after fd 2`);
  for (let fd = 3; fd < 3 + n; fd++) {
    if (!isOpen(fd)) {
      throw new InvalidInputError(`--preserve-fds ${n}: fd ${fd} is not open: open fds 3..${2 + n} before running (e.g. exec ${fd}<FILE) or pass a smaller count`);
    }
  }
}

/** Why a plan failed: the helper's own message (the init's or the monitor's). */
export class PlanFailure extends Error {}

/**
 * Runs a plan with the native helper and follows its reports on fd 3 until the container process is
 * created (blocked at the start barrier, or exec'd). Resolves with the monitor and the pid.
 */
export function runPlan(lines: PlanLine[], opts: RunPlanOptions): Promise<StartedPlan> {
  const preserve = opts.preserveFds ?? 0;
  checkPreserveFds(preserve);
  // The preserved fds keep their numbers in the helper; its socket to us goes right above them.
  const kept = Array.from({ length: preserve }, (_, i) => 3 + i);
  const plan: PlanLine[] = preserve > 0 ? [['preservefds', String(preserve)], ...lines] : lines;
  log('debug', `helper plan:\n${plan.map((l) => l.join(' | ')).join('\n')}`);
  const monitor = spawn(helperPath(), ['container', String(3 + preserve)], { stdio: [...opts.stdio, ...kept, 'pipe'], detached: opts.detached });
  const sock = monitor.stdio[3 + preserve] as Duplex;
  sock.write(encodePlan(plan));
  return new Promise<StartedPlan>((resolve, reject) => {
    let pid = 0;
    let buf = '';
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      sock.removeAllListeners('data');
      sock.destroy();
      if (err) {
        monitor.once('exit', () => reject(err));
        if (monitor.exitCode !== null || monitor.signalCode !== null) reject(err);
      } else {
        if (opts.detached) monitor.unref();
        resolve({ monitor, pid });
      }
    };
    const onLine = async (line: string) => {
      const [word, ...rest] = line.split(' ');
      const text = rest.join(' ');
      if (word === 'pid') {
        pid = Number(text);
        try {
          await opts.onPid?.(pid, monitor.pid!);
          sock.write('go\n');
        } catch (err) {
          sock.write('abort\n');
          finish(err as Error);
        }
      } else if (word === 'hooks') {
        try {
          await opts.onHooks?.(pid);
          sock.write('go\n');
        } catch (err) {
          sock.write('abort\n');
          finish(err as Error);
        }
      } else if (word === 'created') {
        finish();
      } else if (word === 'error') {
        finish(new PlanFailure(text));
      }
    };
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void onLine(line);
      }
    });
    sock.on('error', () => {});
    monitor.on('error', (err) => finish(err));
    monitor.on('exit', (code, signal) => {
      if (!settled) finish(new PlanFailure(`the runtime helper ended before the container was created (${signal ?? `exit ${code}`})`));
    });
  });
}
