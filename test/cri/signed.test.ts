// requireSigned: a CRI server with a keyring creates containers only from SIFs its keys signed. The
// refusal is a FailedPrecondition naming the image, the failed check and how to sign (the kubelet
// shows it in the pod's events); the verdict is cached per image, yet a local SIF rewritten in place
// is checked again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status as S } from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCriConfig } from '../../src/cri/index.js';
import { buildSif, newKey, primaryPartition, readSif, signSif } from '../../src/sif/index.js';
import { codeOf, deleteLink, removeAllPods, removeCgroupParent, podConfig, startTestCri, writeBridgeConflist, type TestCri } from '../helpers/cri.js';
import { busyboxRootfs, layerFrom, push, startRegistry, tagImage } from '../helpers/registry.js';
import { BIN } from '../helpers/sif.js';

let cri: TestCri;
let net: { bridge: string; subnet: string; gateway: string };
let sandboxId = '';
const work = mkdtempSync(join(tmpdir(), 'sk-cri-signed-'));
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
const cgroupParent = `/sifkube-cri-test-${Math.random().toString(16).slice(2, 8)}`;
const sif = (name: string) => join(work, `${name}.sif`);
let key = '';

test.before(async () => {
  const k = await newKey({ type: 'ed25519', dir: join(work, 'keys') });
  key = k.privateFile;
  cri = await startTestCri({ requireSigned: join(work, 'keys') });
  net = writeBridgeConflist(cri);
  busyboxRootfs(join(work, 'rootfs'));
  buildSif({ rootfs: join(work, 'rootfs'), out: sif('unsigned'), deterministic: true, imageConfig: { cmd: ['sleep', '1000'], env: ['PATH=/bin'] } });
  copyFileSync(sif('unsigned'), sif('signed'));
  await signSif(sif('signed'), { keys: [key] });
  copyFileSync(sif('signed'), sif('tampered'));
  const part = primaryPartition(readSif(sif('tampered')))!;
  const buf = readFileSync(sif('tampered'));
  buf[part.offset + part.size - 10] ^= 1;
  writeFileSync(sif('tampered'), buf);
  sandboxId = (await cri.client.runtime.RunPodSandbox({ config: podConfig('signedpod', { linux: { cgroupParent } }) })).podSandboxId;
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
async function create(name: string, pull = true): Promise<string> {
  const image = `local.file${sif(name)}`;
  if (pull) await cri.client.image.PullImage({ image: { image } });
  n += 1;
  const { containerId } = await cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config: { metadata: { name: `c${n}`, attempt: 0 }, image: { image } }, sandboxConfig: {} });
  return containerId;
}

test('a signed SIF runs; twice, the second creation reusing the verdict', async () => {
  const id = await create('signed');
  await cri.client.runtime.StartContainer({ containerId: id });
  assert.is((await cri.client.runtime.ContainerStatus({ containerId: id })).status.state, 'CONTAINER_RUNNING');
  assert.ok(await create('signed'));
});

test('an unsigned SIF is refused: FailedPrecondition naming the image, the check and the fix', async () => {
  const e = await codeOf(create('unsigned'));
  assert.is(e.code, S.FAILED_PRECONDITION);
  assert.is(
    e.details,
    `image local.file${sif('unsigned')}: refused by the signed-images policy (requireSigned): not signed by a key of the keyring: the image has no signature: sign it with \`sifkube sif sign ${sif('unsigned')} --key KEY\` using a private key whose public key is in the keyring, then use the signed file`,
  );
  assert.equal((await cri.client.runtime.ListContainers({})).containers.filter((c: { image: { image: string } }) => c.image.image.includes('unsigned')), [], 'nothing was left behind');
});

test('a SIF changed after signing is refused, naming the object that changed', async () => {
  const e = await codeOf(create('tampered'));
  assert.is(e.code, S.FAILED_PRECONDITION);
  const part = primaryPartition(readSif(sif('tampered')))!;
  assert.match(e.details, `not signed by a key of the keyring: signature ${readSif(sif('tampered')).descriptors.length} (dsse): object ${part.id} data integrity compromised (digest mismatch): sign it with`);
});

test('a signed local SIF replaced in place by an unsigned one is checked again and refused (no new pull)', async () => {
  copyFileSync(sif('unsigned'), `${sif('signed')}.new`);
  renameSync(`${sif('signed')}.new`, sif('signed'));
  const e = await codeOf(create('signed', false));
  assert.is(e.code, S.FAILED_PRECONDITION);
  assert.match(e.details, 'the image has no signature');
});

test('an image pulled from a registry (converted to an unsigned SIF) is refused, saying so', async () => {
  const reg = await startRegistry();
  try {
    const layout = join(work, 'layout');
    mkdirSync(layout);
    tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [layerFrom(layout, join(work, 'rootfs'))], config: { Cmd: ['sleep', '1000'] } }]);
    push(layout, 'v1', `${reg.host}/test/busybox:v1`);
    const image = `${reg.host}/test/busybox:v1`;
    await cri.client.image.PullImage({ image: { image } });
    const e = await codeOf(cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config: { metadata: { name: 'pulled', attempt: 0 }, image: { image } }, sandboxConfig: {} }));
    assert.is(e.code, S.FAILED_PRECONDITION);
    assert.match(e.details, `image ${image} (${image.replace(/:v1$/, '')}@sha256:`);
    assert.match(e.details, `): refused by the signed-images policy (requireSigned): not signed by a key of the keyring: the image has no signature: sign the SIF with \`sifkube sif sign FILE --key KEY\` using a private key whose public key is in the keyring, then \`sifkube image load\` the signed file`);
    assert.match(e.details, '(an image pulled from a registry is converted to an unsigned SIF: sign a SIF of it and `sifkube image load` that)');
  } finally {
    await reg.stop();
  }
});

test('requireSigned in the CRI config: an absolute path; cri serve refuses a corrupt keyring at start (exit 52)', () => {
  assert.throws(() => parseCriConfig({ requireSigned: 'keys' }, 'cri.yaml'), /cri\.yaml: requireSigned must be an absolute path, not keys/);
  const conf = join(work, 'cri.yaml');
  const ring = join(work, 'ring.pub');
  writeFileSync(ring, 'not a key\n');
  writeFileSync(conf, `stateDir: ${join(work, 'state')}\nrunDir: ${join(work, 'run')}\nimageDir: ${join(work, 'images')}\nrequireSigned: ${ring}\n`);
  const r = spawnSync(process.execPath, [BIN, 'cri', 'serve', '--socket', join(work, 'serve.sock'), '--config', conf], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 52, r.stderr);
  assert.is(r.stderr.trim(), `sifkube: ${ring}: unusable key: no armored OpenPGP key or PEM block in it: pass an armored OpenPGP public key or a PEM public key`);
});

test.run();
