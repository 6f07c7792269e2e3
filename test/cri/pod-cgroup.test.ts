import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectLayout } from '../../src/runtime/cgroups/index.js';
import { deleteLink, pullBusyboxImage, removeAllPods, removeCgroupParent, podConfig, startTestCri, writeBridgeConflist, type TestCri } from '../helpers/cri.js';

// A pod's container cgroup through the CRI, on whatever the machine has: hybrid here, pure v2 in the
// VM (test/cri/pod-cgroup-v2-vm.test.ts), where the kubelet of most users finds it.
const v2 = detectLayout().mode === 'v2';
const MiB = 1024 * 1024;
let cri: TestCri;
let net: { bridge: string };
let image = '';
let sandboxId = '';
const work = mkdtempSync(join(tmpdir(), 'sk-cri-cg-'));
const cgroupParent = `/sifkube-cri-test-${Math.random().toString(16).slice(2, 8)}`;

test.before(async () => {
  cri = await startTestCri();
  net = writeBridgeConflist(cri);
  image = await pullBusyboxImage(cri, work);
  sandboxId = (await cri.client.runtime.RunPodSandbox({ config: podConfig('cgpod', { logDirectory: join(work, 'logs'), linux: { cgroupParent } }) })).podSandboxId;
});

test.after(async () => {
  try {
    await removeAllPods(cri);
  } finally {
    await cri.dispose();
    deleteLink(net.bridge);
    removeCgroupParent(cgroupParent);
    rmSync(work, { recursive: true, force: true });
  }
});

test('a pod container\'s kubelet resources land in its cgroup under the pod\'s parent; stats read it; removal deletes it', async () => {
  const resources = { cpuPeriod: 100000, cpuQuota: 50000, cpuShares: 512, memoryLimitInBytes: 64 * MiB, memorySwapLimitInBytes: 64 * MiB, oomScoreAdj: 500, hugepageLimits: [], unified: {} };
  const config = { metadata: { name: 'c', attempt: 0 }, image: { image }, command: ['sh', '-c', 'cat /proc/self/cgroup; sleep 1000'], logPath: 'c/0.log', linux: { resources } };
  const { containerId } = await cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config, sandboxConfig: {} });
  const path = `${cgroupParent}/${containerId}`;
  const file = (controller: string, name: string) => readFileSync(v2 ? `/sys/fs/cgroup${path}/${name}` : `/sys/fs/cgroup/${controller}${path}/${name}`, 'utf8').trim();
  try {
    await cri.client.runtime.StartContainer({ containerId });
    if (v2) {
      // runc's conversions: 512 shares are weight 20; quota and period share cpu.max.
      assert.equal([file('', 'memory.max'), file('', 'cpu.weight'), file('', 'cpu.max')], [String(64 * MiB), '20', '50000 100000']);
    } else {
      assert.equal([file('memory', 'memory.limit_in_bytes'), file('cpu', 'cpu.shares'), file('cpu', 'cpu.cfs_quota_us')], [String(64 * MiB), '512', '50000']);
    }
    const log = join(work, 'logs', 'c/0.log');
    for (let i = 0; i < 200 && !(existsSync(log) && readFileSync(log, 'utf8').includes('stdout')); i++) await new Promise((r) => setTimeout(r, 25));
    assert.match(readFileSync(log, 'utf8'), v2 ? new RegExp(`stdout F 0::${path}\n`) : new RegExp(`stdout F \\d+:memory:${path}\n`));
    const { stats } = await cri.client.runtime.ContainerStats({ containerId });
    assert.ok(Number(stats.memory.usageBytes.value) > 0 && Number(stats.memory.workingSetBytes.value) > 0, JSON.stringify(stats.memory));
    assert.ok(Number(stats.cpu.usageCoreNanoSeconds.value) > 0, JSON.stringify(stats.cpu));
    await cri.client.runtime.StopContainer({ containerId, timeout: 0 });
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId });
  }
  assert.not.ok(existsSync(v2 ? `/sys/fs/cgroup${path}` : `/sys/fs/cgroup/memory${path}`), 'the container\'s cgroup is gone');
});

test.run();
