import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { capabilityMasks, runtimeBoundingSet } from './capabilities.js';
import { cgroupMountLines } from './cgroup-mount.js';
import type { CgroupDirs } from './cgroups/index.js';
import type { CompiledSeccomp, LinuxSeccomp } from './seccomp/index.js';
import { InvalidConfigError, NotSupportedError } from './errors.js';
import { log } from './log.js';
import type { PlanLine } from './plan-encoding.js';
import { secureJoin } from './secure-join.js';
import { CAPABILITIES, IOPRIO_CLASSES, MS, NAMESPACE_FLAGS, PERSONALITY_DOMAINS, RLIMITS, SCHED_FLAGS, SCHED_POLICIES } from './spec/constants.js';
import { parseMountOptions, propagationFlags } from './spec/mount-options.js';
import type { Device, Mount, Namespace, NamespaceType, Personality, Process, Spec } from './spec/types.js';

/** Where create puts things for one container. */
export interface CreatePlanInput {
  spec: Spec;
  bundle: string;
  rootfs: string;
  stateDir: string;
  consoleSocket?: string;
  noPivot?: boolean;
  /** The container's cgroup (linux.cgroupsPath or the runtime's default). */
  cgroupsPath: string;
  /** Its directories, created already: the init joins them before anything else. */
  cgroupDirs: CgroupDirs;
  seccomp?: CompiledSeccomp;
  /** The monitor leaves once created; the init goes to the caller's subreaper (see CreateOptions). */
  reparent?: boolean;
  /** A terminal without a console socket: the monitor runs the caller's stdio through it. */
  ptyProxy?: boolean;
}

const DEFAULT_DEVICES: Device[] = [
  { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666 },
  { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: 0o666 },
  { type: 'c', path: '/dev/full', major: 1, minor: 7, fileMode: 0o666 },
  { type: 'c', path: '/dev/random', major: 1, minor: 8, fileMode: 0o666 },
  { type: 'c', path: '/dev/urandom', major: 1, minor: 9, fileMode: 0o666 },
  { type: 'c', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o666 },
];
const DEV_LINKS: [string, string][] = [
  ['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];
const DEVICE_TYPE_BITS = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 } as const;
/** Namespaces that setns applies to children only: the monitor joins them before clone. */
const JOINED_BY_MONITOR: NamespaceType[] = ['pid', 'time'];

const num = (n: number | bigint): string => String(n);

/** A namespace to join: its type, its file, and the config field (or what) named it, for errors. */
interface JoinedNamespace {
  type: NamespaceType;
  path: string;
  field: string;
}

/** The namespace of this process, as "type:[inode]", to tell whether joining one changes anything. */
function ownNamespace(file: string): string {
  return readlinkSync(`/proc/self/ns/${file}`);
}

/**
 * The lines that join existing namespaces: pid and time ones are joined by the monitor (they only
 * apply to children), and so is a user namespace when the container's new namespaces must belong to
 * it; the rest by the init, user first (it grants the rights to join the others). Each side is one
 * line: the helper opens every namespace file before it joins a user namespace, after which it could
 * no longer open the others.
 */
function joinLines(namespaces: JoinedNamespace[], userByMonitor = false): { monitor: PlanLine[]; init: PlanLine[] } {
  const byMonitor: NamespaceType[] = userByMonitor ? ['user', ...JOINED_BY_MONITOR] : JOINED_BY_MONITOR;
  const byInit = (['user', 'ipc', 'uts', 'network', 'cgroup', 'mount'] as NamespaceType[]).filter((t) => !byMonitor.includes(t));
  // FLAG PATH FIELD per namespace: the helper checks each file's type and joins it with that type.
  const line = (types: NamespaceType[]): PlanLine[] => {
    const triples = types.flatMap((t) => namespaces.filter((n) => n.type === t).flatMap((n) => [num(NAMESPACE_FLAGS[t].flag), n.path, n.field]));
    return triples.length > 0 ? [['setns', ...triples]] : [];
  };
  const monitor = line(byMonitor);
  const init = line(byInit);
  return { monitor, init };
}

/**
 * How a new process joins its cgroup without the runtime writing its pid to cgroup.procs (which
 * waits for an RCU grace period per create): the monitor clones it into the v2 directory, and it
 * moves itself into the v1 ones. Inside a new user namespace it may not write the host's cgroup
 * files, so there the monitor writes its pid.
 */
function cgroupLines(dirs: CgroupDirs, freshUserNs: boolean): { monitor: PlanLine[]; init: PlanLine[] } {
  const monitor: PlanLine[] = dirs.v2 ? [['cgroup2', dirs.v2]] : [];
  if (dirs.v1.length === 0) return { monitor, init: [] };
  if (freshUserNs) return { monitor: [...monitor, ['cgprocs', ...dirs.v1]], init: [] };
  return { monitor, init: [['cgjoin', ...dirs.v1]] };
}

/** Scheduler, I/O priority and personality: set while the process still has every capability. */
function attributeLines(p: Process, personality?: Personality): PlanLine[] {
  const lines: PlanLine[] = [];
  if (personality) lines.push(['personality', num(PERSONALITY_DOMAINS[personality.domain]), personality.domain]);
  const s = p.scheduler;
  if (s) {
    const flags = (s.flags ?? []).reduce((f, name) => f | SCHED_FLAGS[name as keyof typeof SCHED_FLAGS], 0);
    const policy = SCHED_POLICIES[s.policy as keyof typeof SCHED_POLICIES];
    lines.push(['scheduler', num(policy), num(flags), num(s.nice ?? 0), num(s.priority ?? 0), num(s.runtime ?? 0), num(s.deadline ?? 0), num(s.period ?? 0), s.policy]);
  }
  if (p.ioPriority) lines.push(['ioprio', num(IOPRIO_CLASSES[p.ioPriority.class]), num(p.ioPriority.priority), p.ioPriority.class]);
  return lines;
}

/** A validated CPU list as the helper reads it: no blanks. */
const cpuList = (list: string): string => list.replace(/\s/g, '');

export interface ProcessLineOptions {
  console: boolean;
  /** The init of create: it waits at the start barrier. */
  barrier: boolean;
  seccomp?: CompiledSeccomp;
  /** linux.personality of the container. */
  personality?: Personality;
}

/** The process part of a plan: limits, attributes, credentials, capabilities, then exec. */
export function processLines(p: Process, opts: ProcessLineOptions): PlanLine[] {
  const lines: PlanLine[] = [];
  if (p.terminal) {
    if (!opts.console) throw new NotSupportedError('process.terminal for a detached container without --console-socket: pass a console socket (as containerd and conmon do)');
    // Only the init (the one behind the start barrier) gets /dev/console.
    lines.push(['pty', num(p.consoleSize?.height ?? 0), num(p.consoleSize?.width ?? 0), opts.barrier ? '1' : '0']);
  }
  if (p.oomScoreAdj !== undefined) {
    // Without CAP_SYS_RESOURCE the runtime cannot go below its own score (containerd's restrict_oom_score_adj).
    const floor = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
    let v = p.oomScoreAdj;
    if (v < floor && !(runtimeBoundingSet() & (1n << BigInt(CAPABILITIES.indexOf('CAP_SYS_RESOURCE'))))) {
      log('warning', `process.oomScoreAdj ${v} is below what the runtime may set without CAP_SYS_RESOURCE: using ${floor}`);
      v = floor;
    }
    lines.push(['write', '/proc/self/oom_score_adj', num(v)]);
  }
  for (const r of p.rlimits ?? []) lines.push(['rlimit', num(RLIMITS.indexOf(r.type as (typeof RLIMITS)[number])), num(r.soft), num(r.hard)]);
  lines.push(...attributeLines(p, opts.personality));
  const seccomp: PlanLine[] = opts.seccomp ? [['seccomp', opts.seccomp.program.toString('hex'), num(opts.seccomp.flags)]] : [];
  // As runc: without no_new_privs the filter needs CAP_SYS_ADMIN, so it goes in before the caps drop;
  // with it, as late as possible.
  if (!p.noNewPrivileges) lines.push(...seccomp);
  const { masks, dropped } = capabilityMasks(p.capabilities);
  if (dropped.length > 0) log('warning', `the runtime itself lacks ${dropped.join(', ')}: the container gets them in no set`);
  lines.push(['bounding', num(masks.bounding)]);
  lines.push(['keepcaps', '1']);
  lines.push(['groups', ...(p.user.additionalGids ?? []).map(num)]);
  lines.push(['gid', num(p.user.gid)], ['uid', num(p.user.uid)], ['keepcaps', '0']);
  lines.push(['caps', num(masks.effective), num(masks.permitted), num(masks.inheritable)]);
  if (masks.ambient) lines.push(['ambient', num(masks.ambient)]);
  lines.push(['umask', num(p.user.umask ?? 0o022)], ['chdir', p.cwd]);
  // runtime-spec: execCPUAffinity is for exec'd processes only. Without a final list, one that had
  // an initial list gets the container's default back (every CPU its cpuset allows), as in runc.
  const affinity = p.execCPUAffinity;
  if (!opts.barrier && affinity?.final) lines.push(['affinity', cpuList(affinity.final), 'process.execCPUAffinity.final']);
  else if (!opts.barrier && affinity?.initial) lines.push(['affinity', 'all', 'process.execCPUAffinity (reset after initial)']);
  if (p.noNewPrivileges) lines.push(['nonewprivs']);
  if (p.noNewPrivileges && !opts.barrier) lines.push(...seccomp);
  lines.push(['clearenv'], ...(p.env ?? []).map((e) => ['env', e]));
  if (!(p.env ?? []).some((e) => e.startsWith('PATH='))) lines.push(['env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  lines.push(['lookup', p.args[0]]);
  if (opts.barrier) lines.push(['wait']);
  if (p.noNewPrivileges && opts.barrier) lines.push(...seccomp);
  lines.push(['exec', p.args[0], ...p.args]);
  return lines;
}

function idMapText(maps: { containerID: number; hostID: number; size: number }[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** A path inside the root filesystem, resolved there (see secureJoin). */
type InRoot = (path: string) => string;

/**
 * The user namespace whose mapping an idmapped mount takes: its own mappings, else the container's
 * (a new user namespace's mappings, or the one it joins), as the helper's "idmount" line wants it.
 */
function idmapSource(spec: Spec, m: Mount): string[] {
  if (m.uidMappings && m.gidMappings) return [idMapText(m.uidMappings), idMapText(m.gidMappings)];
  const user = spec.linux?.namespaces?.find((n) => n.type === 'user');
  if (user?.path) return [user.path];
  return [idMapText(spec.linux?.uidMappings ?? []), idMapText(spec.linux?.gidMappings ?? [])];
}

/**
 * The mount lines for config.json's mounts, in order, relative to the root filesystem; idmapped
 * mounts also need monitor lines (made in the host's user namespace, see native/idmap_mount.c).
 */
function mountLines(spec: Spec, bundle: string, inRoot: InRoot, ownCgroupNs: boolean, cgroupsPath: string, userNs: boolean): { init: PlanLine[]; monitor: PlanLine[] } {
  const lines: PlanLine[] = [];
  const monitor: PlanLine[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    const dest = inRoot(m.destination);
    const o = parseMountOptions(m.options, m.type, !!m.uidMappings);
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      lines.push(...cgroupMountLines(dest, o.flags, ownCgroupNs, cgroupsPath, userNs));
    } else if (o.bind) {
      const src = isAbsolute(m.source!) ? m.source! : join(bundle, m.source!);
      let dir: boolean;
      try {
        dir = statSync(src).isDirectory();
      } catch {
        throw new InvalidConfigError('config.json', `mounts[${i}].source`, `${src} does not exist: create it or remove the mount`);
      }
      lines.push(dir ? ['mkdir', dest, '493'] : ['touch', dest]);
      if (o.idmap) {
        const slot = num(monitor.length);
        monitor.push(['idmount', slot, `mounts[${i}] (${m.destination})`, src, o.recursive ? '1' : '0', o.recursiveIdmap ? '1' : '0', ...idmapSource(spec, m)]);
        lines.push(['movemount', slot, dest]);
      } else {
        lines.push(['mount', src, dest, '', num(MS.BIND | (o.recursive ? MS.REC : 0)), '']);
      }
      if (o.remount) lines.push(['mount', '', dest, '', num(MS.BIND | MS.REMOUNT | (o.recursive ? MS.REC : 0) | o.flags), '']);
    } else {
      lines.push(['mkdir', dest, '493']);
      lines.push(['mount', m.source ?? m.type!, dest, m.type!, num(o.flags), o.data.join(',')]);
    }
    for (const p of o.propagation) lines.push(['mount', '', dest, '', num(p), '']);
  });
  return { init: lines, monitor };
}

/** Default devices and linux.devices: made with mknod, or bound from the host inside a user namespace. */
function deviceLines(spec: Spec, inRoot: InRoot, userNs: boolean): PlanLine[] {
  const dev = inRoot('/dev');
  const lines: PlanLine[] = [['mkdir', dev, '493']];
  const devices = [...DEFAULT_DEVICES.filter((d) => !(spec.linux?.devices ?? []).some((x) => x.path === d.path)), ...(spec.linux?.devices ?? [])];
  for (const d of devices) {
    const at = inRoot(d.path);
    if (userNs) {
      // A user namespace may not mknod: bind the host's node of the same path, as runc does.
      if (!existsSync(d.path)) throw new NotSupportedError(`linux.devices ${d.path} in a user namespace when the host has no such device node`);
      lines.push(['touch', at], ['mount', d.path, at, '', num(MS.BIND), '']);
    } else {
      const mode = DEVICE_TYPE_BITS[d.type] | ((d.fileMode ?? 0o666) & 0o7777);
      if (posix.dirname(at) !== dev) lines.push(['mkdir', posix.dirname(at), '493']);
      lines.push(['mknod', at, num(mode), num(d.major ?? 0), num(d.minor ?? 0), num(d.uid ?? 0), num(d.gid ?? 0)]);
    }
  }
  // A link is made in its (resolved) folder, never through an existing link of the same name.
  const linkAt = (path: string) => posix.join(inRoot(posix.dirname(path)), posix.basename(path));
  for (const [target, path] of DEV_LINKS) lines.push(['symlink', target, linkAt(path)]);
  // As runc: /dev/core only where the kernel has /proc/kcore.
  if (existsSync('/proc/kcore')) lines.push(['symlink', '/proc/kcore', linkAt('/dev/core')]);
  if ((spec.mounts ?? []).some((m) => m.destination === '/dev/pts')) lines.push(['symlink', 'pts/ptmx', linkAt('/dev/ptmx')]);
  return lines;
}

/**
 * The container's seccomp filter, compiled (it applies to exec'd processes too). The compiler and
 * its syscall tables load only for a config that has a filter: the CLI starts faster without them.
 */
export async function compiledSeccomp(spec: Spec): Promise<CompiledSeccomp | undefined> {
  if (!spec.linux?.seccomp) return undefined;
  const { compileSeccomp } = await import('./seccomp/index.js');
  return compileSeccomp(spec.linux.seccomp as unknown as LinuxSeccomp, (m) => log('warning', m));
}

/**
 * What cannot be done in the runtime's own mount namespace without changing the caller's mounts:
 * masking and read-only paths (runc refuses them too), a read-only root (a remount of the mount
 * holding the rootfs), and a root propagation (of the caller's "/").
 */
function refuseInSharedMountNs(spec: Spec): void {
  const fix = 'add {"type": "mount"} to linux.namespaces, or remove the setting';
  const why = 'needs a mount namespace of its own (without one the container shares the runtime\'s)';
  if (spec.linux?.maskedPaths?.length) throw new InvalidConfigError('config.json', 'linux.maskedPaths', `${why}: ${fix}`);
  if (spec.linux?.readonlyPaths?.length) throw new InvalidConfigError('config.json', 'linux.readonlyPaths', `${why}: ${fix}`);
  if (spec.root.readonly) throw new InvalidConfigError('config.json', 'root.readonly', `${why}: ${fix}`);
  if (spec.linux?.rootfsPropagation) throw new InvalidConfigError('config.json', 'linux.rootfsPropagation', `${why}: ${fix}`);
}

/** The complete plan of `create`: monitor lines, clone, then the init's lines up to exec. */
export function createPlan(input: CreatePlanInput): PlanLine[] {
  const { spec, rootfs, stateDir } = input;
  const process = spec.process;
  if (!process) throw new InvalidConfigError('config.json', 'process', 'is required to create a container');
  const namespaces: Namespace[] = spec.linux?.namespaces ?? [];
  const has = (t: NamespaceType) => namespaces.some((n) => n.type === t);
  const fresh = namespaces.filter((n) => !n.path);
  const joined: JoinedNamespace[] = namespaces.flatMap((n, i) => (n.path ? [{ type: n.type, path: n.path, field: `linux.namespaces[${i}].path` }] : []));
  // runtime-spec: without a mount namespace the container shares the runtime's (see sharedMountNsLines).
  const sharedMounts = !has('mount');
  if (sharedMounts) refuseInSharedMountNs(spec);
  const userNs = has('user');
  // A user namespace joined by path owns the namespaces the container makes (as runc's setns then
  // unshare): the monitor joins it before clone, so even the new pid namespace is its.
  const joinsUser = joined.some((n) => n.type === 'user');
  const { monitor, init } = joinLines(joined, joinsUser);
  const cgroup = cgroupLines(input.cgroupDirs, fresh.some((n) => n.type === 'user'));

  const lines: PlanLine[] = [['exitdir', stateDir], ['fifo', join(stateDir, 'exec.fifo')], ['detach']];
  if (input.reparent) lines.push(['reparent']);
  const proxy = !input.consoleSocket && !!input.ptyProxy && !!process.terminal;
  if (input.consoleSocket) lines.push(['console', input.consoleSocket]);
  if (proxy) lines.push(['ptyproxy']);
  const seen = new Map<string, string | undefined>();
  const inRoot: InRoot = (path) => secureJoin(rootfs, path, seen);
  const mounts = mountLines(spec, input.bundle, inRoot, fresh.some((n) => n.type === 'cgroup'), input.cgroupsPath, userNs);
  // Idmapped mounts are made before the monitor joins a pid or time namespace (their helper child
  // must stay in the host's).
  lines.push(...mounts.monitor, ...monitor, ...cgroup.monitor);
  if (sharedMounts) lines.push(['openroot', rootfs]);
  if (fresh.some((n) => n.type === 'time')) {
    lines.push(['unshare', num(NAMESPACE_FLAGS.time.flag)]);
    const offsets = Object.entries(spec.linux?.timeOffsets ?? {}).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`).join('');
    if (offsets) lines.push(['write', '/proc/self/timens_offsets', offsets]);
  }
  if (fresh.some((n) => n.type === 'user')) {
    if (!spec.linux?.uidMappings?.length || !spec.linux.gidMappings?.length) throw new InvalidConfigError('config.json', 'linux.uidMappings', 'a new user namespace needs uidMappings and gidMappings');
    lines.push(['uidmap', idMapText(spec.linux.uidMappings)], ['gidmap', idMapText(spec.linux.gidMappings)]);
  }
  // The cgroup namespace is made after the runtime moved the init into its cgroup (see runPlan's
  // onPid), so that the namespace's root is the container's cgroup.
  const flags = fresh.filter((n) => n.type !== 'time' && n.type !== 'cgroup').reduce((f, n) => f | NAMESPACE_FLAGS[n.type].flag, 0);
  lines.push(['clone', num(flags)]);

  lines.push(...cgroup.init, ...init);
  if (fresh.some((n) => n.type === 'cgroup')) lines.push(['unshare', num(NAMESPACE_FLAGS.cgroup.flag)]);
  lines.push(['setsid']);
  if (userNs) lines.push(['root-ids']);
  if (spec.hostname !== undefined) lines.push(['hostname', spec.hostname]);
  if (spec.domainname !== undefined) lines.push(['domainname', spec.domainname]);
  const propagation = spec.linux?.rootfsPropagation;
  if (!sharedMounts) {
    // Nothing the setup mounts may reach the caller's namespace: rslave unless private, slave or
    // shared is asked for. Shared is applied now, as runc does, so the container's copies stay in the
    // caller's peer groups and a bidirectional mount reaches the host; pivot_root then needs the mount
    // holding the rootfs private (runc's rootfsParentMountPrivate). Unbindable is set once "/" is the
    // root (a bind from an unbindable mount fails).
    lines.push(['mount', '', '/', '', num(propagationFlags(propagation && !propagation.includes('unbindable') ? propagation : 'rslave')), '']);
    if (propagation?.includes('shared')) lines.push(['mount', '', mountPointOf(rootfs), '', num(MS.PRIVATE), '']);
    lines.push(['mount', rootfs, rootfs, '', num(MS.BIND | MS.REC), '']);
  }
  lines.push(...mounts.init);
  lines.push(...deviceLines(spec, inRoot, userNs));
  const hooks = spec.hooks ?? {};
  if (hooks.prestart?.length || hooks.createRuntime?.length || hooks.createContainer?.length) lines.push(['hooks']);
  // In a shared mount namespace only this process's root changes: never pivot_root or a move of "/".
  lines.push(sharedMounts ? ['enterroot'] : input.noPivot ? ['chroot', rootfs] : ['pivot', rootfs]);
  for (const [k, v] of Object.entries(spec.linux?.sysctl ?? {})) lines.push(['write', `/proc/sys/${k.replace(/\./g, '/')}`, v]);
  for (const p of spec.linux?.maskedPaths ?? []) lines.push(['mask', p]);
  for (const p of spec.linux?.readonlyPaths ?? []) lines.push(['readonly', p]);
  if (spec.root.readonly) lines.push(['mount', '', '/', '', num(MS.BIND | MS.REMOUNT | MS.RDONLY), '']);
  if (propagation && !propagation.includes('private')) lines.push(['mount', '', '/', '', num(propagationFlags(propagation)), '']);
  lines.push(...processLines(process, { console: !!input.consoleSocket || proxy, barrier: true, seccomp: input.seccomp, personality: spec.linux?.personality }));
  return lines;
}

/** The mount point of the mount a path lies on (the longest mount point above it). */
function mountPointOf(path: string): string {
  let best = '/';
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4]?.replace(/\\040/g, ' ');
    if (point && point.length > best.length && (path === point || path.startsWith(`${point}/`))) best = point;
  }
  return best;
}

/** The namespaces of a running process that differ from ours, as join lines for a new process. */
export function namespacesOf(pid: number): JoinedNamespace[] {
  const out: JoinedNamespace[] = [];
  for (const [type, { file }] of Object.entries(NAMESPACE_FLAGS) as [NamespaceType, { file: string }][]) {
    const path = `/proc/${pid}/ns/${file}`;
    if (!existsSync(path)) continue;
    if (readlinkSync(path) !== ownNamespace(file)) out.push({ type, path, field: `the container's ${type} namespace` });
  }
  return out;
}

/** The plan of a process started inside a running container (exec, and hooks in its namespaces). */
export function joinPlan(pid: number, p: Process, opts: { exitDir?: string; consoleSocket?: string; ptyProxy?: boolean; detach: boolean; reparent?: boolean; bare?: { file: string }; seccomp?: CompiledSeccomp; cgroupDirs?: CgroupDirs; personality?: Personality }): PlanLine[] {
  const { monitor, init } = joinLines(namespacesOf(pid));
  // The process joins the user namespace after its cgroup, so it moves itself while still host root.
  const cgroup = cgroupLines(opts.cgroupDirs ?? { v1: [] }, false);
  const lines: PlanLine[] = [];
  if (opts.exitDir) lines.push(['exitdir', opts.exitDir]);
  if (opts.detach) lines.push(['detach']);
  if (opts.reparent) lines.push(['reparent']);
  const proxy = !opts.consoleSocket && !!opts.ptyProxy && !!p.terminal;
  if (opts.consoleSocket) lines.push(['console', opts.consoleSocket]);
  if (proxy) lines.push(['ptyproxy']);
  // The container's root is opened before joining (its /proc/PID is the host's); it is also what a
  // --no-pivot container's chroot points at.
  lines.push(['openroot', `/proc/${pid}/root`], ...monitor, ...cgroup.monitor);
  if (p.execCPUAffinity?.initial && !opts.bare) lines.push(['affinity', cpuList(p.execCPUAffinity.initial), 'process.execCPUAffinity.initial']);
  lines.push(['clone', '0'], ...cgroup.init, ...init, ['enterroot']);
  if (opts.bare) {
    lines.push(['clearenv'], ...(p.env ?? []).map((e) => ['env', e]), ['exec', opts.bare.file, ...p.args]);
    return lines;
  }
  lines.push(['setsid']);
  lines.push(...processLines(p, { console: !!opts.consoleSocket || proxy, barrier: false, seccomp: opts.seccomp, personality: opts.personality }));
  return lines;
}
