import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSif } from '../../src/sif/index.js';
import { podConfig, startTestCri, type TestCri } from '../helpers/cri.js';
import { busyboxRootfs } from '../helpers/registry.js';

// The kubelet lists containers every second while it creates others (after a node's restart, many
// at once). A list that came while a container's init had been cloned but its monitor's pid was not
// yet recorded took the new init for a leftover of an exited container and killed it: CreateContainer
// failed with "start the init: Broken pipe" and the kubelet backed off.
const CREATES = 30;
const work = mkdtempSync(join(tmpdir(), 'sk-cri-race-'));
let cri: TestCri | undefined;

test.after(async () => {
  await cri?.dispose();
  rmSync(work, { recursive: true, force: true });
});

test(`${CREATES} containers created while ListContainers and ContainerStatus are asked without a pause: each one is created and runs`, async () => {
  cri = await startTestCri();
  const c = cri.client.runtime;
  const rootfs = join(work, 'rootfs');
  busyboxRootfs(rootfs);
  const sif = join(work, 'busybox.sif');
  buildSif({ rootfs, out: sif, deterministic: true, imageConfig: { cmd: ['sleep', '3600'], env: ['PATH=/bin'] } });
  const image = (await cri.client.image.PullImage({ image: { image: `local.file${sif}` } })).imageRef;
  const { podSandboxId } = await c.RunPodSandbox({ config: podConfig('race', { logDirectory: join(work, 'logs'), linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } }) });
  let creating = true;
  const listing = (async () => {
    let lists = 0;
    while (creating) {
      const { containers } = await c.ListContainers({});
      await Promise.all(containers.map((x: { id: string }) => c.ContainerStatus({ containerId: x.id }).catch(() => undefined)));
      lists++;
    }
    return lists;
  })();
  const failures: string[] = [];
  try {
    for (let i = 0; i < CREATES; i++) {
      try {
        const { containerId } = await c.CreateContainer({ podSandboxId, config: { metadata: { name: `c${i}`, attempt: 0 }, image: { image }, logPath: `c${i}.log` }, sandboxConfig: {} });
        await c.StartContainer({ containerId });
        const { status } = await c.ContainerStatus({ containerId });
        if (status.state !== 'CONTAINER_RUNNING') failures.push(`c${i}: ${status.state} (exit ${status.exitCode})`);
      } catch (err) {
        failures.push(`c${i}: ${(err as Error).message}`);
      }
    }
  } finally {
    creating = false;
  }
  const lists = await listing;
  await c.StopPodSandbox({ podSandboxId });
  await c.RemovePodSandbox({ podSandboxId });
  assert.ok(lists > CREATES, `the lists ran alongside (${lists})`);
  assert.equal(failures, []);
});

test.run();
