import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status as S } from '@grpc/grpc-js';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeOf, deleteLink, pullBusyboxImage, removeAllPods, removeCgroupParent, podConfig, startTestCri, writeBridgeConflist, type TestCri } from '../helpers/cri.js';

// Resources as the kubelet sends them, OOM kills, UpdateContainerResources and seccomp profiles, on real cgroups.
let cri: TestCri;
let net: { bridge: string };
let image = '';
let sandboxId = '';
const work = mkdtempSync(join(tmpdir(), 'sk-cri-res-'));
const logDir = join(work, 'logs');
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
const MiB = 1024 * 1024;
// The pod's cgroup parent is the kubelet's to make and remove: here the test's.
const cgroupParent = `/sifkube-cri-test-${Math.random().toString(16).slice(2, 8)}`;

test.before(async () => {
  cri = await startTestCri();
  net = writeBridgeConflist(cri);
  image = await pullBusyboxImage(cri, work, (rootfs) => {
    mkdirSync(join(rootfs, 'tmp'));
    for (const app of ['head', 'tr', 'unshare', 'mkdir', 'grep']) symlinkSync('busybox', join(rootfs, 'bin', app));
  });
  sandboxId = (await cri.client.runtime.RunPodSandbox({ config: podConfig('respod', { logDirectory: logDir, linux: { cgroupParent } }) })).podSandboxId;
});

test.after(async () => {
  try {
    await removeAllPods(cri);
  } finally {
    await cri.dispose();
    deleteLink(net.bridge);
    writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
    removeCgroupParent(cgroupParent);
    rmSync(work, { recursive: true, force: true });
  }
});

let n = 0;
/** What the kubelet sends for a Burstable pod: cpu shares and period, a quota, a memory limit equal to the swap limit, a negative-ish oom_score_adj. */
function kubeletResources(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cpuPeriod: 100000, cpuQuota: 50000, cpuShares: 512, memoryLimitInBytes: 64 * MiB, memorySwapLimitInBytes: 64 * MiB, oomScoreAdj: -997, hugepageLimits: [], unified: {}, ...extra };
}

async function run(command: string[], linux: Record<string, unknown>): Promise<string> {
  n += 1;
  const config = { metadata: { name: `r${n}`, attempt: 0 }, image: { image }, command, logPath: `r${n}/0.log`, linux };
  const { containerId } = await cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config, sandboxConfig: {} });
  await cri.client.runtime.StartContainer({ containerId });
  return containerId;
}

async function waitExited(id: string): Promise<{ exitCode: number; reason: string; logPath: string }> {
  for (let i = 0; i < 300; i++) {
    const { status } = await cri.client.runtime.ContainerStatus({ containerId: id });
    if (status.state === 'CONTAINER_EXITED') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`container ${id} did not exit`);
}

function logText(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').slice(3).join(' '));
}

/** A cgroup v1 file of the container, read on the host. */
async function cgroupFile(id: string, controller: string, file: string): Promise<string> {
  const { info } = await cri.client.runtime.ContainerStatus({ containerId: id, verbose: true });
  const path = (JSON.parse(info.info) as { cgroupsPath: string }).cgroupsPath;
  return readFileSync(`/sys/fs/cgroup/${controller}${path}/${file}`, 'utf8').trim();
}

async function exec(id: string, script: string): Promise<{ out: string; code: number }> {
  const r = await cri.client.runtime.ExecSync({ containerId: id, cmd: ['sh', '-c', script], timeout: 10 });
  return { out: Buffer.from(r.stdout).toString() + Buffer.from(r.stderr).toString(), code: r.exitCode };
}

test('kubelet-like resources are applied to the container cgroup; a negative oom_score_adj is clamped, not fatal', async () => {
  const id = await run(['sleep', '1000'], { resources: kubeletResources(), securityContext: { seccomp: { profileType: 'Unconfined' } } });
  try {
    assert.is(await cgroupFile(id, 'memory', 'memory.limit_in_bytes'), String(64 * MiB));
    assert.is(await cgroupFile(id, 'cpu', 'cpu.shares'), '512');
    assert.is(await cgroupFile(id, 'cpu', 'cpu.cfs_quota_us'), '50000');
    assert.is(await cgroupFile(id, 'cpu', 'cpu.cfs_period_us'), '100000');
    const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
    assert.is(Number((await exec(id, 'cat /proc/1/oom_score_adj')).out), Math.max(-997, own));
    const positive = await run(['sleep', '1000'], { resources: kubeletResources({ oomScoreAdj: 999 }) });
    assert.is((await exec(positive, 'cat /proc/1/oom_score_adj')).out.trim(), '999');
    await cri.client.runtime.RemoveContainer({ containerId: positive });
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
});

test('a container without limits still has its own cgroup under the pod\'s parent, gone with the container', async () => {
  const id = await run(['sleep', '1000'], {});
  try {
    const procs = await cgroupFile(id, 'pids', 'cgroup.procs');
    assert.ok(procs.split('\n').length >= 1 && procs !== '', 'the container\'s processes are in its cgroup');
    const { info } = await cri.client.runtime.ContainerStatus({ containerId: id, verbose: true });
    assert.is((JSON.parse(info.info) as { cgroupsPath: string }).cgroupsPath, `${cgroupParent}/${id}`);
    const own = readFileSync(`/proc/${procs.split('\n')[0]}/cgroup`, 'utf8');
    assert.match(own, `:pids:${cgroupParent}/${id}\n`);
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
  assert.not.ok(readdirSync(`/sys/fs/cgroup/pids${cgroupParent}`).includes(id), 'removed with the container');
});

test('a container that allocates past its memory limit is OOMKilled with exit code 137', async () => {
  const id = await run(['sh', '-c', 'echo start; x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived'], { resources: kubeletResources({ memoryLimitInBytes: 16 * MiB, memorySwapLimitInBytes: 16 * MiB }) });
  try {
    const st = await waitExited(id);
    assert.is(st.exitCode, 137);
    assert.is(st.reason, 'OOMKilled');
    assert.equal(logText(st.logPath), ['start']);
    const fine = await run(['sh', '-c', 'x=$(head -c 1000000 /dev/zero | tr "\\0" a); echo ${#x}'], { resources: kubeletResources({ memoryLimitInBytes: 16 * MiB, memorySwapLimitInBytes: 16 * MiB }) });
    const ok = await waitExited(fine);
    assert.equal([ok.exitCode, ok.reason, logText(ok.logPath)], [0, 'Completed', ['1000000']]);
    await cri.client.runtime.RemoveContainer({ containerId: fine });
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
});

test('UpdateContainerResources changes the cgroup of a running container; bad requests are refused', async () => {
  const id = await run(['sleep', '1000'], { resources: kubeletResources() });
  try {
    await cri.client.runtime.UpdateContainerResources({ containerId: id, linux: kubeletResources({ cpuQuota: 20000, cpuShares: 256, memoryLimitInBytes: 128 * MiB, memorySwapLimitInBytes: 128 * MiB }) });
    assert.is(await cgroupFile(id, 'memory', 'memory.limit_in_bytes'), String(128 * MiB));
    assert.is(await cgroupFile(id, 'cpu', 'cpu.shares'), '256');
    assert.is(await cgroupFile(id, 'cpu', 'cpu.cfs_quota_us'), '20000');
    await cri.client.runtime.UpdateContainerResources({ containerId: id, linux: kubeletResources({ memoryLimitInBytes: 32 * MiB, memorySwapLimitInBytes: 32 * MiB }) });
    assert.is(await cgroupFile(id, 'memory', 'memory.limit_in_bytes'), String(32 * MiB));
    const missing = await codeOf(cri.client.runtime.UpdateContainerResources({ containerId: id }));
    assert.is(missing.code, S.INVALID_ARGUMENT);
    assert.match(missing.details, /linux is missing/);
    const unknown = await codeOf(cri.client.runtime.UpdateContainerResources({ containerId: 'nope', linux: kubeletResources() }));
    assert.is(unknown.code, S.NOT_FOUND);
    await cri.client.runtime.StopContainer({ containerId: id, timeout: 0 });
    const stopped = await codeOf(cri.client.runtime.UpdateContainerResources({ containerId: id, linux: kubeletResources() }));
    assert.is(stopped.code, S.FAILED_PRECONDITION);
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
});

const PROBE = 'grep Seccomp: /proc/self/status; unshare -U true && echo unshare-ok || echo unshare-denied; mkdir /tmp/d && echo mkdir-ok || echo mkdir-denied';

test('seccomp: RuntimeDefault denies what Docker default denies (unshare without CAP_SYS_ADMIN), Unconfined does not', async () => {
  const confined = await run(['sh', '-c', PROBE], { securityContext: { seccomp: { profileType: 'RuntimeDefault' } } });
  const legacy = await run(['sh', '-c', PROBE], { securityContext: { seccompProfilePath: 'runtime/default' } });
  const free = await run(['sh', '-c', PROBE], { securityContext: { seccomp: { profileType: 'Unconfined' } } });
  try {
    for (const id of [confined, legacy]) {
      const st = await waitExited(id);
      const lines = logText(st.logPath);
      assert.match(lines[0], /^Seccomp:\s+2$/);
      assert.ok(lines.includes('unshare-denied') && lines.includes('mkdir-ok'), lines.join('|'));
      assert.ok(lines.some((l) => /unshare: .*Operation not permitted/.test(l)), lines.join('|'));
    }
    const open = logText((await waitExited(free)).logPath);
    assert.match(open[0], /^Seccomp:\s+0$/);
    assert.ok(open.includes('unshare-ok') && open.includes('mkdir-ok'), open.join('|'));
  } finally {
    for (const id of [confined, legacy, free]) await cri.client.runtime.RemoveContainer({ containerId: id });
  }
});

test('seccomp: the configured default applies to a container that names no profile; Localhost loads a profile file', async () => {
  const strict = await startTestCri({ seccompDefault: 'runtime-default' });
  const bridge = writeBridgeConflist(strict).bridge;
  try {
    const img = (await strict.client.image.PullImage({ image: { image: `local.file${join(work, 'busybox.sif')}` } })).imageRef;
    const { podSandboxId } = await strict.client.runtime.RunPodSandbox({ config: podConfig('strictpod', { logDirectory: logDir }) });
    const { containerId } = await strict.client.runtime.CreateContainer({ podSandboxId, config: { metadata: { name: 'd', attempt: 0 }, image: { image: img }, command: ['sh', '-c', PROBE], logPath: 'strict.log' }, sandboxConfig: {} });
    await strict.client.runtime.StartContainer({ containerId });
    for (let i = 0; i < 200 && (await strict.client.runtime.ContainerStatus({ containerId })).status.state !== 'CONTAINER_EXITED'; i++) await new Promise((r) => setTimeout(r, 50));
    const lines = logText(join(logDir, 'strict.log'));
    assert.ok(lines.includes('unshare-denied'), lines.join('|'));
    await strict.client.runtime.StopPodSandbox({ podSandboxId });
    await strict.client.runtime.RemovePodSandbox({ podSandboxId });
  } finally {
    await strict.dispose();
    deleteLink(bridge);
  }
  const profile = join(work, 'no-mkdir.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }));
  const local = await run(['sh', '-c', PROBE], { securityContext: { seccomp: { profileType: 'Localhost', localhostRef: profile } } });
  try {
    const lines = logText((await waitExited(local)).logPath);
    assert.ok(lines.includes('mkdir-denied') && lines.includes('unshare-ok'), lines.join('|'));
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: local });
  }
  writeFileSync(profile, '{"syscalls": []}');
  const bad = await codeOf(cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config: { metadata: { name: 'bad', attempt: 0 }, image: { image }, linux: { securityContext: { seccomp: { profileType: 'Localhost', localhostRef: profile } } } }, sandboxConfig: {} }));
  assert.is(bad.code, S.INVALID_ARGUMENT);
  assert.match(bad.details, /has no defaultAction/);
});

test.run();
