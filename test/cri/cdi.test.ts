import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status as S } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveCdiDevices } from '../../src/cri/containers/cdi.js';
import { codeOf, podConfig, pullBusyboxImage, removeAllPods, startTestCri, type TestCri } from '../helpers/cri.js';
import { FAKE_GPUS, fakeNvidiaTree, LIB_DIR, NVIDIA_MAJOR, type FakeNvidiaTree } from '../helpers/fake-nvidia.js';

let cri: TestCri;
let tree: FakeNvidiaTree;
let image = '';
let sandboxId = '';
const work = mkdtempSync(join(tmpdir(), 'sk-cri-cdi-'));
const logDir = join(work, 'logs');
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

test.before(async () => {
  tree = fakeNvidiaTree(work);
  cri = await startTestCri({ gpuRoot: tree.root });
  image = await pullBusyboxImage(cri, work);
  // Host networking: no CNI needed for what these containers do.
  sandboxId = (await cri.client.runtime.RunPodSandbox({ config: podConfig('cdipod', { logDirectory: logDir, linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } }) })).podSandboxId;
});

test.after(async () => {
  try {
    await removeAllPods(cri);
  } finally {
    await cri.dispose();
    writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
    rmSync(work, { recursive: true, force: true });
  }
});

let n = 0;
function ctr(cdi: string[], script = 'true'): Record<string, unknown> {
  n += 1;
  return { metadata: { name: `c${n}`, attempt: 0 }, image: { image }, command: ['sh', '-c', script], logPath: `c${n}.log`, CDIDevices: cdi.map((name) => ({ name })) };
}

async function runToExit(config: Record<string, unknown>): Promise<string> {
  const { containerId } = await cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config, sandboxConfig: {} });
  await cri.client.runtime.StartContainer({ containerId });
  for (let i = 0; i < 200; i++) {
    const { status } = await cri.client.runtime.ContainerStatus({ containerId });
    if (status.state === 'CONTAINER_EXITED') {
      assert.is(status.exitCode, 0, readFileSync(status.logPath, 'utf8'));
      return readFileSync(status.logPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/^\S+ std(out|err) F /, ''))
        .join('\n');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`container ${containerId} did not exit`);
}

const PROBE = `ls /dev | grep nvidia | tr "\\n" " "; echo; stat -c "%n %t:%T" /dev/nvidia*; echo "env $NVIDIA_VISIBLE_DEVICES"; ls ${LIB_DIR}; (echo x > ${LIB_DIR}/libcuda.so.1) 2>/dev/null && echo WROTE || echo refused`;

test('CreateContainer with CDI nvidia.com/gpu=UUID gets that GPU, the driver nodes, the files read-only and NVIDIA_VISIBLE_DEVICES', async () => {
  const out = await runToExit(ctr([`nvidia.com/gpu=${FAKE_GPUS[1].uuid}`], PROBE));
  const lines = out.split('\n');
  assert.is(lines[0].trim(), 'nvidia-uvm nvidia-uvm-tools nvidia1 nvidiactl');
  assert.ok(lines.includes(`/dev/nvidia1 ${NVIDIA_MAJOR.toString(16)}:1`), out);
  assert.ok(lines.includes(`env ${FAKE_GPUS[1].uuid}`), out);
  for (const lib of ['libcuda.so.1', 'libnvidia-ml.so.1', 'libnvidia-ptxjitcompiler.so.1']) assert.ok(lines.includes(lib), out);
  assert.not.ok(lines.includes('libnotthedriver.so.1'), out);
  assert.is(lines.at(-1), 'refused');
});

test('CDI nvidia.com/gpu=all and by index: every GPU named, each once', async () => {
  const out = await runToExit(ctr(['nvidia.com/gpu=all', 'nvidia.com/gpu=0'], 'ls /dev | grep "nvidia[0-9]" | tr "\\n" " "; echo "$NVIDIA_VISIBLE_DEVICES"'));
  assert.is(out, `nvidia0 nvidia1 ${FAKE_GPUS.map((g) => g.uuid).join(',')}`);
});

test('bad CDI requests are INVALID_ARGUMENT naming the device; nothing is left of them', async () => {
  const before = (await cri.client.runtime.ListContainers({})).containers.length;
  for (const [name, want] of [
    ['nvidia.com/gpu=7', /config\.CDI_devices: nvidia\.com\/gpu=7: no such GPU on this host \(it has 0 \(GPU-1111/],
    [`nvidia.com/gpu=GPU-nope`, /nvidia\.com\/gpu=GPU-nope: no such GPU/],
    ['nvidia.com/gpu', /config\.CDI_devices\[0\] "nvidia.com\/gpu" is not a CDI device name: write VENDOR\/CLASS=DEVICE/],
    ['vendor.example/fpga=0', /unknown CDI kind vendor\.example\/fpga: this runtime resolves nvidia\.com\/gpu=<index\|uuid\|all> only/],
  ] as const) {
    const e = await codeOf(cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config: ctr([name]), sandboxConfig: {} }));
    assert.is(e.code, S.INVALID_ARGUMENT, `${name}: ${e.details}`);
    assert.match(e.details, want);
  }
  assert.is((await cri.client.runtime.ListContainers({})).containers.length, before);
  assert.throws(() => resolveCdiDevices([{ name: 'nvidia.com/gpu=0' }], undefined), /this node has no GPU \(its CRI server has no gpuRoot\)/);
  assert.is(resolveCdiDevices([], undefined), undefined);
});

test.run();
