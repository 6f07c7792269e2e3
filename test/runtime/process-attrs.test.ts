import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { baseSpec, busyboxBundle, oci, runc, uniqueId, type Bundle, type SpecJson } from '../helpers/bundle.js';
import * as rt from '../../src/runtime/index.js';

/*
 * linux.personality, process.scheduler, process.ioPriority and process.execCPUAffinity, checked from
 * inside the container and from the host (chrt, ionice, /proc). No peer is an oracle here: runc
 * 1.1.5 (spec 1.0.2-dev) ignores all four fields (the personality test shows it), and Debian's crun
 * 1.8 refuses to run at all on this hybrid-cgroup host.
 */

/** Runs fn with a created and started `sleep` container; removes it after. */
function withRunning(fn: (b: Bundle, id: string, pid: number) => void | Promise<void>, edit: (s: SpecJson) => void = () => {}) {
  return async () => {
    const spec = baseSpec(['sleep', '60']);
    edit(spec);
    const b = busyboxBundle(spec);
    const id = uniqueId('pa');
    try {
      const r = oci(b, ['run', '-d', '--bundle', b.dir, id]);
      assert.is(r.status, 0, r.stderr);
      await fn(b, id, JSON.parse(oci(b, ['state', id]).stdout).pid as number);
    } finally {
      oci(b, ['delete', '-f', id]);
      b.remove();
    }
  };
}

const host = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
/** Field 19 of /proc/PID/stat: the nice value. */
const niceOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
const cpusAllowed = (pid: number | 'self'): string => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];

test('linux.personality LINUX32 makes uname show i686 in the init and in exec; runc 1.1.5 ignores it', withRunning((b, id) => {
  const r = oci(b, ['exec', id, 'uname', '-m']);
  assert.is(r.stdout, 'i686\n', r.stderr);
  const spec = baseSpec(['uname', '-m']);
  spec.linux.personality = { domain: 'LINUX32' };
  b.writeSpec(spec);
  const ours = oci(b, ['run', '--bundle', b.dir, uniqueId('pa')]);
  assert.is(ours.stdout, 'i686\n', ours.stderr);
  assert.is(runc(b, ['run', '--bundle', b.dir, uniqueId('rc')]).stdout, `${host('uname', ['-m'])}`, 'runc 1.1.5 does not apply it');
  spec.linux.personality = { domain: 'LINUX' };
  b.writeSpec(spec);
  assert.is(oci(b, ['run', '--bundle', b.dir, uniqueId('pa')]).stdout, host('uname', ['-m']));
}, (s) => (s.linux.personality = { domain: 'LINUX32' })));

test('process.scheduler and process.ioPriority of the init are what chrt, ionice and /proc show from the host', withRunning((_b, _id, pid) => {
  assert.match(host('chrt', ['-p', String(pid)]), /policy: SCHED_BATCH\n/);
  assert.is(niceOf(pid), 7);
  assert.is(host('ionice', ['-p', String(pid)]).trim(), 'best-effort: prio 6');
}, (s) => {
  s.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
  s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
}));

test('an exec\'d process gets the scheduler and I/O priority of its process.json', withRunning(async (b, id) => {
  const proc = { ...baseSpec(['sleep', '30']).process, scheduler: { policy: 'SCHED_IDLE' }, ioPriority: { class: 'IOPRIO_CLASS_RT', priority: 2 } };
  const ex = await rt.execInContainer(id, { root: b.root, process: proc });
  try {
    assert.match(host('chrt', ['-p', String(ex.pid)]), /policy: SCHED_IDLE\n/);
    assert.is(host('ionice', ['-p', String(ex.pid)]).trim(), 'realtime: prio 2');
  } finally {
    execFileSync('kill', ['-9', String(ex.pid)]);
    await ex.exited;
  }
}));

test('SCHED_FIFO gets a clear error naming process.scheduler and the errno without a real-time budget, and runs with one', async () => {
  const spec = baseSpec(['sleep', '60']);
  spec.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 };
  const b = busyboxBundle(spec);
  const id = uniqueId('pa');
  try {
    // Where the kernel groups real-time time (cpu.rt_runtime_us, as here), a new cgroup has none.
    if (existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us')) {
      const r = oci(b, ['run', '-d', '--bundle', b.dir, uniqueId('pa')]);
      assert.is(r.status, 1);
      assert.match(r.stderr, /process\.scheduler: sched_setattr SCHED_FIFO \(a real-time policy needs .*realtimeRuntime.*\): Operation not permitted\n$/);
      spec.linux.resources = { cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } };
      b.writeSpec(spec);
    }
    const r = oci(b, ['run', '-d', '--bundle', b.dir, id]);
    assert.is(r.status, 0, r.stderr);
    const pid = JSON.parse(oci(b, ['state', id]).stdout).pid as number;
    assert.match(host('chrt', ['-p', String(pid)]), /policy: SCHED_FIFO\n.*priority: 10\n/);
  } finally {
    oci(b, ['delete', '-f', id]);
    b.remove();
  }
});

test('execCPUAffinity: initial for the runtime side before the cgroup, final right before exec; the init keeps its own', withRunning(async (b, id, pid) => {
  const all = cpusAllowed('self');
  assert.is(cpusAllowed(pid), all, 'runtime-spec: not applied to the init');
  if (cpus().length < 2) {
    console.log('skipped the two-CPU part: this machine has one CPU');
    return;
  }
  const proc = { ...baseSpec(['sleep', '30']).process, execCPUAffinity: { initial: '0', final: '1' } };
  const ex = await rt.execInContainer(id, { root: b.root, process: proc });
  try {
    assert.is(cpusAllowed(ex.pid), '1');
    assert.is(cpusAllowed(ex.monitor.pid!), '0', 'the monitor (runtime side) ran on the initial list');
  } finally {
    execFileSync('kill', ['-9', String(ex.pid)]);
    await ex.exited;
  }
  // Initial alone: the process gets the container's default back after joining the cgroup.
  const r = oci(b, ['exec', '--process', writeProcess(b, { initial: '1' }), id]);
  assert.is(r.stdout.trim(), all, r.stderr);
}, (s) => (s.process.execCPUAffinity = { final: '1' })));

/** A process.json that prints its allowed CPUs, with the given execCPUAffinity. */
function writeProcess(b: Bundle, affinity: SpecJson): string {
  const file = `${b.dir}/process-${uniqueId('p')}.json`;
  const p = { ...baseSpec(['sh', '-c', 'grep Cpus_allowed_list /proc/self/status | cut -f2']).process, execCPUAffinity: affinity };
  writeFileSync(file, JSON.stringify(p));
  return file;
}

test('validation names the field of each bad scheduler, I/O priority, CPU list and personality', () => {
  const bad = (edit: (s: SpecJson) => void, re: RegExp) => {
    const s = baseSpec(['true']);
    edit(s);
    assert.throws(() => rt.validateSpec(s), re);
  };
  bad((s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_FAST', priority: 1 }), /process.ioPriority.class: IOPRIO_CLASS_FAST is not an I\/O class/);
  bad((s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }), /process.ioPriority.priority: must be an integer from 0 to 7/);
  bad((s) => (s.process.scheduler = { policy: 'SCHED_FAST' }), /process.scheduler.policy: SCHED_FAST is not a policy/);
  bad((s) => (s.process.scheduler = { policy: 'toString' }), /process.scheduler.policy: toString is not a policy/);
  bad((s) => (s.process.scheduler = { policy: 'SCHED_ISO' }), /process.scheduler.policy: SCHED_ISO is not implemented by Linux/);
  bad((s) => (s.process.scheduler = { policy: 'SCHED_OTHER', nice: 20 }), /process.scheduler.nice: must be an integer from -20 to 19/);
  bad((s) => (s.process.scheduler = { policy: 'SCHED_FIFO' }), /process.scheduler.priority: SCHED_FIFO needs a priority from 1 to 99/);
  bad((s) => (s.process.scheduler = { policy: 'SCHED_BATCH', priority: 5 }), /process.scheduler.priority: only SCHED_FIFO and SCHED_RR have a priority/);
  bad((s) => (s.process.scheduler = { policy: 'SCHED_OTHER', runtime: 1000 }), /process.scheduler.runtime: only SCHED_DEADLINE has/);
  bad((s) => (s.process.scheduler = { policy: 'SCHED_OTHER', flags: ['SCHED_FLAG_FAST'] }), /process.scheduler.flags\[0\]: SCHED_FLAG_FAST is not a scheduler flag/);
  bad((s) => (s.process.execCPUAffinity = { final: '0-x' }), /process.execCPUAffinity.final: "0-x" is not a CPU number or range/);
  bad((s) => (s.process.execCPUAffinity = { initial: '3-1' }), /process.execCPUAffinity.initial: range 3-1 goes backwards/);
  bad((s) => (s.process.execCPUAffinity = { initial: '' }), /process.execCPUAffinity.initial: must name at least one CPU/);
  bad((s) => (s.process.execCPUAffinity = { final: '4096' }), /process.execCPUAffinity.final: CPU 4096 is above 1023/);
  bad((s) => (s.linux.personality = { domain: 'LINUX64' }), /linux.personality.domain: LINUX64 is not an execution domain \(LINUX, LINUX32\)/);
  bad((s) => (s.linux.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] }), /linux.personality.flags: the runtime-spec defines no personality flags/);
  bad((s) => (s.linux.personality = 'LINUX32'), /linux.personality: must be an object/);
  const ok = baseSpec(['true']);
  ok.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 10_000_000, deadline: 30_000_000, period: 30_000_000, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
  ok.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
  ok.process.execCPUAffinity = { initial: '0', final: '0-1, 3' };
  ok.linux.personality = { domain: 'LINUX32', flags: [] };
  assert.ok(rt.validateSpec(ok));
});

test.run();
