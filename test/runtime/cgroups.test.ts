import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blkioWeightToIoWeight,
  CgroupConfigError,
  CgroupManager,
  CgroupUnsupportedError,
  deviceFilterProgram,
  detectLayout,
  normalizeDeviceRules,
  sharesToWeight,
  swapToV2,
  type LinuxResources,
} from '../../src/runtime/cgroups/index.js';
import { baseSpec, busyboxBundle, uniqueId } from '../helpers/bundle.js';
import { runcCreated } from '../helpers/runc-oracle.js';
import { createContainer, deleteContainer, execInContainer } from '../../src/runtime/index.js';

// Runs on whatever the machine has: hybrid on the dev host, pure v2 in the VM (test/runtime/cgroups-v2-vm.test.ts).
const layout = detectLayout();
const v2 = layout.mode === 'v2';
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh, created cgroup /sifkube-test-<random>, removed (with its processes) after `fn`. */
async function withCgroup(fn: (m: CgroupManager) => Promise<void> | void): Promise<void> {
  const m = new CgroupManager(`/sifkube-test-${Math.random().toString(36).slice(2, 10)}`);
  m.create();
  try {
    await fn(m);
  } finally {
    await m.killAll();
    await m.remove();
  }
}

interface Gated {
  child: ChildProcess;
  /** Lets the shell command run (it waits on stdin so it can be put in the cgroup first). */
  go(): void;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>;
}

/** `sh -c CMD` that waits for a line on stdin before running CMD. */
function gated(cmd: string): Gated {
  const child = spawn('sh', ['-c', `read _; ${cmd}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out })));
  return { child, go: () => child.stdin!.end('\n'), done };
}

async function inCgroup(m: CgroupManager, cmd: string) {
  const g = gated(cmd);
  m.addPid(g.child.pid!);
  g.go();
  return g.done;
}

/** A control file of the container in the hierarchy of `controller` (the one directory on v2). */
function control(m: CgroupManager, controller: string, file: string): string {
  const dir = v2 ? m.paths.v2! : m.paths.v1.get(controller)!;
  return readFileSync(join(dir, file), 'utf8').trim();
}

const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
};

function throwsClearly(fn: () => unknown, cls: new (...a: never[]) => Error, re: RegExp) {
  try {
    fn();
  } catch (e) {
    assert.instance(e, cls);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${cls.name} matching ${re}`);
}

test(`the layout is detected (${layout.mode}) and pure layouts parse from mountinfo`, () => {
  assert.ok(layout.mode === 'v2' ? !!layout.unified && layout.v1.size === 0 : layout.v1.size > 0);
  const v2Only = detectLayout('30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n');
  assert.is(v2Only.mode, 'v2');
  const v1Only = detectLayout('32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n');
  assert.is(v1Only.mode, 'v1');
  assert.is(v1Only.v1.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct');
  assert.not.ok(v1Only.v1.has('name=systemd'));
});

test('v1 <-> v2 conversions follow runc', () => {
  assert.is(sharesToWeight(2), 1);
  assert.is(sharesToWeight(1024), 39);
  assert.is(sharesToWeight(262144), 10000);
  assert.is(blkioWeightToIoWeight(10), 1);
  assert.is(blkioWeightToIoWeight(1000), 10000);
  assert.is(swapToV2(-1, 64 * MiB), -1);
  assert.is(swapToV2(0, -1), -1);
  assert.is(swapToV2(96 * MiB, 64 * MiB), 32 * MiB);
  throwsClearly(() => swapToV2(32 * MiB, 64 * MiB), CgroupConfigError, /memory\.swap.*below memory\.limit/);
  throwsClearly(() => swapToV2(32 * MiB, 0), CgroupConfigError, /without a memory limit.*set linux\.resources\.memory\.limit/);
});

test('create puts the cgroup in every hierarchy; addPid moves a process there; pids lists it', async () => {
  await withCgroup(async (m) => {
    for (const d of m.dirs()) assert.ok(existsSync(d), d);
    const g = gated('sleep 30');
    m.addPid(g.child.pid!);
    assert.equal(m.pids(), [g.child.pid]);
    const own = readFileSync(`/proc/${g.child.pid}/cgroup`, 'utf8');
    const name = m.dirs()[0].split('/').pop()!;
    assert.ok(own.split('\n').filter(Boolean).every((l) => l.includes('name=systemd') || l.endsWith(`/${name}`)), own);
    g.go();
  });
});

/** Whether `pid` is listed in the cgroup.procs of every directory of the container's cgroup. */
function inEveryDir(cgroupsPath: string, pid: number): string[] {
  return new CgroupManager(cgroupsPath).dirs().filter((d) => !readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').includes(String(pid)));
}

test('a container\'s init (with and without a user namespace) and an exec\'d process join the container\'s cgroup in every hierarchy', async () => {
  // The pure v2 VM runs its tests chrooted, where the kernel refuses new user namespaces.
  const userNsWorks = spawnSync('unshare', ['--user', 'true']).status === 0;
  if (!userNsWorks) console.log('cgroups: a container with a user namespace: skipped, this host cannot make user namespaces');
  for (const userNs of userNsWorks ? [false, true] : [false]) {
    const spec = baseSpec(['sleep', '30']);
    if (userNs) {
      spec.linux.namespaces.push({ type: 'user' });
      spec.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      spec.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      spec.mounts = spec.mounts.filter((m: { type: string }) => m.type !== 'cgroup');
    }
    const b = busyboxBundle(spec);
    const id = uniqueId('skcg');
    try {
      const { record } = await createContainer(id, { root: b.root, bundle: b.dir });
      assert.equal(inEveryDir(record.cgroupsPath!, record.initPid!), [], `init, user namespace: ${userNs}`);
      const e = await execInContainer(id, { root: b.root, process: { args: ['sleep', '30'], cwd: '/', user: { uid: 0, gid: 0 } } });
      assert.equal(inEveryDir(record.cgroupsPath!, e.pid), [], `exec, user namespace: ${userNs}`);
      await deleteContainer(id, { root: b.root, force: true });
      assert.is(await e.exited, 137);
      for (const d of new CgroupManager(record.cgroupsPath!).dirs()) assert.not.ok(existsSync(d), d);
    } finally {
      await deleteContainer(id, { root: b.root, force: true }).catch(() => {});
      b.remove();
    }
  }
});

test('resources are written to the right files (with v2 conversions)', async () => {
  await withCgroup((m) => {
    const r: LinuxResources = {
      memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 64 * MiB },
      cpu: { shares: 512, quota: 50000, period: 100000 },
      pids: { limit: 32 },
      hugepageLimits: [{ pageSize: '2MB', limit: 4 * 2 * MiB }],
    };
    m.apply(r);
    if (v2) {
      assert.is(control(m, 'memory', 'memory.max'), String(64 * MiB));
      assert.is(control(m, 'memory', 'memory.low'), String(32 * MiB));
      assert.is(control(m, 'memory', 'memory.swap.max'), '0');
      assert.is(control(m, 'cpu', 'cpu.weight'), String(sharesToWeight(512)));
      assert.is(control(m, 'cpu', 'cpu.max'), '50000 100000');
    } else {
      assert.is(control(m, 'memory', 'memory.limit_in_bytes'), String(64 * MiB));
      assert.is(control(m, 'memory', 'memory.soft_limit_in_bytes'), String(32 * MiB));
      if (existsSync(join(m.paths.v1.get('memory')!, 'memory.memsw.limit_in_bytes'))) assert.is(control(m, 'memory', 'memory.memsw.limit_in_bytes'), String(64 * MiB));
      assert.is(control(m, 'cpu', 'cpu.shares'), '512');
      assert.is(control(m, 'cpu', 'cpu.cfs_quota_us'), '50000');
      assert.is(control(m, 'cpu', 'cpu.cfs_period_us'), '100000');
    }
    assert.is(control(m, 'pids', 'pids.max'), '32');
    // Hybrid hosts may keep hugetlb in the cgroup2 hierarchy only.
    const hugetlbDir = layout.v1.has('hugetlb') ? m.paths.v1.get('hugetlb')! : m.paths.v2!;
    const hugetlbFile = layout.v1.has('hugetlb') ? 'hugetlb.2MB.limit_in_bytes' : 'hugetlb.2MB.max';
    assert.is(readFileSync(join(hugetlbDir, hugetlbFile), 'utf8').trim(), String(8 * MiB));
    assert.is(m.memoryLimit(), 64 * MiB);
    assert.ok('2MB' in m.stats().hugetlb);
  });
});

test('the same linux.resources give the same control files as runc (the oracle)', async () => {
  const resources: LinuxResources = {
    memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB },
    cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
    pids: { limit: 32 },
  };
  const files: [string, string][] = v2
    ? [['memory', 'memory.max'], ['memory', 'memory.low'], ['memory', 'memory.swap.max'], ['cpu', 'cpu.weight'], ['cpu', 'cpu.max'], ['cpuset', 'cpuset.cpus'], ['cpuset', 'cpuset.mems'], ['pids', 'pids.max']]
    : [['memory', 'memory.limit_in_bytes'], ['memory', 'memory.soft_limit_in_bytes'], ['memory', 'memory.memsw.limit_in_bytes'], ['cpu', 'cpu.shares'], ['cpu', 'cpu.cfs_quota_us'], ['cpu', 'cpu.cfs_period_us'], ['cpuset', 'cpuset.cpus'], ['cpuset', 'cpuset.mems'], ['pids', 'pids.max']];
  const read = (m: CgroupManager) => Object.fromEntries(files.map(([c, f]) => [f, control(m, c, f)]));
  const theirs = runcCreated({ resources }, (path) => read(new CgroupManager(path)));
  let mine: Record<string, string> = {};
  await withCgroup((m) => {
    m.apply(resources);
    mine = read(m);
  });
  assert.equal(mine, theirs);
});

test('cpuset, burst and idle are written where the host has them', async () => {
  await withCgroup((m) => {
    m.apply({ cpu: { cpus: '0', mems: '0', burst: 1000, idle: 0 } });
    assert.is(control(m, 'cpuset', 'cpuset.cpus'), '0');
    assert.is(control(m, 'cpuset', 'cpuset.mems'), '0');
    assert.is(control(m, 'cpu', v2 ? 'cpu.max.burst' : 'cpu.cfs_burst_us'), '1000');
  });
});

test('blockIO: weight (BFQ as is, else io.weight converted) and throttling of a real disk', async () => {
  const disk = readdirSync('/sys/block').find((d) => !/^(loop|ram|zram)/.test(d));
  await withCgroup((m) => {
    const dir = v2 ? m.paths.v2! : m.paths.v1.get('blkio')!;
    const weightFile = v2 ? (existsSync(join(dir, 'io.bfq.weight')) ? 'io.bfq.weight' : 'io.weight') : existsSync(join(dir, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
    if (existsSync(join(dir, weightFile))) {
      m.apply({ blockIO: { weight: 500 } });
      const expected = weightFile === 'io.weight' ? blkioWeightToIoWeight(500) : 500;
      assert.match(readFileSync(join(dir, weightFile), 'utf8'), new RegExp(`default ${expected}\\b|^${expected}\\b`));
    } else {
      throwsClearly(() => m.apply({ blockIO: { weight: 500 } }), CgroupUnsupportedError, /linux\.resources\.blockIO\.weight: this kernel has no/);
    }
    if (!disk) return; // the VM has no disk
    const dev = readFileSync(`/sys/block/${disk}/dev`, 'utf8').trim();
    const [major, minor] = dev.split(':').map(Number);
    m.apply({ blockIO: { throttleReadBpsDevice: [{ major, minor, rate: MiB }], throttleWriteIOPSDevice: [{ major, minor, rate: 100 }] } });
    if (v2) assert.match(readFileSync(join(dir, 'io.max'), 'utf8'), new RegExp(`^${dev} rbps=${MiB} wbps=max riops=max wiops=100`, 'm'));
    else assert.is(readFileSync(join(dir, 'blkio.throttle.read_bps_device'), 'utf8').trim(), `${dev} ${MiB}`);
  });
});

test('the unified map writes cgroup2 files (on hybrid hosts those of controllers in cgroup2, like hugetlb)', async () => {
  if (!layout.unified || !layout.unifiedControllers.includes('hugetlb')) return;
  await withCgroup((m) => {
    m.apply({ unified: { 'hugetlb.2MB.max': String(4 * MiB) } });
    assert.is(readFileSync(join(m.paths.v2!, 'hugetlb.2MB.max'), 'utf8').trim(), String(4 * MiB));
    throwsClearly(() => m.apply({ unified: { '../escape': '1' } }), CgroupConfigError, /is not a cgroup v2 file name/);
  });
});

test('a memory hog is OOM-killed and the OOM event is seen', async () => {
  await withCgroup(async (m) => {
    m.apply({ memory: { limit: 32 * MiB, swap: 32 * MiB } });
    assert.is(m.oomEvents().oomKill, 0);
    const r = await inCgroup(m, 'exec tail /dev/zero');
    assert.is(r.signal, 'SIGKILL');
    assert.ok(m.oomEvents().oomKill >= 1, JSON.stringify(m.oomEvents()));
    const mem = m.stats().memory;
    assert.ok(mem.oomKills >= 1);
    assert.ok(mem.maxUsage === undefined || mem.maxUsage > 16 * MiB, `peak ${mem.maxUsage}`);
  });
});

test('pids.limit stops forks beyond the limit', async () => {
  await withCgroup(async (m) => {
    m.apply({ pids: { limit: 4 } });
    const g = gated('for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; wait');
    m.addPid(g.child.pid!);
    g.go();
    await sleep(300);
    assert.ok(m.pids().length <= 4, `${m.pids().length} pids`);
    assert.is(m.stats().pids.limit, 4);
    await m.killAll();
    assert.match((await g.done).out, /fork|Resource temporarily unavailable/i);
  });
});

test('freeze stops a busy process until thaw; the freezer reports frozen', async () => {
  await withCgroup(async (m) => {
    const g = gated('while :; do :; done');
    m.addPid(g.child.pid!);
    g.go();
    await sleep(100);
    await m.freeze();
    assert.is(m.state(), 'frozen');
    assert.is(v2 ? control(m, 'freezer', 'cgroup.freeze') : control(m, 'freezer', 'freezer.state'), v2 ? '1' : 'FROZEN');
    const t0 = cpuTicks(g.child.pid!);
    await sleep(300);
    assert.is(cpuTicks(g.child.pid!), t0, 'no CPU time while frozen');
    await m.thaw();
    assert.is(m.state(), 'thawed');
    await sleep(300);
    assert.ok(cpuTicks(g.child.pid!) > t0, 'runs again after thaw');
    const s = m.stats();
    assert.ok(s.cpu.usageTotal > 0 && s.pids.current >= 1, JSON.stringify({ cpu: s.cpu, pids: s.pids }));
  });
});

test('killAll kills every process (children too) and remove takes nested cgroups away', async () => {
  const m = new CgroupManager(`/sifkube-test-${Math.random().toString(36).slice(2, 10)}`);
  m.create();
  try {
    const g = gated('sleep 30 & sleep 30 & sleep 30 & wait');
    m.addPid(g.child.pid!);
    g.go();
    // The shell starts its three children at its own pace (slowly in the emulated VM): wait for them.
    for (let i = 0; i < 100 && m.pids().length < 4; i++) await sleep(50);
    assert.is(m.pids().length, 4);
    mkdirSync(join(m.dirs()[0], 'nested'));
    await m.killAll();
    assert.equal(m.pids(), []);
    assert.is((await g.done).signal, 'SIGKILL');
  } finally {
    await m.killAll();
    await m.remove();
  }
  for (const d of m.dirs()) assert.not.ok(existsSync(d), `${d} removed`);
});

const denyZero = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
];
const probe = 'head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied; echo x >/dev/null && echo null-ok';

test('devices: deny all but /dev/null (v1 devices.allow/deny, v2 eBPF)', async () => {
  await withCgroup(async (m) => {
    m.apply({ devices: denyZero });
    if (!v2) assert.is(control(m, 'devices', 'devices.list'), 'c 1:3 rwm');
    assert.match((await inCgroup(m, probe)).out, /zero-denied\nnull-ok/);
    m.apply({ devices: [{ allow: true, access: 'rwm' }] });
    assert.match((await inCgroup(m, probe)).out, /zero-ok\nnull-ok/);
  });
});

test('the eBPF device filter attaches to a cgroup2 directory and replaces the previous one', async () => {
  if (!layout.unified) return;
  await withCgroup(async (m) => {
    m.attachDeviceFilter(denyZero);
    assert.match((await inCgroup(m, probe)).out, /zero-denied\nnull-ok/);
    m.attachDeviceFilter([{ allow: true, access: 'rwm' }]);
    assert.match((await inCgroup(m, probe)).out, /zero-ok\nnull-ok/);
  });
});

test('the eBPF device program matches runc devicefilter instruction for instruction', () => {
  const prog = deviceFilterProgram(normalizeDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]));
  const hex = [...Array(prog.length / 8).keys()].map((i) => prog.subarray(i * 8, i * 8 + 8).toString('hex'));
  assert.equal(hex, [
    '6112000000000000', // LdXMemW dst: r2 src: r1 off: 0
    '54020000ffff0000', // And32Imm dst: r2 imm: 65535
    '6113000000000000', // LdXMemW dst: r3 src: r1
    '7403000010000000', // RSh32Imm dst: r3 imm: 16
    '6114040000000000', // LdXMemW dst: r4 src: r1 off: 4
    '6115080000000000', // LdXMemW dst: r5 src: r1 off: 8
    '5502070002000000', // JNEImm dst: r2 off: 7 imm: 2 (char)
    'bc31000000000000', // Mov32Reg dst: r1 src: r3
    '5401000006000000', // And32Imm dst: r1 imm: 6 (read|write)
    '5d31040000000000', // JNEReg dst: r1 off: 4 src: r3
    '5504030001000000', // JNEImm dst: r4 off: 3 imm: 1
    '5505020003000000', // JNEImm dst: r5 off: 2 imm: 3
    'b400000001000000', // Mov32Imm dst: r0 imm: 1
    '9500000000000000', // Exit
    'b400000000000000', // Mov32Imm dst: r0 imm: 0
    '9500000000000000', // Exit
  ]);
});

test('device rules that punch a hole in a wildcard are refused, like runc', () => {
  throwsClearly(
    () => deviceFilterProgram(normalizeDeviceRules([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'r' }])),
    CgroupConfigError,
    /cannot remove c 1:3 r from the wildcard rule c -1:-1 rwm/,
  );
  throwsClearly(() => normalizeDeviceRules([{ allow: true, type: 'x' }]), CgroupConfigError, /devices\[0\]\.type is "x"/);
});

test('a limit the host cannot apply is an error naming the field, never ignored', async () => {
  await withCgroup((m) => {
    throwsClearly(() => m.apply({ network: { classID: 42 } }), CgroupUnsupportedError, /linux\.resources\.network/);
    throwsClearly(() => m.apply({ memory: { swappiness: 101 } }), CgroupConfigError, /memory\.swappiness is 101: use an integer from 0 to 100/);
    throwsClearly(() => m.apply({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }), CgroupConfigError, /hugepageLimits\[0\]\.pageSize is "2M"/);
    throwsClearly(() => m.apply({ hugepageLimits: [{ pageSize: '4MB', limit: 1 }] }), CgroupUnsupportedError, /hugepageLimits\[0\]: this kernel has no .*hugetlb\.4MB/);
    if (v2) {
      throwsClearly(() => m.apply({ memory: { kernel: 64 * MiB } }), CgroupUnsupportedError, /memory\.kernel: not available with cgroup v2/);
      throwsClearly(() => m.apply({ memory: { disableOOMKiller: true } }), CgroupUnsupportedError, /disableOOMKiller: not available with cgroup v2/);
      throwsClearly(() => m.apply({ cpu: { realtimeRuntime: 1000 } }), CgroupUnsupportedError, /realtimeRuntime: not available with cgroup v2/);
      m.apply({ unified: { 'memory.high': String(48 * MiB) } });
      assert.is(control(m, 'memory', 'memory.high'), String(48 * MiB));
    } else {
      throwsClearly(() => m.apply({ unified: { 'memory.high': '1' } }), CgroupUnsupportedError, /unified\["memory\.high"\]: not available with cgroup hybrid v1\/v2 where the memory controller is in v1/);
      if (existsSync(join(m.paths.v1.get('cpu')!, 'cpu.rt_runtime_us'))) {
        m.apply({ cpu: { realtimePeriod: 1000000, realtimeRuntime: 10000 } });
        assert.is(control(m, 'cpu', 'cpu.rt_runtime_us'), '10000');
      } else {
        throwsClearly(() => m.apply({ cpu: { realtimeRuntime: 10000 } }), CgroupUnsupportedError, /cpu\.realtimeRuntime: this kernel has no/);
      }
      m.apply({ memory: { limit: 64 * MiB, swappiness: 10, disableOOMKiller: true } });
      assert.is(control(m, 'memory', 'memory.swappiness'), '10');
      assert.match(control(m, 'memory', 'memory.oom_control'), /oom_kill_disable 1/);
    }
  });
});

test('bad cgroup paths are refused clearly', () => {
  throwsClearly(() => new CgroupManager('/a/../b'), CgroupConfigError, /linux\.cgroupsPath is "\/a\/\.\.\/b"/);
  throwsClearly(() => new CgroupManager('/'), CgroupConfigError, /cgroupsPath is "\/"/);
  throwsClearly(() => new CgroupManager('system.slice:sifkube:c1'), CgroupUnsupportedError, /systemd cgroup driver is not supported yet/);
});

test('a relative cgroupsPath lands under the caller’s own cgroup', () => {
  const m = new CgroupManager('sifkube-rel/c1');
  for (const d of m.dirs()) assert.match(d, /\/sifkube-rel\/c1$/);
});

test.run();
