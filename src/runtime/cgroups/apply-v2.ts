import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { int, intIn, limitOrMax, pageSizeOk, unifiedKeyOk, unsupported } from './apply-common.js';
import { rdmaLine } from './apply-v1.js';
import { blkioWeightToIoWeight, sharesToWeight, swapToV2 } from './convert.js';
import { writeControl } from './files.js';
import type { LinuxResources } from './types.js';

const V2 = 'v2';

/**
 * Applies linux.resources to a cgroup v2 directory, converting the v1-shaped OCI values as runc's
 * fs2 manager does. Devices are not written here: on v2 they are an eBPF program (see manager).
 */
export function applyV2(dir: string, r: LinuxResources): void {
  const m = r.memory;
  if (m) {
    const limit = m.limit ?? 0;
    const swap = swapToV2(m.swap ?? 0, limit);
    // swap == limit means "no swap": an explicit 0, not "unset".
    if (swap !== 0 || (m.swap ?? 0) > 0) writeControl(dir, 'memory.swap.max', limitOrMax(swap, 'memory.swap'), 'linux.resources.memory.swap');
    if (limit !== 0) writeControl(dir, 'memory.max', limitOrMax(limit, 'memory.limit'), 'linux.resources.memory.limit');
    if (m.reservation !== undefined && m.reservation !== 0) writeControl(dir, 'memory.low', limitOrMax(m.reservation, 'memory.reservation'), 'linux.resources.memory.reservation');
    if (m.kernel !== undefined && m.kernel !== 0) unsupported('memory.kernel', V2, 'cgroup v2 accounts kernel memory in memory.max: remove it');
    if (m.kernelTCP !== undefined && m.kernelTCP !== 0) unsupported('memory.kernelTCP', V2, 'cgroup v2 accounts socket memory in memory.max: remove it');
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      intIn(m.swappiness, 'memory.swappiness', 0, 100);
      unsupported('memory.swappiness', V2, 'cgroup v2 has no per-cgroup swappiness: remove it');
    }
    if (m.disableOOMKiller) unsupported('memory.disableOOMKiller', V2, 'cgroup v2 cannot disable the OOM killer: remove it');
  }
  const c = r.cpu;
  if (c) {
    if (c.shares) writeControl(dir, 'cpu.weight', String(sharesToWeight(Number(intIn(c.shares, 'cpu.shares', 2, 262144)))), 'linux.resources.cpu.shares');
    if (c.quota || c.period) {
      const quota = c.quota && c.quota > 0 ? int(c.quota, 'cpu.quota', 1) : 'max';
      writeControl(dir, 'cpu.max', c.period ? `${quota} ${int(c.period, 'cpu.period', 1)}` : quota, 'linux.resources.cpu.quota');
    }
    if (c.burst !== undefined) writeControl(dir, 'cpu.max.burst', int(c.burst, 'cpu.burst', 0), 'linux.resources.cpu.burst');
    if (c.realtimePeriod || c.realtimeRuntime) unsupported(c.realtimePeriod ? 'cpu.realtimePeriod' : 'cpu.realtimeRuntime', V2, 'cgroup v2 has no real-time group scheduling: remove it');
    if (c.idle !== undefined) writeControl(dir, 'cpu.idle', int(c.idle, 'cpu.idle', 0), 'linux.resources.cpu.idle');
    if (c.cpus) writeControl(dir, 'cpuset.cpus', c.cpus, 'linux.resources.cpu.cpus');
    if (c.mems) writeControl(dir, 'cpuset.mems', c.mems, 'linux.resources.cpu.mems');
  }
  if (r.pids && r.pids.limit !== 0) writeControl(dir, 'pids.max', r.pids.limit < 0 ? 'max' : int(r.pids.limit, 'pids.limit', 1), 'linux.resources.pids.limit');
  const b = r.blockIO;
  if (b) {
    // BFQ takes blkio weights as they are (and per device); without it io.weight takes a converted value.
    const bfq = existsSync(join(dir, 'io.bfq.weight'));
    if (b.weight) {
      const w = Number(intIn(b.weight, 'blockIO.weight', 10, 1000));
      if (bfq) writeControl(dir, 'io.bfq.weight', String(w), 'linux.resources.blockIO.weight');
      else writeControl(dir, 'io.weight', String(blkioWeightToIoWeight(w)), 'linux.resources.blockIO.weight');
    }
    if (b.leafWeight) unsupported('blockIO.leafWeight', V2, 'cgroup v2 has no leaf weights: remove it');
    (b.weightDevice ?? []).forEach((w, i) => {
      if (w.leafWeight) unsupported(`blockIO.weightDevice[${i}].leafWeight`, V2, 'cgroup v2 has no leaf weights: remove it');
      if (!w.weight) return;
      if (!bfq) unsupported(`blockIO.weightDevice[${i}]`, `${V2} without the BFQ I/O scheduler (no io.bfq.weight)`, 'select the bfq scheduler for the device or remove the setting');
      writeControl(dir, 'io.bfq.weight', `${w.major}:${w.minor} ${w.weight}`, `linux.resources.blockIO.weightDevice[${i}]`);
    });
    const throttle = (list: { major: number; minor: number; rate: number }[] | undefined, key: string, field: string) =>
      (list ?? []).forEach((t, i) => writeControl(dir, 'io.max', `${t.major}:${t.minor} ${key}=${int(t.rate, `blockIO.${field}[${i}].rate`, 0)}`, `linux.resources.blockIO.${field}[${i}]`));
    throttle(b.throttleReadBpsDevice, 'rbps', 'throttleReadBpsDevice');
    throttle(b.throttleWriteBpsDevice, 'wbps', 'throttleWriteBpsDevice');
    throttle(b.throttleReadIOPSDevice, 'riops', 'throttleReadIOPSDevice');
    throttle(b.throttleWriteIOPSDevice, 'wiops', 'throttleWriteIOPSDevice');
  }
  (r.hugepageLimits ?? []).forEach((h, i) => {
    writeControl(dir, `hugetlb.${pageSizeOk(h.pageSize, i)}.max`, limitOrMax(h.limit, `hugepageLimits[${i}].limit`), `linux.resources.hugepageLimits[${i}]`);
  });
  if (r.network && (r.network.classID !== undefined || (r.network.priorities ?? []).length > 0)) {
    unsupported('network', V2, 'cgroup v2 has no net_cls/net_prio controllers: remove linux.resources.network');
  }
  for (const [dev, l] of Object.entries(r.rdma ?? {})) writeControl(dir, 'rdma.max', rdmaLine(dev, l), `linux.resources.rdma.${dev}`);
  for (const [key, value] of Object.entries(r.unified ?? {})) writeControl(dir, unifiedKeyOk(key), value, `linux.resources.unified[${JSON.stringify(key)}]`);
}
