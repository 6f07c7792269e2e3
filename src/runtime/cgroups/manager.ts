import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { helperPath } from '../native.js';
import { applyV1, type V1Dirs } from './apply-v1.js';
import { applyV2 } from './apply-v2.js';
import { deviceFilterProgram, normalizeDeviceRules } from './devices.js';
import { CgroupConfigError, CgroupOperationError, CgroupUnsupportedError } from './errors.js';
import { readControl, readKeyed, readNumber, writeControl } from './files.js';
import { hostCgroupLayout } from './layout.js';
import { readStats } from './stats.js';
import type { CgroupDirs, CgroupLayout, CgroupStats, LinuxDeviceCgroup, LinuxResources, OomEvents } from './types.js';

/** The v1 controllers a container joins (the named, controller-less hierarchies are left alone). */
const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls', 'net_prio', 'perf_event', 'rdma', 'misc'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The child cgroups of a directory. cgroupfs counts subdirectories in a directory's link count, so a
 * leaf (nearly always) costs one stat rather than a listing of its dozens of control files.
 */
function childCgroups(dir: string): string[] {
  try {
    if (statSync(dir).nlink <= 2) return [];
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** A process's own cgroup in one hierarchy, from /proc/self/cgroup ("" selects the v2 line). */
function ownCgroup(controller: string): string {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, ctrls, path] = line.split(/:(.*?):/);
    if (path === undefined) continue;
    if ((controller === '' && ctrls === '') || (controller !== '' && ctrls.split(',').includes(controller))) return path;
  }
  return '/';
}

/** Checks an OCI cgroupsPath and returns it normalised; relative paths stay relative. */
function checkPath(cgroupsPath: string): string {
  if (/^[^/:]+:[^:]*:[^:]+$/.test(cgroupsPath)) {
    throw new CgroupUnsupportedError('linux.cgroupsPath', `${JSON.stringify(cgroupsPath)} is a systemd slice:prefix:name path, and the systemd cgroup driver is not supported yet`, 'use a filesystem path like /sifkube/pod/container');
  }
  const parts = cgroupsPath.split('/').filter(Boolean);
  if (parts.length === 0 || parts.some((p) => p === '..' || p === '.')) {
    throw new CgroupConfigError('linux.cgroupsPath', `is ${JSON.stringify(cgroupsPath)}`, 'use a path like /sifkube/pod/container (no ".." and not the root)');
  }
  return (cgroupsPath.startsWith('/') ? '/' : '') + parts.join('/');
}

/**
 * One container's cgroup, in every hierarchy it needs: on v2 one directory; on v1 one per
 * controller mount; on hybrid hosts also the cgroup2 directory (where hugetlb may live).
 */
export class CgroupManager {
  readonly layout: CgroupLayout;
  /** The container's path inside each hierarchy, e.g. /sifkube/pod/c1. */
  readonly paths: { v2?: string; v1: Map<string, string> };

  constructor(cgroupsPath: string, layout: CgroupLayout = hostCgroupLayout()) {
    this.layout = layout;
    const path = checkPath(cgroupsPath);
    const inner = (controller: string) => {
      if (path.startsWith('/')) return path;
      let own = ownCgroup(controller);
      // A systemd scope usually holds processes, so its children could not enable controllers.
      if (controller === '' && own.endsWith('.scope')) own = posix.dirname(own);
      return posix.join(own, path);
    };
    const v1 = new Map<string, string>();
    for (const c of V1_CONTROLLERS) {
      const mount = layout.v1.get(c);
      if (mount) v1.set(c, join(mount, inner(c)));
    }
    this.paths = { v1, v2: layout.unified ? join(layout.unified, inner('')) : undefined };
  }

  /** The directories a process joins: one per v1 hierarchy, and the v2 one. */
  joinDirs(): CgroupDirs {
    return { v1: [...new Set(this.paths.v1.values())], v2: this.paths.v2 };
  }

  /** Every directory of this cgroup, one per hierarchy. */
  dirs(): string[] {
    return [...new Set([...this.paths.v1.values(), ...(this.paths.v2 ? [this.paths.v2] : [])])];
  }

  private get v2Dir(): string | undefined {
    return this.layout.mode === 'v2' ? this.paths.v2 : undefined;
  }

  private v1Dirs(): V1Dirs {
    const unified = this.paths.v2 ? { dir: this.paths.v2, controllers: this.enabledHere(this.paths.v2) } : undefined;
    return { controllers: this.paths.v1, unified };
  }

  private enabledHere(dir: string): string[] {
    return (readControl(dirname(dir), 'cgroup.subtree_control') ?? '').trim().split(/\s+/).filter(Boolean);
  }

  /** Creates the cgroup in every hierarchy (parents too), enabling the v2 controllers on the way down. */
  create(): void {
    for (const dir of this.dirs()) {
      const isV2 = dir === this.paths.v2;
      const root = isV2 ? this.layout.unified! : [...this.layout.v1.values()].find((m) => dir.startsWith(`${m}/`))!;
      const rel = dir.slice(root.length).split('/').filter(Boolean);
      let cur = root;
      for (const part of rel) {
        if (isV2) this.enableControllers(cur);
        const parent = cur;
        cur = join(cur, part);
        try {
          mkdirSync(cur);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CgroupOperationError(`creating cgroup ${cur}`, e);
        }
        // A new v1 cpuset is empty, and a process cannot join it until cpus and mems are set.
        if (dir === this.paths.v1.get('cpuset')) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) {
            if ((readControl(cur, f) ?? '').trim() === '') writeFileSync(join(cur, f), readControl(parent, f)?.trim() ?? '');
          }
        }
      }
    }
  }

  /** Turns on, in a v2 directory's subtree_control, every controller it has that is not on yet. */
  private enableControllers(dir: string): void {
    const available = (readControl(dir, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean);
    const enabled = new Set((readControl(dir, 'cgroup.subtree_control') ?? '').trim().split(/\s+/));
    const missing = available.filter((c) => !enabled.has(c));
    if (missing.length === 0) return;
    try {
      writeFileSync(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    } catch (e) {
      throw new CgroupOperationError(`enabling controllers ${missing.join(' ')} in ${dir}/cgroup.subtree_control`, e, 'a v2 cgroup that holds processes cannot delegate controllers: move them to a leaf cgroup first');
    }
  }

  /** Applies linux.resources; every limit asked for is set, or an error names the field. */
  apply(resources: LinuxResources): void {
    const v2 = this.v2Dir;
    if (v2) {
      applyV2(v2, resources);
      if (resources.devices) this.attachDeviceFilter(resources.devices);
    } else {
      applyV1(this.v1Dirs(), resources);
    }
  }

  /** v2: loads the eBPF device program for `devices` and attaches it to this cgroup (replacing any before). */
  attachDeviceFilter(devices: LinuxDeviceCgroup[], dir = this.paths.v2): void {
    if (!dir) throw new CgroupUnsupportedError('linux.resources.devices', 'this host has no cgroup v2 hierarchy for an eBPF device filter', 'use the v1 devices controller');
    const program = deviceFilterProgram(normalizeDeviceRules(devices));
    const r = spawnSync(helperPath(), ['cgroup-devices', dir], { input: program, encoding: 'utf8' });
    if (r.status !== 0) throw new CgroupOperationError(`linux.resources.devices: attaching the eBPF device filter to ${dir}`, (r.stderr || r.error?.message || '').trim(), 'the kernel needs CONFIG_CGROUP_BPF and root');
  }

  /** Moves a process (all its threads) into the cgroup in every hierarchy. */
  addPid(pid: number): void {
    for (const dir of this.dirs()) {
      try {
        writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      } catch (e) {
        throw new CgroupOperationError(`adding pid ${pid} to ${dir}`, e, 'check that the process exists and the cgroup was created');
      }
    }
  }

  /** The pids in the cgroup and all its descendants. */
  pids(): number[] {
    const out = new Set<number>();
    const walk = (dir: string) => {
      for (const l of (readControl(dir, 'cgroup.procs') ?? '').split('\n')) if (l.trim()) out.add(Number(l));
      for (const child of childCgroups(dir)) walk(child);
    };
    for (const dir of this.dirs()) walk(dir);
    return [...out].sort((a, b) => a - b);
  }

  /** Freezes every process and returns once the kernel reports the cgroup frozen. */
  async freeze(): Promise<void> {
    await this.setFrozen(true);
  }

  async thaw(): Promise<void> {
    await this.setFrozen(false);
  }

  /** "frozen" or "thawed", as the freezer reports it. */
  state(): 'frozen' | 'thawed' {
    const v2 = this.v2Dir;
    if (v2) return readKeyed(v2, 'cgroup.events').frozen === 1 ? 'frozen' : 'thawed';
    const dir = this.paths.v1.get('freezer');
    return dir && readControl(dir, 'freezer.state')?.trim() === 'FROZEN' ? 'frozen' : 'thawed';
  }

  private async setFrozen(frozen: boolean): Promise<void> {
    const v2 = this.v2Dir;
    const freezer = this.paths.v1.get('freezer');
    if (!v2 && !freezer) throw new CgroupUnsupportedError('freeze', 'this host has no freezer (neither cgroup.freeze nor the v1 freezer controller)', 'mount the freezer controller');
    const write = () =>
      v2 ? writeControl(v2, 'cgroup.freeze', frozen ? '1' : '0', 'freeze') : writeControl(freezer!, 'freezer.state', frozen ? 'FROZEN' : 'THAWED', 'freeze');
    write();
    const want = frozen ? 'frozen' : 'thawed';
    for (let i = 0; i < 500; i++) {
      if (this.state() === want) return;
      // A v1 freezer can stay FREEZING while a task sleeps in the kernel: asking again moves it on.
      if (!v2 && i % 10 === 9) write();
      await sleep(10);
    }
    throw new CgroupOperationError(`${frozen ? 'freezing' : 'thawing'} ${v2 ?? freezer}`, `still ${this.state()} after 5 s`, 'a process may be stuck in uninterruptible sleep; try again');
  }

  /** Kills every process in the cgroup (cgroup.kill on v2, else freeze, signal each, thaw) and waits for them to go. */
  async killAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const v2 = this.v2Dir;
    if (v2 && signal === 'SIGKILL' && existsSync(join(v2, 'cgroup.kill'))) {
      writeControl(v2, 'cgroup.kill', '1', 'kill');
    } else {
      const canFreeze = !!(v2 || this.paths.v1.get('freezer'));
      // Frozen, no process can fork a child we would miss.
      if (canFreeze) await this.freeze();
      for (const pid of this.pids()) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
      if (canFreeze) await this.thaw();
    }
    if (signal !== 'SIGKILL') return;
    for (let i = 0; i < 500 && this.pids().length > 0; i++) await sleep(10);
    if (this.pids().length > 0) throw new CgroupOperationError(`killing the processes of ${this.dirs()[0]}`, `pids ${this.pids().join(', ')} are still there after 5 s`, 'they may be stuck in uninterruptible sleep; try again');
  }

  /** Out-of-memory counters: the caller reports OOMKilled when oomKill grew. */
  oomEvents(): OomEvents {
    const v2 = this.v2Dir;
    if (v2) {
      const e = readKeyed(v2, 'memory.events');
      return { oom: e.oom ?? 0, oomKill: e.oom_kill ?? 0, underOom: false };
    }
    const dir = this.paths.v1.get('memory');
    const c = dir ? readKeyed(dir, 'memory.oom_control') : {};
    return { oom: c.oom_kill ?? 0, oomKill: c.oom_kill ?? 0, underOom: c.under_oom === 1 };
  }

  stats(): CgroupStats {
    return readStats(this.v2Dir, this.v1Dirs());
  }

  /** The limit a v1 or v2 memory controller enforces now (undefined: unlimited). */
  memoryLimit(): number | undefined {
    const v2 = this.v2Dir;
    const v = v2 ? readNumber(v2, 'memory.max') : readNumber(this.paths.v1.get('memory') ?? '/nonexistent', 'memory.limit_in_bytes');
    return v !== undefined && v < 2 ** 62 ? v : undefined;
  }

  /** Removes the cgroup (descendants first) from every hierarchy, retrying while exiting processes drain. */
  async remove(): Promise<void> {
    for (const dir of this.dirs()) {
      const order: string[] = [];
      const walk = (d: string) => {
        for (const child of childCgroups(d)) walk(child);
        order.push(d);
      };
      walk(dir);
      for (const d of order) {
        for (let i = 0; ; i++) {
          try {
            rmdirSync(d);
            break;
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code === 'ENOENT') break;
            if (code !== 'EBUSY' || i >= 200) throw new CgroupOperationError(`removing cgroup ${d}`, e, 'kill its processes first (killAll)');
            await sleep(10);
          }
        }
      }
    }
  }
}
