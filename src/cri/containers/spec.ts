import { PROPAGATION, rootfsPropagation } from './propagation.js';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../runtime/index.js';
import { InvalidArgumentError, UnimplementedError } from '../errors.js';
import type { OciImageConfig } from '../images/store.js';
import type { Sandbox } from '../services/sandboxes.js';
import { podPidNamespace } from '../services/pod-pidns.js';
import { seccompFor } from './seccomp.js';
import type { ResolvedUser } from './users.js';

/** The CRI ContainerConfig fields the spec is built from, as decoded. */
export interface ContainerConfig {
  metadata: { name: string; attempt: number } | null;
  image: { image: string } | null;
  command: string[];
  args: string[];
  workingDir: string;
  envs: { key: string; value: string }[];
  mounts: { containerPath: string; hostPath: string; readonly: boolean; propagation: string; recursiveReadOnly: boolean; image: { image: string } | null }[];
  devices: { containerPath: string; hostPath: string; permissions: string }[];
  /** CDI device names (`nvidia.com/gpu=0`), from the kubelet's device plugins or a client */
  CDIDevices: { name: string }[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  linux: {
    resources: Resources | null;
    securityContext: SecurityContext | null;
  } | null;
  stopSignal: string;
}

export interface Resources {
  cpuPeriod: string;
  cpuQuota: string;
  cpuShares: string;
  memoryLimitInBytes: string;
  oomScoreAdj: string;
  cpusetCpus: string;
  cpusetMems: string;
  hugepageLimits: { pageSize: string; limit: string }[];
  unified: Record<string, string>;
  memorySwapLimitInBytes: string;
}

export interface SecurityContext {
  capabilities: { addCapabilities: string[]; dropCapabilities: string[]; addAmbientCapabilities: string[] } | null;
  privileged: boolean;
  namespaceOptions: { network: string; pid: string; ipc: string; targetId: string } | null;
  runAsUser: { value: string } | null;
  runAsGroup: { value: string } | null;
  runAsUsername: string;
  readonlyRootfs: boolean;
  supplementalGroups: string[];
  supplementalGroupsPolicy: string;
  noNewPrivs: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  seccomp: { profileType: string; localhostRef: string } | null;
  seccompProfilePath: string;
}

/** The capabilities a container gets by default (containerd's default set). */
export const DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** The capabilities this kernel knows (privileged containers get them all). */
function hostCaps(): string[] {
  const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  return ALL_CAPS.slice(0, last + 1);
}

function capName(c: string, field: string): string {
  const name = c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`;
  if (name !== 'CAP_ALL' && !ALL_CAPS.includes(name)) throw new InvalidArgumentError(`${field}: ${c} is not a capability name (for example NET_ADMIN)`);
  return name;
}

/** Default capabilities, then drops, then adds; ALL works in both lists (add wins). */
export function capabilities(sc: SecurityContext | null): { caps: string[]; ambient: string[] } {
  if (sc?.privileged) return { caps: hostCaps(), ambient: [] };
  const c = sc?.capabilities;
  const add = (c?.addCapabilities ?? []).map((x) => capName(x, 'config.linux.security_context.capabilities.add_capabilities'));
  const drop = (c?.dropCapabilities ?? []).map((x) => capName(x, 'config.linux.security_context.capabilities.drop_capabilities'));
  const ambient = (c?.addAmbientCapabilities ?? []).map((x) => capName(x, 'config.linux.security_context.capabilities.add_ambient_capabilities'));
  let caps = drop.includes('CAP_ALL') ? [] : DEFAULT_CAPS.filter((x) => !drop.includes(x));
  caps = add.includes('CAP_ALL') ? hostCaps() : [...new Set([...caps, ...add, ...ambient])];
  return { caps, ambient };
}

/** Kubernetes semantics: command replaces the ENTRYPOINT, args the CMD. */
export function processArgs(cfg: ContainerConfig, image: OciImageConfig): string[] {
  const ic = image.config ?? {};
  const entry = cfg.command.length > 0 ? cfg.command : ic.Entrypoint ?? [];
  const cmd = cfg.command.length > 0 || cfg.args.length > 0 ? cfg.args : ic.Cmd ?? [];
  const argv = [...entry, ...cmd];
  if (argv.length === 0) throw new InvalidArgumentError('config.command is empty and the image has no ENTRYPOINT or CMD: give the container a command');
  return argv;
}

/** Image environment, overridden key by key by the request's. */
export function environment(cfg: ContainerConfig, image: OciImageConfig): string[] {
  const env = new Map<string, string>();
  for (const e of image.config?.Env ?? []) {
    const eq = e.indexOf('=');
    env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
  }
  for (const kv of cfg.envs) env.set(kv.key, kv.value);
  if (!env.has('PATH')) env.set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  return [...env].map(([k, v]) => `${k}=${v}`);
}


function deviceEntry(d: ContainerConfig['devices'][number]) {
  let st;
  try {
    st = statSync(d.hostPath);
  } catch {
    throw new InvalidArgumentError(`config.devices: ${d.hostPath} does not exist on the host`);
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new InvalidArgumentError(`config.devices: ${d.hostPath} is not a device`);
  const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
  const type = st.isCharacterDevice() ? 'c' : 'b';
  const access = d.permissions || 'rwm';
  if (!/^[rwm]+$/.test(access)) throw new InvalidArgumentError(`config.devices: permissions ${access} for ${d.hostPath} must be letters of rwm`);
  return { dev: { path: d.containerPath || d.hostPath, type, major, minor, fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid }, rule: { allow: true, type, major, minor, access } };
}

const DEFAULT_DEVICES: ContainerConfig['devices'] = ['null', 'zero', 'full', 'random', 'urandom', 'tty'].map((d) => ({ containerPath: `/dev/${d}`, hostPath: `/dev/${d}`, permissions: 'rwm' }));

/** Every device node of the host's /dev (privileged containers). */
function hostDevices(): ContainerConfig['devices'] {
  const out: ContainerConfig['devices'] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory() && name !== 'pts' && name !== 'shm' && name !== 'mqueue') walk(p);
      else if (st.isCharacterDevice() || st.isBlockDevice()) out.push({ containerPath: p, hostPath: p, permissions: 'rwm' });
    }
  };
  walk('/dev');
  return out;
}

/** CRI LinuxContainerResources as runtime-spec linux.resources (undefined: nothing to set). */
export function resources(r: Resources | null | undefined): Record<string, unknown> | undefined {
  if (!r) return undefined;
  const n = (v: string) => Number(v || 0);
  const out: Record<string, unknown> = {};
  const cpu: Record<string, unknown> = {};
  if (n(r.cpuShares)) cpu.shares = n(r.cpuShares);
  if (n(r.cpuQuota)) cpu.quota = n(r.cpuQuota);
  if (n(r.cpuPeriod)) cpu.period = n(r.cpuPeriod);
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  const mem: Record<string, unknown> = {};
  if (n(r.memoryLimitInBytes)) mem.limit = n(r.memoryLimitInBytes);
  if (n(r.memorySwapLimitInBytes)) mem.swap = n(r.memorySwapLimitInBytes);
  if (Object.keys(mem).length) out.memory = mem;
  if (r.hugepageLimits.length) out.hugepageLimits = r.hugepageLimits.map((h) => ({ pageSize: h.pageSize, limit: n(h.limit) }));
  if (Object.keys(r.unified).length) out.unified = r.unified;
  return Object.keys(out).length ? out : undefined;
}

export interface SpecInput {
  id: string;
  cfg: ContainerConfig;
  sandbox: Sandbox;
  image: OciImageConfig;
  user: ResolvedUser;
  /** The cgroup the container goes in (cgroupfs path). */
  cgroupsPath: string;
  /** The init pid of the TARGET container for a TARGET pid namespace. */
  targetPid?: number;
  seccompDefault: 'runtime-default' | 'unconfined';
}

/** The OCI runtime spec of a container: the CRI request merged with the image and the sandbox. */
export function buildSpec(inp: SpecInput): Spec {
  const { cfg, sandbox, image, user } = inp;
  const sc = cfg.linux?.securityContext ?? null;
  const privileged = !!sc?.privileged;
  if (privileged && !sandbox.config.linux?.securityContext?.privileged) {
    throw new InvalidArgumentError('config.linux.security_context.privileged is set but the sandbox is not privileged: set linux.security_context.privileged on the pod sandbox too');
  }
  const ns = sc?.namespaceOptions;
  const { caps, ambient } = capabilities(sc);
  const filter = seccompFor(sc, inp.seccompDefault, caps);
  // The standard devices every container has (the runtime spec's list), then the requested ones.
  const devices = [...(privileged ? hostDevices() : DEFAULT_DEVICES), ...cfg.devices].map(deviceEntry);
  const oomAdj = Number(cfg.linux?.resources?.oomScoreAdj || 0);
  // Without CAP_SYS_RESOURCE a lower score than our own is refused by the kernel: clamp to ours.
  const ownAdj = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
  const namespaces: { type: string; path?: string }[] = [{ type: 'mount' }];
  if (sandbox.netnsPath) namespaces.push({ type: 'network', path: sandbox.netnsPath });
  if (sandbox.utsnsPath) namespaces.push({ type: 'uts', path: sandbox.utsnsPath });
  if (sandbox.ipcnsPath) namespaces.push({ type: 'ipc', path: sandbox.ipcnsPath });
  if (ns?.pid === 'POD') {
    if (!sandbox.podInit) throw new InvalidArgumentError(`config.linux.security_context.namespace_options.pid is POD but pod sandbox ${sandbox.id.slice(0, 12)} has no pod PID namespace: set namespace_options.pid POD on the sandbox too`);
    namespaces.push({ type: 'pid', path: podPidNamespace(sandbox.podInit) });
  } else if (ns?.pid === 'TARGET') namespaces.push({ type: 'pid', path: `/proc/${inp.targetPid}/ns/pid` });
  else if (ns?.pid !== 'NODE') namespaces.push({ type: 'pid' });

  const userMounts = cfg.mounts.map((m, i) => {
    if (m.image?.image) throw new UnimplementedError('not supported yet: image volumes (config.mounts[].image)');
    if (!m.containerPath.startsWith('/')) throw new InvalidArgumentError(`config.mounts[${i}].container_path ${m.containerPath} must be absolute`);
    if (!m.hostPath || !existsSync(m.hostPath)) throw new InvalidArgumentError(`config.mounts[${i}].host_path ${m.hostPath} does not exist on the host: create it first`);
    const opts = ['rbind', PROPAGATION[m.propagation] ?? 'rprivate', m.readonly ? 'ro' : 'rw'];
    return { destination: m.containerPath, type: 'bind', source: m.hostPath, options: opts };
  });
  const taken = new Set(userMounts.map((m) => m.destination));
  const podFiles = ['hostname', 'hosts', 'resolv.conf']
    .filter((f) => !taken.has(`/etc/${f}`))
    .map((f) => ({ destination: `/etc/${f}`, type: 'bind', source: join(sandbox.dir, f), options: ['rbind', 'rprivate', 'ro'] }));
  const ro = privileged ? [] : ['ro'];
  const mounts = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', ...ro] },
    ...(taken.has('/dev/shm') ? [] : [{ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] }]),
    ...podFiles,
    ...userMounts,
  ];
  const res = resources(cfg.linux?.resources);
  const sysctl = Object.fromEntries(Object.entries(sandbox.config.linux?.sysctls ?? {}).filter(([k]) => !k.startsWith('net.') || sandbox.netnsPath));
  const spec = {
    ociVersion: '1.0.2',
    process: {
      terminal: cfg.tty,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      args: processArgs(cfg, image),
      env: environment(cfg, image),
      cwd: cfg.workingDir || image.config?.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ...(ambient.length ? { ambient, inheritable: ambient } : {}) },
      noNewPrivileges: !!sc?.noNewPrivs,
      ...(oomAdj ? { oomScoreAdj: Math.max(oomAdj, ownAdj) } : {}),
    },
    root: { path: 'rootfs', readonly: !!sc?.readonlyRootfs },
    mounts,
    annotations: {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': cfg.metadata!.name,
      'io.kubernetes.cri.sandbox-id': sandbox.id,
      'io.kubernetes.cri.sandbox-name': sandbox.config.metadata!.name,
      'io.kubernetes.cri.sandbox-namespace': sandbox.config.metadata!.namespace,
    },
    linux: {
      namespaces,
      rootfsPropagation: rootfsPropagation(cfg.mounts),
      ...(devices.length ? { devices: devices.map((d) => d.dev) } : {}),
      ...(res || devices.length ? { resources: { ...(res ?? {}), ...(devices.length ? { devices: devices.map((d) => d.rule) } : {}) } } : {}),
      // Always the CRI's path (as containerd): stats, OOM and removal read the cgroup the record names.
      cgroupsPath: inp.cgroupsPath,
      ...(Object.keys(sysctl).length ? { sysctl } : {}),
      ...(filter ? { seccomp: filter } : {}),
      maskedPaths: privileged ? [] : sc?.maskedPaths.length ? sc.maskedPaths : ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'],
      readonlyPaths: privileged ? [] : sc?.readonlyPaths.length ? sc.readonlyPaths : ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  return spec as unknown as Spec;
}
