import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status as S } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeOf, startTestCri, type TestCri } from '../helpers/cri.js';
import { busyboxRootfs, layerFrom, pushAsync, tagImage } from '../helpers/registry.js';
import { startTokenRegistry, type TokenRegistry } from '../helpers/token-registry.js';

let cri: TestCri;
let tr: TokenRegistry;
const work = mkdtempSync(join(tmpdir(), 'sk-cri-token-'));

test.before(async () => {
  tr = await startTokenRegistry('bob', 'hunter2');
  const layout = join(work, 'layout');
  busyboxRootfs(join(work, 'rootfs'));
  tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [layerFrom(layout, join(work, 'rootfs'))], config: { Cmd: ['sh'] } }]);
  await pushAsync(layout, 'v1', `${tr.registry.host}/team/busybox:v1`, 'bob:hunter2');
  cri = await startTestCri();
});

test.after(async () => {
  await cri?.dispose();
  await tr?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('Bearer-token registry: the token is fetched from the realm with the credentials and the pull scope', async () => {
  const image = `${tr.registry.host}/team/busybox:v1`;
  const denied = await codeOf(cri.client.image.PullImage({ image: { image }, auth: { username: 'bob', password: 'wrong' } }));
  assert.is(denied.code, S.UNKNOWN);
  assert.match(denied.details, /token service .* refused the credentials \(HTTP 401\)/);
  tr.requests.length = 0;
  const r = await cri.client.image.PullImage({ image: { image }, auth: { username: 'bob', password: 'hunter2' } });
  assert.match(r.imageRef, /^sha256:[0-9a-f]{64}$/);
  assert.ok(tr.requests.length >= 1);
  const q = new URLSearchParams(tr.requests[0]);
  assert.is(q.get('service'), 'sifkube-test-registry');
  assert.is(q.get('scope'), 'repository:team/busybox:pull');
  const st = await cri.client.image.ImageStatus({ image: { image } });
  assert.is(st.image.id, r.imageRef);
});

test('an anonymous pull from a token registry gets a clear refusal', async () => {
  await cri.client.image.RemoveImage({ image: { image: `${tr.registry.host}/team/busybox:v1` } });
  const e = await codeOf(cri.client.image.PullImage({ image: { image: `${tr.registry.host}/team/busybox:v1` } }));
  assert.is(e.code, S.UNKNOWN);
  assert.match(e.details, /refused/);
});

test.run();
