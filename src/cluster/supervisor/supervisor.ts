import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { probe, type HealthCheck } from './health.js';

/** One supervised program: a control-plane component, the kubelet, kube-proxy. */
export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  health?: HealthCheck;
  /** components that must be healthy before this one first starts (kube-apiserver after etcd, …) */
  after?: string[];
}

export type ComponentPhase = 'waiting' | 'running' | 'backoff' | 'stopping' | 'stopped';

export interface ComponentStatus {
  name: string;
  phase: ComponentPhase;
  pid?: number;
  healthy: boolean;
  restarts: number;
  startedAt?: string;
  lastExit?: { code: number | null; signal: string | null; at: string };
  /** when phase is backoff: the delay before the next start */
  backoffMs?: number;
  logFile: string;
}

export interface SupervisorOptions {
  logDir: string;
  /** written (atomically) on every change, for `sifkube status` */
  statusFile?: string;
  /** first restart delay; doubles on each quick failure up to maxBackoffMs */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** a run this long resets the backoff */
  resetAfterMs?: number;
  healthIntervalMs?: number;
  /** how often health is probed while a component waits for others to be healthy */
  waitingIntervalMs?: number;
}

/** What a supervisor writes for `sifkube status`. PIDs are in its own PID namespace (a node's, usually). */
export interface SupervisorStatusFile {
  updatedAt: string;
  supervisorPid: number;
  /** `pid:[inode]` of the supervisor's PID namespace: its PIDs mean something only there */
  pidNamespace: string;
  /** the supervisor stopped its components on purpose */
  stopped: boolean;
  components: ComponentStatus[];
}

const PID_NAMESPACE = readlinkSync('/proc/self/ns/pid');

interface Slot {
  spec: ComponentSpec;
  status: ComponentStatus;
  child?: ChildProcess;
  failures: number;
  timer?: NodeJS.Timeout;
  started: number;
}

/**
 * Runs components as children, each logging to <logDir>/<name>.log; restarts one that exits with
 * exponential backoff; probes health endpoints; stops them all with SIGTERM, then SIGKILL.
 */
export class Supervisor {
  private readonly slots = new Map<string, Slot>();
  private readonly opts: Required<Omit<SupervisorOptions, 'statusFile'>> & { statusFile?: string };
  private healthTimer?: NodeJS.Timeout;
  private probing = false;
  private stopping = false;

  constructor(opts: SupervisorOptions) {
    this.opts = { initialBackoffMs: 500, maxBackoffMs: 10_000, resetAfterMs: 10_000, healthIntervalMs: 500, waitingIntervalMs: 50, ...opts };
    mkdirSync(opts.logDir, { recursive: true });
  }

  start(specs: ComponentSpec[]): void {
    const known = new Set([...this.slots.keys(), ...specs.map((s) => s.name)]);
    for (const spec of specs) {
      if (this.slots.has(spec.name)) throw new Error(`component ${spec.name} is already supervised`);
      const unknown = (spec.after ?? []).filter((d) => !known.has(d));
      if (unknown.length > 0) throw new Error(`component ${spec.name} waits for unknown component(s) ${unknown.join(', ')}`);
      const slot: Slot = { spec, failures: 0, started: 0, status: { name: spec.name, phase: 'waiting', healthy: false, restarts: 0, logFile: join(this.opts.logDir, `${spec.name}.log`) } };
      this.slots.set(spec.name, slot);
    }
    this.startReady();
    // The status file exists from the start, even for a node with nothing to run yet.
    this.save();
    if (!this.probing) {
      this.probing = true;
      void this.healthLoop();
    }
  }

  /** Starts every waiting component whose dependencies are all healthy. */
  private startReady(): void {
    for (const slot of this.slots.values()) {
      if (this.stopping || slot.status.phase !== 'waiting') continue;
      if ((slot.spec.after ?? []).every((d) => this.slots.get(d)?.status.healthy)) this.launch(slot);
    }
  }

  private setHealthy(slot: Slot, healthy: boolean): void {
    if (slot.status.healthy === healthy) return;
    slot.status.healthy = healthy;
    this.save();
    if (healthy) this.startReady();
  }

  /** Probes health periodically, faster while a component waits for another to become healthy. */
  private async healthLoop(): Promise<void> {
    await this.checkHealth();
    if (this.stopping) return;
    const waiting = [...this.slots.values()].some((s) => s.status.phase === 'waiting');
    this.healthTimer = setTimeout(() => void this.healthLoop(), waiting ? this.opts.waitingIntervalMs : this.opts.healthIntervalMs);
  }

  status(): ComponentStatus[] {
    return [...this.slots.values()].map((s) => ({ ...s.status }));
  }

  /** Resolves once the component's health check passes (probed every 20 ms meanwhile); rejects after timeoutMs. */
  async waitHealthy(name: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const slot = this.slots.get(name);
      if (slot?.status.healthy) return;
      if (slot?.status.phase === 'running' && slot.spec.health) {
        const pid = slot.status.pid;
        if ((await probe(slot.spec.health, 200)) && slot.status.pid === pid) {
          this.setHealthy(slot, true);
          return;
        }
      }
      if (Date.now() > deadline) {
        const log = slot ? readFileSync(slot.status.logFile, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
        throw new Error(`${name} not healthy after ${timeoutMs} ms (last log lines: ${log})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private log(slot: Slot, line: string): void {
    const fd = openSync(slot.status.logFile, 'a');
    writeSync(fd, `${new Date().toISOString()} sifkube-supervisor: ${line}\n`);
    closeSync(fd);
  }

  private launch(slot: Slot): void {
    const { spec } = slot;
    const fd = openSync(slot.status.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...spec.env } });
    } finally {
      closeSync(fd);
    }
    slot.child = child;
    slot.started = Date.now();
    Object.assign(slot.status, { phase: 'running', pid: child.pid, healthy: false, startedAt: new Date().toISOString(), backoffMs: undefined });
    this.log(slot, `started ${spec.command} (pid ${child.pid})`);
    child.on('error', (err) => this.log(slot, `cannot start ${spec.command}: ${err.message}`));
    child.on('close', (code, signal) => this.exited(slot, child, code, signal));
    this.save();
  }

  private exited(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    Object.assign(slot.status, { pid: undefined, healthy: false, lastExit: { code, signal, at: new Date().toISOString() } });
    if (this.stopping) {
      slot.status.phase = 'stopped';
      this.save();
      return;
    }
    slot.failures = Date.now() - slot.started >= this.opts.resetAfterMs ? 1 : slot.failures + 1;
    const delay = Math.min(this.opts.initialBackoffMs * 2 ** (slot.failures - 1), this.opts.maxBackoffMs);
    Object.assign(slot.status, { phase: 'backoff', backoffMs: delay });
    this.log(slot, `exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      slot.status.restarts += 1;
      this.launch(slot);
    }, delay);
    this.save();
  }

  private async checkHealth(): Promise<void> {
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        if (slot.status.phase !== 'running') return;
        const pid = slot.status.pid;
        // No health check: running is healthy.
        const healthy = slot.spec.health ? await probe(slot.spec.health) : true;
        if (slot.status.pid === pid && slot.status.phase === 'running') this.setHealthy(slot, healthy);
      }),
    );
  }

  /** Stops every component: SIGTERM, then SIGKILL after timeoutMs; resolves when all have exited. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.healthTimer) clearTimeout(this.healthTimer);
    const waits: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      if (slot.timer) clearTimeout(slot.timer);
      const child = slot.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        slot.status.phase = 'stopped';
        continue;
      }
      slot.status.phase = 'stopping';
      waits.push(
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          child.once('close', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
      );
    }
    await Promise.all(waits);
    this.save();
  }

  private save(): void {
    const file = this.opts.statusFile;
    if (!file) return;
    const status: SupervisorStatusFile = { updatedAt: new Date().toISOString(), supervisorPid: process.pid, pidNamespace: PID_NAMESPACE, stopped: this.stopping, components: this.status() };
    writeFileSync(`${file}.tmp`, `${JSON.stringify(status, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
}

/** Reads a status file a supervisor wrote (for `status` from another process). */
export function readSupervisorStatus(file: string): SupervisorStatusFile {
  return JSON.parse(readFileSync(file, 'utf8'));
}
