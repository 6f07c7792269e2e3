import { readdirSync } from 'node:fs';
import type { V1Dirs } from './apply-v1.js';
import { readKeyed, readNumber } from './files.js';
import type { CgroupStats, HugetlbStats } from './types.js';

// cpuacct.stat counts USER_HZ ticks (100 per second on Linux).
const NS_PER_TICK = 1e9 / 100;
const limitOf = (v: number | undefined) => (v !== undefined && v < 2 ** 62 ? v : undefined);

function hugetlb(dir: string | undefined, v2: boolean): Record<string, HugetlbStats> {
  const out: Record<string, HugetlbStats> = {};
  if (!dir) return out;
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return out;
  }
  for (const f of files) {
    const m = /^hugetlb\.(\w+)\.(current|usage_in_bytes)$/.exec(f);
    if (!m) continue;
    const size = m[1];
    out[size] = v2
      ? { usage: readNumber(dir, f) ?? 0, failcnt: readKeyed(dir, `hugetlb.${size}.events`).max ?? 0 }
      : { usage: readNumber(dir, f) ?? 0, maxUsage: readNumber(dir, `hugetlb.${size}.max_usage_in_bytes`), failcnt: readNumber(dir, `hugetlb.${size}.failcnt`) ?? 0 };
  }
  return out;
}

/** Reads a container's usage from its v2 directory, or else from its v1 directories. */
export function readStats(v2: string | undefined, v1: V1Dirs): CgroupStats {
  if (v2) {
    const cpu = readKeyed(v2, 'cpu.stat');
    const events = readKeyed(v2, 'memory.events');
    return {
      memory: {
        usage: readNumber(v2, 'memory.current') ?? 0,
        limit: limitOf(readNumber(v2, 'memory.max')),
        maxUsage: readNumber(v2, 'memory.peak'),
        swapUsage: readNumber(v2, 'memory.swap.current'),
        oomEvents: events.oom ?? 0,
        oomKills: events.oom_kill ?? 0,
        stat: readKeyed(v2, 'memory.stat'),
      },
      cpu: {
        usageTotal: (cpu.usage_usec ?? 0) * 1000,
        usageUser: (cpu.user_usec ?? 0) * 1000,
        usageSystem: (cpu.system_usec ?? 0) * 1000,
        periods: cpu.nr_periods ?? 0,
        throttledPeriods: cpu.nr_throttled ?? 0,
        throttledTime: (cpu.throttled_usec ?? 0) * 1000,
      },
      pids: { current: readNumber(v2, 'pids.current') ?? 0, limit: readNumber(v2, 'pids.max') },
      hugetlb: hugetlb(v2, true),
    };
  }
  const c = v1.controllers;
  const mem = c.get('memory');
  const acct = c.get('cpuacct');
  const cpuDir = c.get('cpu');
  const pids = c.get('pids');
  const oom = mem ? readKeyed(mem, 'memory.oom_control') : {};
  const ticks = acct ? readKeyed(acct, 'cpuacct.stat') : {};
  const throttle = cpuDir ? readKeyed(cpuDir, 'cpu.stat') : {};
  const memsw = mem ? readNumber(mem, 'memory.memsw.usage_in_bytes') : undefined;
  const usage = mem ? (readNumber(mem, 'memory.usage_in_bytes') ?? 0) : 0;
  const hugetlbV1 = c.has('hugetlb') ? hugetlb(c.get('hugetlb'), false) : hugetlb(v1.unified?.dir, true);
  return {
    memory: {
      usage,
      limit: mem ? limitOf(readNumber(mem, 'memory.limit_in_bytes')) : undefined,
      maxUsage: mem ? readNumber(mem, 'memory.max_usage_in_bytes') : undefined,
      swapUsage: memsw !== undefined ? memsw - usage : undefined,
      oomEvents: oom.oom_kill ?? 0,
      oomKills: oom.oom_kill ?? 0,
      stat: mem ? readKeyed(mem, 'memory.stat') : {},
    },
    cpu: {
      usageTotal: acct ? (readNumber(acct, 'cpuacct.usage') ?? 0) : 0,
      usageUser: (ticks.user ?? 0) * NS_PER_TICK,
      usageSystem: (ticks.system ?? 0) * NS_PER_TICK,
      periods: throttle.nr_periods ?? 0,
      throttledPeriods: throttle.nr_throttled ?? 0,
      throttledTime: throttle.throttled_time ?? 0,
    },
    pids: { current: pids ? (readNumber(pids, 'pids.current') ?? 0) : 0, limit: pids ? readNumber(pids, 'pids.max') : undefined },
    hugetlb: hugetlbV1,
  };
}
