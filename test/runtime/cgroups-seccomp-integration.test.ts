import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupStats } from '../../src/cri/containers/stats.js';
import { detectLayout } from '../../src/runtime/cgroups/index.js';
import { containerState, deleteContainer, execInContainer, killContainer, pauseContainer, resumeContainer, runContainer, updateContainer } from '../../src/runtime/index.js';
import { baseSpec, busyboxBundle, oci, uniqueId, type Bundle, type SpecJson } from '../helpers/bundle.js';

// Runs on whatever the machine has: hybrid on the dev host, pure v2 in the VM (test/runtime/cgroups-v2-vm.test.ts).
const v2 = detectLayout().mode === 'v2';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable(`expected a failure matching ${re}`);
}

/** Runs the bundle with our runtime in this process (a CLI call costs a Node start: seconds in the VM). */
async function runOurs(b: Bundle): Promise<{ status: number; stdout: string; stderr: string }> {
  const files = [join(b.dir, '.ours-out'), join(b.dir, '.ours-err')];
  const fds = files.map((f) => openSync(f, 'w'));
  try {
    const { exitCode } = await runContainer(uniqueId('sk'), { root: b.root, bundle: b.dir, stdio: ['ignore', fds[0], fds[1]] });
    return { status: exitCode ?? -1, stdout: readFileSync(files[0], 'utf8'), stderr: readFileSync(files[1], 'utf8') };
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
}

/**
 * The script's stdout under our runtime and runc (and crun on v2), after checking that status and
 * stderr agree; `same` maps each output to what must agree where the kernel may differ between runs.
 */
async function both(script: string, edit: (s: SpecJson) => void, same: (out: string) => string = (out) => out): Promise<{ ours: string; theirs: string }> {
  const spec = baseSpec(['sh', '-c', script]);
  edit(spec);
  const b = busyboxBundle(spec);
  try {
    const ours = await runOurs(b);
    const theirs = spawnSync('runc', ['--root', b.runcRoot, 'run', '--bundle', b.dir, uniqueId('rc')], { cwd: b.dir, encoding: 'utf8', timeout: 60_000 });
    assert.is(ours.status, theirs.status, `ours ${ours.status} ${ours.stderr} / runc ${theirs.status} ${theirs.stderr}`);
    assert.is(same(ours.stderr), same(theirs.stderr));
    if (v2) {
      // crun, a second oracle, where its cgroup v2 support is at home (on a hybrid host its layout differs).
      const c = spawnSync('crun', ['--root', join(b.dir, 'state-crun'), 'run', '--bundle', b.dir, uniqueId('cr')], { cwd: b.dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal([c.status, same(c.stdout), same(c.stderr)], [ours.status, same(ours.stdout), same(ours.stderr)], 'crun agrees');
    }
    return { ours: same(ours.stdout), theirs: same(theirs.stdout) };
  } finally {
    b.remove();
  }
}

test('linux.seccomp is compiled and loaded before exec: the same denials as under runc', async () => {
  // Seccomp does not depend on the cgroup layout: the slow VM runs one of the two variants.
  for (const nnp of v2 ? [true] : [true, false]) {
    const { ours, theirs } = await both('mkdir /dev/shm/d 2>&1; echo $?; grep Seccomp: /proc/self/status; touch /dev/shm/f && echo touched', (s) => {
      s.process.noNewPrivileges = nnp;
      s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    });
    assert.match(ours, /Operation not permitted\n1\nSeccomp:\t2\ntouched\n/);
    assert.is(ours, theirs);
  }
});

test('linux.resources land in the container\'s cgroup, seen from inside through a cgroup namespace, as runc', async () => {
  const script = v2
    ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /proc/self/cgroup; grep -c cgroup2 /proc/self/mounts'
    : 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; cat /proc/self/cgroup | grep -E ":(memory|pids):"';
  const { ours, theirs } = await both(script, (s) => {
    s.linux.namespaces.push({ type: 'cgroup' });
    s.linux.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 42 } };
  });
  assert.ok(ours.startsWith(`${64 * 1024 * 1024}\n42\n`), ours);
  assert.match(ours, v2 ? /^\d+\n42\n0::\/\n1\n$/ : /:memory:\/\n/);
  assert.is(ours, theirs);
});

test('without a cgroup namespace the container sees its cgroup under /sys/fs/cgroup, read-only, as runc', async () => {
  const cgroupsPath = `/sifkube-test-${uniqueId('cg')}`;
  // v2: the whole hierarchy, as the runtime sees it; v1: the container's own directory per controller.
  const script = v2
    ? `grep -c cgroup2 /proc/self/mounts; cat /sys/fs/cgroup${cgroupsPath}/pids.max; echo 5 > /sys/fs/cgroup${cgroupsPath}/pids.max 2>/dev/null || echo read-only`
    : 'cat /sys/fs/cgroup/pids/pids.max; echo 5 > /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo read-only';
  const { ours, theirs } = await both(script, (s) => {
    s.linux.cgroupsPath = cgroupsPath;
    s.linux.resources = { pids: { limit: 33 } };
  });
  assert.match(ours, v2 ? /^1\n33\nread-only\n$/ : /^33\nread-only\n$/);
  assert.is(ours, theirs);
});

test('a deny-all device cgroup still allows the default devices and linux.devices, and denies the rest, as runc', async () => {
  const script = 'echo x > /dev/null && echo null-ok; head -c 1 /dev/skdev | wc -c; mknod /dev/skkmsg c 1 11 && head -c 1 /dev/skkmsg; echo $?' + (v2 ? '' : '; sort /sys/fs/cgroup/devices/devices.list');
  const { ours, theirs } = await both(script, (s) => {
    for (const set of ['bounding', 'effective', 'permitted']) s.process.capabilities[set].push('CAP_MKNOD');
    s.linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
    s.linux.devices = [{ type: 'c', path: '/dev/skdev', major: 1, minor: 5, fileMode: 0o666 }];
  });
  assert.match(ours, /^null-ok\n1\n1\n/);
  if (!v2) assert.match(ours, /\nb \*:\* m\nc \*:\* m\nc 10:200 rwm\nc 136:\* rwm\nc 1:3 rwm\n/);
  assert.is(ours, theirs);
});

test('a container over its memory limit is OOM-killed, and the cgroup counts the kill, as runc', async () => {
  const count = v2 ? 'grep -w oom_kill /sys/fs/cgroup/memory.events' : 'grep -w oom_kill /sys/fs/cgroup/memory/memory.oom_control';
  // The kernel may pick more than one victim (sort, and sometimes head too): each kill is a "Killed"
  // line from the shell and one more in the count, under any runtime.
  const { ours, theirs } = await both(
    `head -c 67108864 /dev/zero | sort >/dev/null; echo $?; ${count}`,
    (s) => {
      s.linux.namespaces.push({ type: 'cgroup' });
      s.linux.resources = { memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 } };
    },
    (out) => out.replace(/^(Killed\n)+/, 'Killed\n').replace(/^oom_kill [1-9]\d*$/m, 'oom_kill N'),
  );
  assert.match(ours, /^137\noom_kill N\n$/);
  assert.is(ours, theirs);
});

test('the CRI sees the OOM kill of a stopped container in its cgroup (its OOMKilled reason)', async () => {
  const spec = baseSpec(['sh', '-c', 'head -c 67108864 /dev/zero | sort >/dev/null']);
  spec.linux.cgroupsPath = `/sifkube-test-${uniqueId('cg')}`;
  spec.linux.resources = { memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 } };
  const b = busyboxBundle(spec);
  const id = uniqueId('cg');
  try {
    await runContainer(id, { root: b.root, bundle: b.dir, detach: true });
    for (let i = 0; i < 400 && containerState(id, { root: b.root }).status !== 'stopped'; i++) await sleep(25);
    assert.is(containerState(id, { root: b.root }).status, 'stopped');
    assert.ok(cgroupStats(spec.linux.cgroupsPath).oomKills! >= 1, JSON.stringify(cgroupStats(spec.linux.cgroupsPath)));
  } finally {
    await deleteContainer(id, { root: b.root, force: true }).catch(() => {});
    b.remove();
  }
});

// The lifecycle through the library, in this process: each CLI call costs a Node start, seconds in the VM.
test('pause, resume, update and kill --all drive the cgroup; delete removes it', async () => {
  const spec = baseSpec(['sh', '-c', 'sleep 600 & sleep 600; true']);
  spec.linux.cgroupsPath = `/sifkube-test-${uniqueId('cg')}`;
  const b = busyboxBundle(spec);
  const id = uniqueId('cg');
  const root = b.root;
  const dir = v2 ? `/sys/fs/cgroup${spec.linux.cgroupsPath}` : `/sys/fs/cgroup/pids${spec.linux.cgroupsPath}`;
  const status = () => containerState(id, { root }).status;
  try {
    await runContainer(id, { root, bundle: b.dir, detach: true });
    const init = containerState(id, { root }).pid;
    assert.match(readFileSync(`/proc/${init}/cgroup`, 'utf8'), new RegExp(`${v2 ? '^0:' : ':pids'}:${spec.linux.cgroupsPath}\n`));
    await pauseContainer(id, { root });
    assert.is(status(), 'paused');
    if (v2) assert.match(readFileSync(`${dir}/cgroup.events`, 'utf8'), /frozen 1/);
    assert.match(readFileSync(`/proc/${init}/status`, 'utf8'), /State:\s+[DS]/);
    await rejects(() => pauseContainer(id, { root }), /is paused: only a running container can be paused/);
    await rejects(() => execInContainer(id, { root, process: { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } } }), /is paused: a process can only be executed/);
    await resumeContainer(id, { root });
    assert.is(status(), 'running');
    if (v2) assert.match(readFileSync(`${dir}/cgroup.events`, 'utf8'), /frozen 0/);
    await updateContainer(id, { pids: { limit: 17 } }, { root });
    assert.is(readFileSync(`${dir}/pids.max`, 'utf8').trim(), '17');
    const procs = () => readFileSync(`${dir}/cgroup.procs`, 'utf8').trim().split('\n').filter(Boolean).length;
    for (let i = 0; i < 200 && procs() < 3; i++) await sleep(25);
    assert.is(procs(), 3, 'sh and its two sleeps');
    // The CRI's ContainerStats and OOMKilled read the same cgroup (here, not in a CRI test: the VM runs this file).
    const stats = cgroupStats(spec.linux.cgroupsPath);
    assert.ok(stats.memUsage! > 0 && Number(stats.cpuNs) > 0 && stats.workingSet! <= stats.memUsage! && stats.rss! > 0, JSON.stringify(stats));
    assert.is(stats.oomKills, 0);
    killContainer(id, 9, { root, all: true });
    for (let i = 0; i < 200 && status() !== 'stopped'; i++) await sleep(25);
    assert.is(status(), 'stopped');
    assert.is(readFileSync(`${dir}/cgroup.procs`, 'utf8').trim(), '', 'every process of the cgroup is gone');
    await deleteContainer(id, { root });
    assert.not.ok(existsSync(dir), 'the cgroup is gone');
  } finally {
    await deleteContainer(id, { root, force: true }).catch(() => {});
    b.remove();
  }
});

test('a paused container is deleted with --force, and its cgroup with it; update refuses bad JSON', async () => {
  const spec = baseSpec(['sleep', '600']);
  spec.linux.cgroupsPath = `/sifkube-test-${uniqueId('cg')}`;
  const b = busyboxBundle(spec);
  const id = uniqueId('cg');
  const dir = v2 ? `/sys/fs/cgroup${spec.linux.cgroupsPath}` : `/sys/fs/cgroup/freezer${spec.linux.cgroupsPath}`;
  try {
    await runContainer(id, { root: b.root, bundle: b.dir, detach: true });
    await pauseContainer(id, { root: b.root });
    const bad = oci(b, ['update', '--resources', '-', id], 'not json');
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /--resources -: cannot read it as JSON/);
    assert.is(oci(b, ['delete', '--force', id]).status, 0);
    assert.not.ok(existsSync(dir), 'the cgroup is gone');
  } finally {
    await deleteContainer(id, { root: b.root, force: true }).catch(() => {});
    b.remove();
  }
});

test.run();
