import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { int, intIn, limitOrMax, pageSizeOk, unifiedKeyOk, unsupported } from './apply-common.js';
import { emulate, normalizeDeviceRules, v1RuleString } from './devices.js';
import { readNumber, writeControl } from './files.js';
import type { LinuxResources } from './types.js';

/** The cgroup directories of one container on a v1 (or hybrid) host. */
export interface V1Dirs {
  /** controller -> directory */
  controllers: Map<string, string>;
  /** hybrid hosts: the directory in the cgroup2 hierarchy, and the controllers enabled there */
  unified?: { dir: string; controllers: string[] };
}

function dirFor(d: V1Dirs, controller: string, field: string): string {
  const dir = d.controllers.get(controller);
  if (!dir) unsupported(field, `v1 on this host: the ${controller} controller is not mounted`, `mount the ${controller} controller or remove the setting`);
  return dir;
}

/** Applies linux.resources with the v1 controllers' files, as runc's fs manager does. */
export function applyV1(d: V1Dirs, r: LinuxResources): void {
  const m = r.memory;
  if (m) {
    const dir = dirFor(d, 'memory', 'memory');
    const limit = m.limit ?? 0;
    let swap = m.swap ?? 0;
    if (limit === -1 && swap === 0 && existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) swap = -1;
    const setMem = () => limit !== 0 && writeControl(dir, 'memory.limit_in_bytes', limit === -1 ? '-1' : int(limit, 'memory.limit', 0), 'linux.resources.memory.limit');
    const setSwap = () => swap !== 0 && writeControl(dir, 'memory.memsw.limit_in_bytes', swap === -1 ? '-1' : int(swap, 'memory.swap', 0), 'linux.resources.memory.swap');
    // Raising the limit above the current memsw limit must write memsw first, and lowering it the reverse.
    const current = readNumber(dir, 'memory.limit_in_bytes') ?? 0;
    if (limit !== 0 && swap !== 0 && (swap === -1 || current < swap)) {
      setSwap();
      setMem();
    } else {
      setMem();
      setSwap();
    }
    if (m.reservation !== undefined && m.reservation !== 0) writeControl(dir, 'memory.soft_limit_in_bytes', m.reservation === -1 ? '-1' : int(m.reservation, 'memory.reservation', 0), 'linux.resources.memory.reservation');
    if (m.kernel !== undefined && m.kernel !== 0) writeControl(dir, 'memory.kmem.limit_in_bytes', int(m.kernel, 'memory.kernel'), 'linux.resources.memory.kernel');
    if (m.kernelTCP !== undefined && m.kernelTCP !== 0) writeControl(dir, 'memory.kmem.tcp.limit_in_bytes', int(m.kernelTCP, 'memory.kernelTCP'), 'linux.resources.memory.kernelTCP');
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      writeControl(dir, 'memory.swappiness', intIn(m.swappiness, 'memory.swappiness', 0, 100), 'linux.resources.memory.swappiness');
    }
    if (m.disableOOMKiller) writeControl(dir, 'memory.oom_control', '1', 'linux.resources.memory.disableOOMKiller');
  }
  const c = r.cpu;
  if (c) {
    const needsCpu = c.shares || c.quota || c.period || c.burst !== undefined || c.realtimePeriod || c.realtimeRuntime || c.idle !== undefined;
    if (needsCpu) {
      const dir = dirFor(d, 'cpu', 'cpu');
      if (c.shares) writeControl(dir, 'cpu.shares', int(c.shares, 'cpu.shares', 2), 'linux.resources.cpu.shares');
      const period = () => c.period && writeControl(dir, 'cpu.cfs_period_us', int(c.period, 'cpu.period', 1), 'linux.resources.cpu.period');
      const quota = () => c.quota && writeControl(dir, 'cpu.cfs_quota_us', int(c.quota, 'cpu.quota'), 'linux.resources.cpu.quota');
      // The kernel checks quota against the current period: if one order fails, the other works.
      try {
        period();
        quota();
      } catch {
        quota();
        period();
      }
      if (c.burst !== undefined) writeControl(dir, 'cpu.cfs_burst_us', int(c.burst, 'cpu.burst', 0), 'linux.resources.cpu.burst');
      if (c.realtimePeriod) writeControl(dir, 'cpu.rt_period_us', int(c.realtimePeriod, 'cpu.realtimePeriod', 1), 'linux.resources.cpu.realtimePeriod');
      if (c.realtimeRuntime) writeControl(dir, 'cpu.rt_runtime_us', int(c.realtimeRuntime, 'cpu.realtimeRuntime'), 'linux.resources.cpu.realtimeRuntime');
      if (c.idle !== undefined) writeControl(dir, 'cpu.idle', int(c.idle, 'cpu.idle', 0), 'linux.resources.cpu.idle');
    }
    if (c.cpus) writeControl(dirFor(d, 'cpuset', 'cpu.cpus'), 'cpuset.cpus', c.cpus, 'linux.resources.cpu.cpus');
    if (c.mems) writeControl(dirFor(d, 'cpuset', 'cpu.mems'), 'cpuset.mems', c.mems, 'linux.resources.cpu.mems');
  }
  if (r.pids && r.pids.limit !== 0) writeControl(dirFor(d, 'pids', 'pids'), 'pids.max', r.pids.limit < 0 ? 'max' : int(r.pids.limit, 'pids.limit', 1), 'linux.resources.pids.limit');
  const b = r.blockIO;
  if (b) {
    const dir = dirFor(d, 'blkio', 'blockIO');
    // CFQ names its files blkio.weight*, BFQ blkio.bfq.weight*; only CFQ has leaf weights.
    const cfq = existsSync(join(dir, 'blkio.weight'));
    const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
    if (b.weight) writeControl(dir, weightFile, int(b.weight, 'blockIO.weight', 1), 'linux.resources.blockIO.weight');
    if (b.leafWeight) writeControl(dir, 'blkio.leaf_weight', int(b.leafWeight, 'blockIO.leafWeight', 1), 'linux.resources.blockIO.leafWeight');
    (b.weightDevice ?? []).forEach((w, i) => {
      if (w.weight) writeControl(dir, `${weightFile}_device`, `${w.major}:${w.minor} ${w.weight}`, `linux.resources.blockIO.weightDevice[${i}].weight`);
      if (w.leafWeight) writeControl(dir, 'blkio.leaf_weight_device', `${w.major}:${w.minor} ${w.leafWeight}`, `linux.resources.blockIO.weightDevice[${i}].leafWeight`);
    });
    const throttle = (list: { major: number; minor: number; rate: number }[] | undefined, file: string, field: string) =>
      (list ?? []).forEach((t, i) => writeControl(dir, file, `${t.major}:${t.minor} ${int(t.rate, `blockIO.${field}[${i}].rate`, 0)}`, `linux.resources.blockIO.${field}[${i}]`));
    throttle(b.throttleReadBpsDevice, 'blkio.throttle.read_bps_device', 'throttleReadBpsDevice');
    throttle(b.throttleWriteBpsDevice, 'blkio.throttle.write_bps_device', 'throttleWriteBpsDevice');
    throttle(b.throttleReadIOPSDevice, 'blkio.throttle.read_iops_device', 'throttleReadIOPSDevice');
    throttle(b.throttleWriteIOPSDevice, 'blkio.throttle.write_iops_device', 'throttleWriteIOPSDevice');
  }
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const size = pageSizeOk(h.pageSize, i);
    const field = `linux.resources.hugepageLimits[${i}]`;
    if (d.controllers.has('hugetlb')) writeControl(d.controllers.get('hugetlb')!, `hugetlb.${size}.limit_in_bytes`, int(h.limit, `hugepageLimits[${i}].limit`), field);
    // Hybrid hosts may offer hugetlb only in the cgroup2 hierarchy.
    else if (d.unified?.controllers.includes('hugetlb')) writeControl(d.unified.dir, `hugetlb.${size}.max`, limitOrMax(h.limit, `hugepageLimits[${i}].limit`), field);
    else unsupported(`hugepageLimits[${i}]`, 'v1 on this host: no hugetlb controller');
  });
  const n = r.network;
  if (n) {
    if (n.classID !== undefined) writeControl(dirFor(d, 'net_cls', 'network.classID'), 'net_cls.classid', int(n.classID, 'network.classID', 0), 'linux.resources.network.classID');
    (n.priorities ?? []).forEach((p, i) => writeControl(dirFor(d, 'net_prio', 'network.priorities'), 'net_prio.ifpriomap', `${p.name} ${int(p.priority, `network.priorities[${i}].priority`, 0)}`, `linux.resources.network.priorities[${i}]`));
  }
  for (const [dev, l] of Object.entries(r.rdma ?? {})) {
    writeControl(dirFor(d, 'rdma', 'rdma'), 'rdma.max', rdmaLine(dev, l), `linux.resources.rdma.${dev}`);
  }
  if (r.devices) {
    const dir = dirFor(d, 'devices', 'devices');
    const rules = normalizeDeviceRules(r.devices);
    // The emulator only refuses what the kernel would silently ignore (a hole in a wildcard rule).
    emulate(rules);
    // From deny-all (as runc and crun start), every rule in the listed order (runtime-spec: the
    // last matching rule wins), so devices.list keeps the configured order, as crun's does.
    writeControl(dir, 'devices.deny', 'a', 'linux.resources.devices');
    rules.forEach((rule) => writeControl(dir, rule.allow ? 'devices.allow' : 'devices.deny', v1RuleString(rule), 'linux.resources.devices'));
  }
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const controller = unifiedKeyOk(key).split('.')[0];
    if (!d.unified) unsupported(`unified[${JSON.stringify(key)}]`, 'v1 only (this host has no cgroup2 hierarchy)', 'use the v1 settings of linux.resources instead');
    if (controller !== 'cgroup' && !d.unified.controllers.includes(controller)) {
      unsupported(`unified[${JSON.stringify(key)}]`, `hybrid v1/v2 where the ${controller} controller is in v1`, 'use the v1 settings of linux.resources instead');
    }
    writeControl(d.unified.dir, key, value, `linux.resources.unified[${JSON.stringify(key)}]`);
  }
}

export function rdmaLine(dev: string, l: { hcaHandles?: number; hcaObjects?: number }): string {
  const v = (x: number | undefined) => (x === undefined ? 'max' : String(x));
  return `${dev} hca_handle=${v(l.hcaHandles)} hca_object=${v(l.hcaObjects)}`;
}
