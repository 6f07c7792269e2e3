import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** One row of `sifkube doctor`. */
export interface HostCheck {
  name: string;
  /** ok: present; missing: absent and `sifkube init` needs it; optional: absent, some features need it. */
  status: 'ok' | 'missing' | 'optional';
  detail: string;
  /** What to do about a miss: a package to install or a module to load. */
  fix?: string;
}

interface Requirement {
  name: string;
  required: boolean;
  fix: string;
  probe: () => string | undefined; // a detail when present, undefined when absent
}

/** Finds an executable on PATH (plus the sbin folders root usually has). */
export function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', ...extraDirs];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Folders where Debian, Fedora and upstream install the CNI plugins. */
export const CNI_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin', '/usr/libexec/cni'];

function filesystems(): string {
  return readFileSync('/proc/filesystems', 'utf8');
}

const NAMESPACE_CONFIG: Record<string, string> = {
  mnt: 'CONFIG_NAMESPACES',
  pid: 'CONFIG_PID_NS',
  net: 'CONFIG_NET_NS',
  uts: 'CONFIG_UTS_NS',
  ipc: 'CONFIG_IPC_NS',
  user: 'CONFIG_USER_NS',
  cgroup: 'CONFIG_CGROUPS',
  time: 'CONFIG_TIME_NS',
};

function namespace(kind: string): Requirement {
  return {
    name: `${kind} namespace`,
    // Only the time namespace is optional: containers that do not ask for one run without it.
    required: kind !== 'time',
    fix: `a kernel built with ${NAMESPACE_CONFIG[kind]}=y`,
    probe: () => (existsSync(`/proc/self/ns/${kind}`) ? `/proc/self/ns/${kind}` : undefined),
  };
}

function program(name: string, pkg: string, required: boolean, dirs: string[] = []): Requirement {
  return {
    name,
    required,
    fix: `apt-get install -y ${pkg}`,
    probe: () => findExecutable(name, dirs),
  };
}

function filesystem(fs: string, module: string): Requirement {
  return {
    name: `${fs} filesystem`,
    required: true,
    fix: `modprobe ${module}`,
    probe: () => (new RegExp(`\\t${fs}\\n`).test(filesystems()) ? 'in /proc/filesystems' : undefined),
  };
}

/** v1 controllers mounted on this host, and the controllers of the cgroup2 mount if there is one. */
export function cgroupLayout(): { v1: string[]; v2Path?: string; v2: string[] } {
  const v1 = new Set<string>();
  let v2Path: string | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const [fstype, , superOpts] = right.split(' ');
    if (fstype === 'cgroup2' && !v2Path) v2Path = left.split(' ')[4];
    if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (!['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec'].includes(opt) && !opt.startsWith('release_agent')) v1.add(opt);
      }
    }
  }
  let v2: string[] = [];
  if (v2Path && existsSync(join(v2Path, 'cgroup.controllers'))) {
    v2 = readFileSync(join(v2Path, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  }
  return { v1: [...v1].sort(), v2Path, v2 };
}

const REQUIREMENTS: Requirement[] = [
  {
    name: 'root',
    required: true,
    fix: 'run sifkube as root (sudo sifkube …)',
    probe: () => (process.getuid?.() === 0 ? 'uid 0' : undefined),
  },
  ...Object.keys(NAMESPACE_CONFIG).map(namespace),
  filesystem('overlay', 'overlay'),
  filesystem('squashfs', 'squashfs'),
  filesystem('tmpfs', 'tmpfs (kernel config CONFIG_TMPFS)'),
  {
    name: 'loop devices',
    required: false,
    fix: 'modprobe loop (or install squashfuse and fuse3 for the FUSE fallback)',
    probe: () => (existsSync('/dev/loop-control') ? '/dev/loop-control' : undefined),
  },
  {
    name: 'FUSE',
    required: false,
    fix: 'modprobe fuse; apt-get install -y fuse3',
    probe: () => (existsSync('/dev/fuse') ? '/dev/fuse' : undefined),
  },
  {
    name: 'bridge and veth links',
    required: true,
    fix: 'modprobe bridge veth',
    probe: () => {
      // Made in a throwaway network namespace, so the check leaves nothing on the host.
      const r = spawnSync('unshare', ['--net', 'sh', '-c', 'ip link add b0 type bridge && ip link add v0 type veth peer name v1'], {
        stdio: 'ignore',
      });
      return r.status === 0 ? 'created in a scratch network namespace' : undefined;
    },
  },
  {
    name: 'cgroups',
    required: true,
    fix: 'mount cgroup2 on /sys/fs/cgroup (systemd does so by default)',
    probe: () => {
      const c = cgroupLayout();
      if (!c.v2Path && c.v1.length === 0) return undefined;
      const parts = [];
      if (c.v2Path) parts.push(`v2 at ${c.v2Path} [${c.v2.join(' ') || 'no controllers'}]`);
      if (c.v1.length) parts.push(`v1 [${c.v1.join(' ')}]`);
      return parts.join('; ');
    },
  },
  program('mksquashfs', 'squashfs-tools', true),
  program('unsquashfs', 'squashfs-tools', true),
  program('squashfuse', 'squashfuse', false),
  program('ip', 'iproute2', true),
  program('iptables', 'iptables', true),
  program('unshare', 'util-linux', true),
  // kube-proxy deletes the conntrack entries of removed Service ports with it; without it they live on.
  program('conntrack', 'conntrack', true),
  program('nsenter', 'util-linux', true),
  ...['bridge', 'host-local', 'loopback', 'portmap'].map((p) => ({
    ...program(p, 'containernetworking-plugins', true, CNI_BIN_DIRS),
    name: `CNI plugin ${p}`,
    probe: () => CNI_BIN_DIRS.map((d) => join(d, p)).find((f) => existsSync(f)),
  })),
  program('etcd', 'etcd-server (or pass --kube-bin-dir with etcd in it)', false),
  program('kubectl', 'kubernetes-client (or pass --kube-bin-dir with kubectl in it)', false),
  // Only `sifkube build`'s debootstrap agent (and so the examples' base image) needs it.
  program('debootstrap', 'debootstrap', false),
];

/** Runs every check; never throws. */
export function runHostChecks(): HostCheck[] {
  return REQUIREMENTS.map((r) => {
    let detail: string | undefined;
    try {
      detail = r.probe();
    } catch {
      detail = undefined;
    }
    if (detail !== undefined) return { name: r.name, status: 'ok', detail };
    return { name: r.name, status: r.required ? 'missing' : 'optional', detail: 'not found', fix: r.fix };
  });
}

/** The kernel release, for the report header. */
export function kernelRelease(): string {
  try {
    return execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
