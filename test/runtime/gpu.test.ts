import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverGpus, GpuDiscoveryError, gpuInjection, GpuRequestError, selectGpus } from '../../src/runtime/index.js';
import { baseSpec, busyboxBundle, oci, uniqueId } from '../helpers/bundle.js';
import { DRIVER_VERSION, FAKE_GPUS, fakeNvidiaTree, LIB_DIR, NVIDIA_MAJOR, UVM_MAJOR } from '../helpers/fake-nvidia.js';

test('discovery under a root: devices by minor, driver version, UUID/bus/model from /proc, control devices, driver files from the linker cache and PATH', () => {
  const tree = fakeNvidiaTree(tmpdir());
  try {
    const host = discoverGpus(tree.root);
    assert.is(host.root, tree.root);
    assert.is(host.driverVersion, DRIVER_VERSION);
    assert.equal(
      host.gpus.map((g) => [g.index, g.uuid, g.pci, g.model, g.device.path, g.device.hostPath, g.device.major, g.device.minor]),
      FAKE_GPUS.map((g) => [g.index, g.uuid, g.pci, g.model, `/dev/nvidia${g.index}`, join(tree.root, `dev/nvidia${g.index}`), NVIDIA_MAJOR, g.index]),
    );
    assert.equal(host.controlDevices.map((d) => [d.path, d.major, d.minor]), [['/dev/nvidiactl', NVIDIA_MAJOR, 255], ['/dev/nvidia-uvm', UVM_MAJOR, 0], ['/dev/nvidia-uvm-tools', UVM_MAJOR, 1]]);
    const files = host.driverFiles.map((f) => f.path).sort();
    assert.equal(files, [`${LIB_DIR}/libcuda.so.1`, `${LIB_DIR}/libnvidia-ml.so.1`, `${LIB_DIR}/libnvidia-ptxjitcompiler.so.1`, '/usr/bin/nvidia-smi'].sort());
    // A library link is followed inside the root: the file given is the real one.
    const cuda = host.driverFiles.find((f) => f.path.endsWith('libcuda.so.1'))!;
    assert.is(cuda.hostPath, join(tree.root, `.${LIB_DIR}/libcuda.so.${DRIVER_VERSION}`));
  } finally {
    tree.remove();
  }
});

test('discovery without /proc GPU information takes UUIDs and models from nvidia-smi -L; a root without a GPU is empty; a bad root is an error', () => {
  const tree = fakeNvidiaTree(tmpdir(), { procGpus: false });
  const empty = mkdtempSync(join(tmpdir(), 'sk-nogpu-'));
  try {
    const host = discoverGpus(tree.root);
    assert.equal(host.gpus.map((g) => [g.index, g.uuid, g.model, g.pci]), FAKE_GPUS.map((g) => [g.index, g.uuid, g.model, undefined]));
    const none = discoverGpus(empty);
    assert.equal([none.gpus, none.controlDevices, none.driverFiles, none.driverVersion], [[], [], [], undefined]);
    assert.throws(() => discoverGpus(join(empty, 'missing')), (e: Error) => e instanceof GpuDiscoveryError && /missing: is not a folder/.test(e.message));
    assert.throws(() => selectGpus(none, ['all']), (e: Error) => e instanceof GpuRequestError && /this host has no NVIDIA GPU/.test(e.message));
  } finally {
    tree.remove();
    rmSync(empty, { recursive: true });
  }
});

test('selection by index, UUID and all; a name that matches no GPU is an error naming it and the GPUs there are', () => {
  const tree = fakeNvidiaTree(tmpdir());
  try {
    const host = discoverGpus(tree.root);
    assert.equal(selectGpus(host, ['1']).map((g) => g.index), [1]);
    assert.equal(selectGpus(host, [FAKE_GPUS[1].uuid, '0', '1']).map((g) => g.index), [0, 1]);
    assert.equal(selectGpus(host, ['all']).map((g) => g.index), [0, 1]);
    for (const bad of ['2', 'GPU-nope', 'first']) {
      assert.throws(() => selectGpus(host, ['0', bad]), (e: Error) => e instanceof GpuRequestError && e.message.startsWith(`GPU "${bad}": no such GPU on this host (it has 0 (${FAKE_GPUS[0].uuid}), 1 (`));
    }
    const inj = gpuInjection(host, selectGpus(host, ['1']));
    assert.equal(inj.devices.map((d) => d.path), ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia1']);
    assert.equal(inj.env, { NVIDIA_VISIBLE_DEVICES: FAKE_GPUS[1].uuid });
  } finally {
    tree.remove();
  }
});

// What the container sees of /dev, its device cgroup, the driver files and its environment.
const PROBE = [
  'ls /dev | tr "\\n" " "; echo',
  'stat -c "%n %F %t:%T" /dev/nvidia1 /dev/nvidiactl /dev/nvidia-uvm',
  'cat /sys/fs/cgroup/devices/devices.list | sort | tr "\\n" " "; echo',
  `ls ${LIB_DIR} | tr "\\n" " "; echo`,
  'echo "env $NVIDIA_VISIBLE_DEVICES"',
  'nvidia-smi -L | head -1',
  `echo x > ${LIB_DIR}/libcuda.so.1 && echo WROTE || echo "write refused"`,
  'grep -c " /usr/" /proc/self/mountinfo',
].join('; ');

test('sifkube-oci run --gpus 1: the container has that GPU and the driver nodes only, the driver files read-only, NVIDIA_VISIBLE_DEVICES, a device cgroup allowing those', () => {
  const tree = fakeNvidiaTree(tmpdir());
  const spec = baseSpec(['sh', '-c', PROBE]);
  spec.linux.cgroupsPath = `/sifkube-test-gpu-${uniqueId('c')}`;
  const b = busyboxBundle(spec);
  try {
    const r = oci(b, ['run', '--gpus', '1', '--gpu-root', tree.root, '--bundle', b.dir, uniqueId('gpu')]);
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const dev = lines[0].trim().split(' ');
    assert.ok(dev.includes('nvidia1') && !dev.includes('nvidia0'), lines[0]);
    assert.equal(dev.filter((d) => d.startsWith('nvidia')).sort(), ['nvidia-uvm', 'nvidia-uvm-tools', 'nvidia1', 'nvidiactl']);
    assert.equal(lines.slice(1, 4), [
      '/dev/nvidia1 character special file c3:1',
      '/dev/nvidiactl character special file c3:ff',
      `/dev/nvidia-uvm character special file ${UVM_MAJOR.toString(16)}:0`,
    ]);
    const list = lines[4];
    for (const want of [`c ${NVIDIA_MAJOR}:1 rw`, `c ${NVIDIA_MAJOR}:255 rw`, `c ${UVM_MAJOR}:0 rw`, `c ${UVM_MAJOR}:1 rw`]) assert.ok(list.includes(want), `${want} in ${list}`);
    assert.not.ok(list.includes(`c ${NVIDIA_MAJOR}:0 `), `no rule for the other GPU: ${list}`);
    assert.not.match(list, /a \*:\* rwm/, `not every device: ${list}`);
    assert.equal(lines[5].trim().split(' ').sort(), ['libcuda.so.1', 'libnvidia-ml.so.1', 'libnvidia-ptxjitcompiler.so.1']);
    assert.is(lines[6], `env ${FAKE_GPUS[1].uuid}`);
    assert.is(lines[7], `GPU 0: ${FAKE_GPUS[0].model} (UUID: ${FAKE_GPUS[0].uuid})`);
    assert.match(lines[8], /write refused/);
    assert.is(lines[9], '4', 'four mounts under /usr: the driver files, nothing else of the host');
    assert.is(readFileSync(join(tree.root, `.${LIB_DIR}/libcuda.so.${DRIVER_VERSION}`)).subarray(0, 4).toString('latin1'), '\x7fELF', 'the host file is untouched');
  } finally {
    b.remove();
    tree.remove();
  }
});

test('sifkube-oci run: a GPU the host lacks fails before anything is made, naming it; --gpu-root alone is a usage error', () => {
  const tree = fakeNvidiaTree(tmpdir());
  const b = busyboxBundle(baseSpec(['true']));
  try {
    const r = oci(b, ['run', '--gpus', '0,7', '--gpu-root', tree.root, '--bundle', b.dir, uniqueId('gpu')]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /GPU "7": no such GPU on this host/);
    const list = oci(b, ['list', '-q']);
    assert.is(list.stdout, '');
    const u = oci(b, ['run', '--gpu-root', tree.root, '--bundle', b.dir, uniqueId('gpu')]);
    assert.is(u.status, 1);
    assert.match(u.stderr, /--gpu-root: give --nv or --gpus too/);
  } finally {
    b.remove();
    tree.remove();
  }
});

test.run();
