import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CriClient } from '../../src/cri/index.js';
import { deleteLink, podConfig, startTestCri, suffix, writeBridgeConflist, type TestCri } from '../helpers/cri.js';
import { startContainerd, type TestContainerd } from '../helpers/containerd.js';
import { busyboxRootfs, layerFrom, push, startRegistry, tagImage, type TestRegistry } from '../helpers/registry.js';

// The same containers on sifkube and on containerd: what the kubelet reads back must agree.
let cri: TestCri;
let ctd: TestContainerd;
let reg: TestRegistry;
let image = '';
let ourBridge = '';
const theirBridge = `skcc${suffix()}`;
const work = mkdtempSync(join(tmpdir(), 'sk-cri-ctdctr-'));
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

test.before(async () => {
  reg = await startRegistry();
  const layout = join(work, 'layout');
  busyboxRootfs(join(work, 'rootfs'));
  tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [layerFrom(layout, join(work, 'rootfs'))], config: { Entrypoint: ['sleep', '100000'], Env: ['PATH=/bin'] } }]);
  image = `${reg.host}/peer/busybox:v1`;
  push(layout, 'v1', image);
  cri = await startTestCri();
  ourBridge = writeBridgeConflist(cri).bridge;
  const ctdNet = join(work, 'net.d');
  mkdirSync(ctdNet);
  writeFileSync(join(ctdNet, '10-peer.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'peer', plugins: [{ type: 'bridge', bridge: theirBridge, isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.233.7.0/24' }]], dataDir: join(work, 'ipam') } }] }));
  ctd = await startContainerd({ registry: reg.host, pauseImage: image, cniConfDir: ctdNet });
  await cri.client.image.PullImage({ image: { image } });
  await ctd.client.image.PullImage({ image: { image } });
});

test.after(async () => {
  try {
    for (const c of [cri?.client, ctd?.client].filter(Boolean) as CriClient[]) {
      for (const s of (await c.runtime.ListPodSandbox({})).items) {
        await c.runtime.StopPodSandbox({ podSandboxId: s.id });
        await c.runtime.RemovePodSandbox({ podSandboxId: s.id });
      }
    }
  } finally {
    await ctd?.stop();
    await cri?.dispose();
    await reg?.stop();
    deleteLink(ourBridge);
    deleteLink(theirBridge);
    writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
    rmSync(work, { recursive: true, force: true });
  }
});

const UNCONFINED = { securityContext: { seccomp: { profileType: 'Unconfined' }, namespaceOptions: { pid: 'CONTAINER' } } };

async function runOn(c: CriClient, name: string, command: string[], linux: Record<string, unknown> = UNCONFINED): Promise<{ sandbox: string; id: string; logs: string }> {
  const logs = join(work, `logs-${name}-${suffix()}`);
  const config = podConfig(name, { logDirectory: logs });
  const { podSandboxId: sandbox } = await c.runtime.RunPodSandbox({ config });
  const { containerId: id } = await c.runtime.CreateContainer({
    podSandboxId: sandbox,
    config: { metadata: { name: 'main', attempt: 0 }, image: { image }, command, logPath: 'main/0.log', linux },
    sandboxConfig: config,
  });
  await c.runtime.StartContainer({ containerId: id });
  return { sandbox, id, logs };
}

async function exited(c: CriClient, id: string) {
  // 30 s: an OOM kill on a loaded 2-core machine can take several seconds to reach the limit.
  for (let i = 0; i < 600; i++) {
    const { status } = await c.runtime.ContainerStatus({ containerId: id });
    if (status.state === 'CONTAINER_EXITED') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id} did not exit`);
}

/** The log without its timestamps: stream, tag and text of each record. */
function records(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').slice(1).join(' '));
}

async function both(command: string[], linux?: Record<string, unknown>) {
  const out = [];
  for (const [c, name] of [[cri.client, 'ours'], [ctd.client, 'theirs']] as const) {
    const r = await runOn(c, name, command, linux);
    const st = await exited(c, r.id);
    await new Promise((res) => setTimeout(res, 200));
    out.push({ st, log: records(join(r.logs, 'main/0.log')) });
    await c.runtime.RemovePodSandbox({ podSandboxId: r.sandbox });
  }
  return out;
}

test('log records (streams, F/P tags, a last line without newline, CRLF) and exit status match containerd', async () => {
  const long = 'x'.repeat(20000);
  const [ours, theirs] = await both(['sh', '-c', `echo one; echo two >&2; printf 'crlf\\r\\n'; echo ${long}; printf tail; exit 3`]);
  // stdout and stderr interleave by timing; each stream's records must be the same
  for (const stream of ['stdout', 'stderr']) assert.equal(ours.log.filter((l) => l.startsWith(stream)), theirs.log.filter((l) => l.startsWith(stream)), stream);
  assert.ok(ours.log.some((l) => l.startsWith('stdout P x')), 'a long line is split into partial records');
  assert.is(ours.st.exitCode, theirs.st.exitCode);
  assert.is(ours.st.reason, theirs.st.reason);
  assert.is(ours.st.exitCode, 3);
});

test('a clean exit reports the same reason as containerd', async () => {
  const [ours, theirs] = await both(['true']);
  assert.is(ours.st.reason, theirs.st.reason);
  assert.is(ours.st.exitCode, theirs.st.exitCode);
});

test('StopContainer on a process that ignores SIGTERM: both wait the timeout, kill, report 137', async () => {
  const results = [];
  for (const c of [cri.client, ctd.client]) {
    const r = await runOn(c, 'stubborn', ['sleep', '1000']);
    const t0 = Date.now();
    await c.runtime.StopContainer({ containerId: r.id, timeout: 1 });
    const waited = Date.now() - t0;
    const st = await exited(c, r.id);
    results.push({ waited, code: st.exitCode, reason: st.reason });
    await c.runtime.RemovePodSandbox({ podSandboxId: r.sandbox });
  }
  assert.is(results[0].code, results[1].code);
  assert.is(results[0].reason, results[1].reason);
  assert.ok(results[0].waited >= 900 && results[1].waited >= 900);
});

test('a container past its memory limit: OOMKilled and 137 on both, with the kubelet\'s resources', async () => {
  const MiB = 1024 * 1024;
  const resources = { cpuPeriod: 100000, cpuQuota: 50000, cpuShares: 512, memoryLimitInBytes: 16 * MiB, memorySwapLimitInBytes: 16 * MiB, oomScoreAdj: 900 };
  const [ours, theirs] = await both(['sh', '-c', 'echo start; x=$(busybox head -c 200000000 /dev/zero | busybox tr "\\0" a); echo survived'], { ...UNCONFINED, resources });
  assert.equal([ours.st.exitCode, ours.st.reason, ours.log], [theirs.st.exitCode, theirs.st.reason, theirs.log]);
  assert.equal([ours.st.exitCode, ours.st.reason], [137, 'OOMKilled']);
});

test('seccomp RuntimeDefault: the same syscalls denied as containerd (unshare without CAP_SYS_ADMIN), Unconfined allows them', async () => {
  const probe = ['sh', '-c', 'busybox grep Seccomp: /proc/self/status; busybox unshare -U true 2>/dev/null && echo unshare-ok || echo unshare-denied'];
  const confined = { securityContext: { seccomp: { profileType: 'RuntimeDefault' }, namespaceOptions: { pid: 'CONTAINER' } } };
  const [ours, theirs] = await both(probe, confined);
  assert.equal(ours.log, theirs.log);
  assert.equal(ours.log, ['stdout F Seccomp:\t2', 'stdout F unshare-denied']);
  const [oursOpen, theirsOpen] = await both(probe);
  assert.equal(oursOpen.log, theirsOpen.log);
  assert.equal(oursOpen.log, ['stdout F Seccomp:\t0', 'stdout F unshare-ok']);
});

test('unknown IDs: the same gRPC codes as containerd for status, stop and remove', async () => {
  const missing = 'f'.repeat(64);
  const code = async (p: Promise<unknown>) => p.then(() => 0, (e: { code: number }) => e.code);
  for (const call of [
    (c: CriClient) => c.runtime.PodSandboxStatus({ podSandboxId: missing }),
    (c: CriClient) => c.runtime.StopPodSandbox({ podSandboxId: missing }),
    (c: CriClient) => c.runtime.RemovePodSandbox({ podSandboxId: missing }),
    (c: CriClient) => c.runtime.ContainerStatus({ containerId: missing }),
    (c: CriClient) => c.runtime.StopContainer({ containerId: missing, timeout: 0 }),
    (c: CriClient) => c.runtime.RemoveContainer({ containerId: missing }),
  ]) {
    assert.is(await code(call(cri.client)), await code(call(ctd.client)), call.toString());
  }
});

test.run();
