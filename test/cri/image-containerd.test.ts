import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCri, type TestCri } from '../helpers/cri.js';
import { startContainerd, type TestContainerd } from '../helpers/containerd.js';
import { busyboxRootfs, layerFrom, push, startRegistry, tagImage, type TestRegistry } from '../helpers/registry.js';

// The same pulls against sifkube and containerd: the names, IDs and users each reports must agree.
let cri: TestCri;
let ctd: TestContainerd;
let reg: TestRegistry;
const work = mkdtempSync(join(tmpdir(), 'sk-cri-ctdimg-'));

test.before(async () => {
  reg = await startRegistry();
  const layout = join(work, 'layout');
  busyboxRootfs(join(work, 'rootfs'));
  const base = layerFrom(layout, join(work, 'rootfs'));
  tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [base], config: { User: 'app', Cmd: ['sh'] } }]);
  tagImage(layout, 'multi', [
    { architecture: 'arm64', layers: [base], config: { User: '1000', Cmd: ['arm'] } },
    { architecture: 'amd64', layers: [base], config: { User: '1000', Cmd: ['amd'] } },
  ]);
  push(layout, 'v1', `${reg.host}/peer/busybox:v1`);
  push(layout, 'v1', `${reg.host}/peer/docker:v1`, { docker: true });
  push(layout, 'multi', `${reg.host}/peer/multi:latest`);
  cri = await startTestCri();
  ctd = await startContainerd({ registry: reg.host, pauseImage: `${reg.host}/peer/busybox:v1`, cniConfDir: join(work, 'net.d') });
});

test.after(async () => {
  await ctd?.stop();
  await cri?.dispose();
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

for (const name of ['peer/busybox:v1', 'peer/docker:v1', 'peer/multi']) {
  test(`PullImage and ImageStatus of ${name} agree with containerd`, async () => {
    const image = `${reg.host}/${name}`;
    const ours = await cri.client.image.PullImage({ image: { image } });
    const theirs = await ctd.client.image.PullImage({ image: { image } });
    assert.is(ours.imageRef, theirs.imageRef, 'image_ref (the config digest)');
    const a = (await cri.client.image.ImageStatus({ image: { image } })).image;
    const b = (await ctd.client.image.ImageStatus({ image: { image } })).image;
    assert.is(a.id, b.id);
    assert.equal(a.repoTags, b.repoTags);
    assert.equal(a.repoDigests, b.repoDigests);
    assert.equal(a.uid, b.uid);
    assert.is(a.username, b.username);
    // by digest and by ID too
    for (const n of [a.repoDigests[0], a.id]) {
      assert.is((await cri.client.image.ImageStatus({ image: { image: n } })).image?.id, (await ctd.client.image.ImageStatus({ image: { image: n } })).image?.id, n);
    }
  });
}

test('RemoveImage by tag, then ImageStatus: both have no image, and both accept a second remove', async () => {
  const image = `${reg.host}/peer/docker:v1`;
  for (const c of [cri.client, ctd.client]) {
    await c.image.RemoveImage({ image: { image } });
    await c.image.RemoveImage({ image: { image } });
    assert.is((await c.image.ImageStatus({ image: { image } })).image, null);
  }
});

test.run();
