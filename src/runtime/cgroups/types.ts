/** OCI runtime-spec `linux.resources` (config-linux.md#control-groups), as found in config.json. */
export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: { limit: number };
  blockIO?: LinuxBlockIO;
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  unified?: Record<string, string>;
}

/** A cgroup's directories: one per v1 hierarchy, and the cgroup2 one (v2 or hybrid hosts). */
export interface CgroupDirs {
  v1: string[];
  v2?: string;
}

export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface LinuxWeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface LinuxThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface LinuxBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

/** Where the host mounts its cgroup hierarchies. */
export interface CgroupLayout {
  /** v2: only cgroup2; hybrid: v1 controllers plus a cgroup2 mount; v1: only v1 controllers. */
  mode: 'v2' | 'hybrid' | 'v1';
  /** v1 controller name -> its hierarchy's mount point (co-mounted controllers share one). */
  v1: Map<string, string>;
  /** The cgroup2 mount point, if any. */
  unified?: string;
  /** Controllers available at the root of the cgroup2 hierarchy. */
  unifiedControllers: string[];
}

export interface HugetlbStats {
  usage: number;
  maxUsage?: number;
  failcnt: number;
}

/** A container's resource usage, in the units the CRI reports (bytes, nanoseconds). */
export interface CgroupStats {
  memory: { usage: number; limit?: number; maxUsage?: number; swapUsage?: number; oomEvents: number; oomKills: number; stat: Record<string, number> };
  cpu: { usageTotal: number; usageUser: number; usageSystem: number; periods: number; throttledPeriods: number; throttledTime: number };
  pids: { current: number; limit?: number };
  hugetlb: Record<string, HugetlbStats>;
}

/** What the memory controller reports about out-of-memory: the caller reports OOMKilled from it. */
export interface OomEvents {
  /** Times the cgroup hit its limit and the OOM path ran. */
  oom: number;
  /** Processes the OOM killer killed in this cgroup. */
  oomKill: number;
  /** v1 only: the cgroup is under OOM right now (with the OOM killer disabled, tasks wait). */
  underOom: boolean;
}
