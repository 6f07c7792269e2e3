import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { baseSpec, busyboxBundle, oci, runBoth, runc, uniqueId, type SpecJson } from '../helpers/bundle.js';

function both(script: string, edit: (s: SpecJson) => void): { ours: string; theirs: string } {
  const spec = baseSpec(['sh', '-c', script]);
  edit(spec);
  const b = busyboxBundle(spec);
  try {
    const { ours, theirs } = runBoth(b);
    assert.is(ours.status, theirs.status, `ours ${ours.status} ${ours.stderr} / runc ${theirs.status} ${theirs.stderr}`);
    assert.is(ours.stderr, theirs.stderr);
    return { ours: ours.stdout, theirs: theirs.stdout };
  } finally {
    b.remove();
  }
}

test('linux.seccomp is compiled and loaded before exec: the same denials as under runc', () => {
  for (const nnp of [true, false]) {
    const { ours, theirs } = both('mkdir /dev/shm/d 2>&1; echo $?; grep Seccomp: /proc/self/status; touch /dev/shm/f && echo touched', (s) => {
      s.process.noNewPrivileges = nnp;
      s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    });
    assert.match(ours, /Operation not permitted\n1\nSeccomp:\t2\ntouched\n/);
    assert.is(ours, theirs);
  }
});

test('linux.resources land in the container\'s cgroup, seen from inside through a cgroup namespace, as runc', () => {
  const { ours, theirs } = both('cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; cat /proc/self/cgroup | grep -E ":(memory|pids):"', (s) => {
    s.linux.namespaces.push({ type: 'cgroup' });
    s.linux.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 42 } };
  });
  assert.ok(ours.startsWith(`${64 * 1024 * 1024}\n42\n`), ours);
  assert.match(ours, /:memory:\/\n/);
  assert.is(ours, theirs);
});

test('a deny-all device cgroup still allows the default devices and linux.devices, as runc', () => {
  const { ours, theirs } = both('echo x > /dev/null && echo null-ok; head -c 1 /dev/skdev | wc -c; sort /sys/fs/cgroup/devices/devices.list', (s) => {
    s.linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
    s.linux.devices = [{ type: 'c', path: '/dev/skdev', major: 1, minor: 5, fileMode: 0o666 }];
  });
  assert.match(ours, /^null-ok\n1\nb \*:\* m\nc \*:\* m\nc 10:200 rwm\nc 136:\* rwm\nc 1:3 rwm\n/);
  assert.is(ours, theirs);
});

test('pause, resume and update --resources drive the cgroup; delete removes it', () => {
  const spec = baseSpec(['sleep', '60']);
  spec.linux.cgroupsPath = `/sifkube-test-${uniqueId('cg')}`;
  const b = busyboxBundle(spec);
  const id = uniqueId('cg');
  const pidsMax = `/sys/fs/cgroup/pids${spec.linux.cgroupsPath}/pids.max`;
  try {
    assert.is(oci(b, ['run', '-d', '--bundle', b.dir, id]).status, 0);
    assert.ok(existsSync(pidsMax));
    const init = JSON.parse(oci(b, ['state', id]).stdout).pid as number;
    assert.match(readFileSync(`/proc/${init}/cgroup`, 'utf8'), new RegExp(`:pids:${spec.linux.cgroupsPath}\n`));
    assert.is(oci(b, ['pause', id]).status, 0);
    assert.is(JSON.parse(oci(b, ['state', id]).stdout).status, 'paused');
    assert.match(readFileSync(`/proc/${init}/status`, 'utf8'), /State:\s+[DS]/);
    const again = oci(b, ['pause', id]);
    assert.is(again.status, 1);
    assert.match(again.stderr, /is paused: only a running container can be paused/);
    assert.is(oci(b, ['resume', id]).status, 0);
    assert.is(JSON.parse(oci(b, ['state', id]).stdout).status, 'running');
    const up = oci(b, ['update', '--resources', '-', id], JSON.stringify({ pids: { limit: 17 } }));
    assert.is(up.status, 0, up.stderr);
    assert.is(readFileSync(pidsMax, 'utf8').trim(), '17');
    const bad = oci(b, ['update', '--resources', '-', id], 'not json');
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /--resources -: cannot read it as JSON/);
    assert.is(oci(b, ['pause', id]).status, 0);
    assert.match(oci(b, ['exec', id, 'true']).stderr, /is paused: a process can only be executed/);
    assert.is(oci(b, ['delete', '--force', id]).status, 0, 'a paused container is deleted with --force');
    assert.not.ok(existsSync(pidsMax), 'the cgroup is gone');
  } finally {
    oci(b, ['delete', '--force', id]);
    runc(b, ['list']);
    b.remove();
  }
});

test.run();
