import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSif } from '../../src/sif/index.js';
import { deleteLink, podConfig, startTestCri, writeBridgeConflist, type TestCri } from '../helpers/cri.js';
import { busyboxRootfs } from '../helpers/registry.js';

const PODS = 50;
const work = mkdtempSync(join(tmpdir(), 'sk-cri-conc-'));
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
let cri: TestCri | undefined;
let bridge = '';

test.after(async () => {
  await cri?.dispose();
  if (bridge) deleteLink(bridge);
  writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
  rmSync(work, { recursive: true, force: true });
});

test(`${PODS} pods created, listed, stopped and removed concurrently through one server`, async () => {
  cri = await startTestCri();
  const c = cri.client.runtime;
  bridge = writeBridgeConflist(cri).bridge;
  const rootfs = join(work, 'rootfs');
  busyboxRootfs(rootfs);
  const sif = join(work, 'busybox.sif');
  buildSif({ rootfs, out: sif, deterministic: true, imageConfig: { cmd: ['sleep', '3600'], env: ['PATH=/bin'] } });
  const image = (await cri.client.image.PullImage({ image: { image: `local.file${sif}` } })).imageRef;
  const logDir = join(work, 'logs');

  const pods = await Promise.all(
    Array.from({ length: PODS }, async (_, i) => {
      const { podSandboxId } = await c.RunPodSandbox({ config: podConfig(`conc${i}`, { logDirectory: join(logDir, String(i)) }) });
      const { containerId } = await c.CreateContainer({ podSandboxId, config: { metadata: { name: 'sleep', attempt: 0 }, image: { image }, logPath: 'sleep/0.log' }, sandboxConfig: {} });
      await c.StartContainer({ containerId });
      return { podSandboxId, containerId };
    }),
  );

  const sandboxes = (await c.ListPodSandbox({})).items;
  assert.is(sandboxes.length, PODS);
  assert.ok(sandboxes.every((s: { state: string }) => s.state === 'SANDBOX_READY'));
  const ips = await Promise.all(pods.map(async (p) => (await c.PodSandboxStatus({ podSandboxId: p.podSandboxId })).status.network.ip as string));
  assert.is(new Set(ips).size, PODS, `every pod has its own address: ${ips.join(' ')}`);
  assert.ok(ips.every((ip) => /^10\.\d+\.\d+\.\d+$/.test(ip)));
  const containers = (await c.ListContainers({})).containers;
  assert.is(containers.length, PODS);
  assert.ok(containers.every((x: { state: string }) => x.state === 'CONTAINER_RUNNING'), 'every container runs');

  await Promise.all(
    pods.map(async (p) => {
      await c.StopPodSandbox({ podSandboxId: p.podSandboxId });
      await c.RemovePodSandbox({ podSandboxId: p.podSandboxId });
    }),
  );
  assert.is((await c.ListPodSandbox({})).items.length, 0);
  assert.is((await c.ListContainers({})).containers.length, 0);
  for (const kind of ['sandboxes', 'containers']) assert.equal(readdirSync(join(cri.config.stateDir, kind)), [], `no ${kind} records are left`);
  assert.equal(readdirSync(join(cri.config.stateDir, 'pods')), []);
});

test.run();
