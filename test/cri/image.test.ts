import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status as S } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSif, mountSif, unmountSif } from '../../src/sif/index.js';
import { codeOf, startTestCri, type TestCri } from '../helpers/cri.js';
import { busyboxRootfs, layerFrom, push, startRegistry, tagImage, type TestRegistry } from '../helpers/registry.js';

let cri: TestCri;
let reg: TestRegistry;
let priv: TestRegistry;
let proxy: Server;
let proxyHost = '';
const blobGets: string[] = [];
/** Every request through the mirror proxy, as METHOD URL. */
const requests: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'sk-cri-image-'));
const layout = join(work, 'layout');

function sha(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** The digest the registry serves for a tag (what RepoDigests must name). */
async function registryDigest(host: string, repo: string, tag: string, creds?: string): Promise<string> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json', ...(creds ? { authorization: `Basic ${Buffer.from(creds).toString('base64')}` } : {}) },
  });
  return sha(Buffer.from(await res.arrayBuffer()));
}

test.before(async () => {
  [reg, priv] = await Promise.all([startRegistry(), startRegistry({ user: 'alice', password: 's3cret' })]);
  // A counting proxy in front of the registry, used as a mirror: it shows what was fetched.
  proxy = createServer((req, res) => {
    if (/\/blobs\//.test(req.url ?? '')) blobGets.push(req.url!);
    requests.push(`${req.method} ${req.url}`);
    const up = request({ host: '127.0.0.1', port: Number(reg.host.split(':')[1]), path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyHost = `127.0.0.1:${(proxy.address() as { port: number }).port}`;

  const l1 = join(work, 'l1');
  busyboxRootfs(l1);
  writeFileSync(join(l1, 'etc', 'removed.txt'), 'gone in layer 2\n');
  mkdirSync(join(l1, 'opaque'));
  writeFileSync(join(l1, 'opaque', 'old.txt'), 'hidden by the opaque whiteout\n');
  writeFileSync(join(l1, 'bin', 'suid'), '#!/bin/sh\n');
  chownSync(join(l1, 'bin', 'suid'), 1000, 1000);
  chmodSync(join(l1, 'bin', 'suid'), 0o4755);
  linkSync(join(l1, 'etc', 'passwd'), join(l1, 'etc', 'passwd.hardlink'));
  const l2 = join(work, 'l2');
  mkdirSync(join(l2, 'etc'), { recursive: true });
  mkdirSync(join(l2, 'opaque'));
  writeFileSync(join(l2, 'etc', '.wh.removed.txt'), '');
  writeFileSync(join(l2, 'opaque', '.wh..wh..opq'), '');
  writeFileSync(join(l2, 'opaque', 'new.txt'), 'layer 2\n');
  writeFileSync(join(l2, 'etc', 'added.txt'), 'layer 2\n');
  const base = layerFrom(layout, l1, 'gzip');
  const top = layerFrom(layout, l2, 'zstd');
  const cfg = { User: 'app', Cmd: ['sh'], Env: ['PATH=/bin'], WorkingDir: '/' };
  tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [base, top], config: cfg }]);
  tagImage(layout, 'gz', [{ architecture: 'amd64', layers: [base], config: { User: '1000:1000', Cmd: ['sh'] } }]);
  tagImage(layout, 'multi', [
    { architecture: 'arm64', layers: [base], config: { Cmd: ['arm'] } },
    { architecture: 'amd64', layers: [base], config: { Cmd: ['amd'] } },
  ]);
  push(layout, 'v1', `${reg.host}/test/busybox:v1`);
  push(layout, 'gz', `${reg.host}/test/docker:gz`, { docker: true });
  push(layout, 'multi', `${reg.host}/test/multi:latest`);
  push(layout, 'v1', `${priv.host}/private/busybox:v1`, { creds: 'alice:s3cret' });
  cri = await startTestCri({ registry: { mirrors: { 'mirror.invalid': [`http://${proxyHost}`] } } });
});

test.after(async () => {
  await cri?.dispose();
  proxy?.close();
  await Promise.all([reg?.stop(), priv?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

async function withMountedSif<T>(sif: string, fn: (dir: string) => T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-cri-mnt-'));
  mountSif(sif, dir);
  try {
    return fn(dir);
  } finally {
    unmountSif(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('PullImage: OCI manifest, gzip and zstd layers, whiteouts applied, converted to one SIF', async () => {
  const name = `${reg.host}/test/busybox:v1`;
  const { imageRef } = await cri.client.image.PullImage({ image: { image: name } });
  assert.match(imageRef, /^sha256:[0-9a-f]{64}$/);
  const st = await cri.client.image.ImageStatus({ image: { image: name }, verbose: true });
  assert.is(st.image.id, imageRef);
  assert.equal(st.image.repoTags, [name]);
  assert.equal(st.image.repoDigests, [`${reg.host}/test/busybox@${await registryDigest(reg.host, 'test/busybox', 'v1')}`]);
  assert.is(st.image.username, 'app');
  assert.is(st.image.uid, null);
  const info = JSON.parse(st.info.info);
  assert.equal(info.imageSpec.config.Cmd, ['sh']);
  assert.is(Number(st.image.size), statSync(info.sif).size);
  await withMountedSif(info.sif, (root) => {
    assert.ok(existsSync(join(root, 'etc', 'added.txt')), 'layer 2 file');
    assert.not.ok(existsSync(join(root, 'etc', 'removed.txt')), 'whiteout removed the lower file');
    assert.not.ok(existsSync(join(root, 'etc', '.wh.removed.txt')), 'no whiteout file in the image');
    assert.equal(readdirSync(join(root, 'opaque')), ['new.txt'], 'opaque whiteout hid the lower directory contents');
    assert.is(readlinkSync(join(root, 'bin', 'sh')), 'busybox');
    const suid = lstatSync(join(root, 'bin', 'suid'));
    assert.is(suid.mode & 0o7777, 0o4755);
    assert.is(suid.uid, 1000);
    assert.is(lstatSync(join(root, 'etc', 'passwd')).ino, lstatSync(join(root, 'etc', 'passwd.hardlink')).ino, 'hard link kept');
    assert.match(readFileSync(join(root, 'etc', 'passwd'), 'utf8'), /^app:x:1000/m);
  });
  // every name the CRI uses finds the same image
  for (const n of [imageRef, imageRef.slice(7), imageRef.slice(7, 19), st.image.repoDigests[0]]) {
    assert.is((await cri.client.image.ImageStatus({ image: { image: n } })).image?.id, imageRef, n);
  }
  const fs = await cri.client.image.ImageFsInfo({});
  assert.ok(Number(fs.imageFilesystems[0].usedBytes.value) >= Number(st.image.size));
});

test('PullImage: a Docker schema 2 manifest, numeric USER reported as uid', async () => {
  const name = `${reg.host}/test/docker:gz`;
  const { imageRef } = await cri.client.image.PullImage({ image: { image: name } });
  const st = await cri.client.image.ImageStatus({ image: { image: name } });
  assert.is(st.image.id, imageRef);
  assert.equal(st.image.uid, { value: '1000' });
  assert.is(st.image.username, '');
  assert.equal(st.image.repoDigests, [`${reg.host}/test/docker@${await registryDigest(reg.host, 'test/docker', 'gz')}`]);
});

test('PullImage: from a multi-platform index the linux/amd64 image is taken, RepoDigests names the index', async () => {
  const name = `${reg.host}/test/multi`;
  const { imageRef } = await cri.client.image.PullImage({ image: { image: name } });
  const st = await cri.client.image.ImageStatus({ image: { image: `${name}:latest` }, verbose: true });
  assert.is(st.image.id, imageRef);
  const spec = JSON.parse(st.info.info).imageSpec;
  assert.is(spec.architecture, 'amd64');
  assert.equal(spec.config.Cmd, ['amd']);
  assert.equal(st.image.repoTags, [`${name}:latest`]);
  assert.equal(st.image.repoDigests, [`${name}@${await registryDigest(reg.host, 'test/multi', 'latest')}`]);
});

test('concurrent pulls of one image through a mirror fetch and convert it once; same digest gives the same SIF', async () => {
  const name = 'mirror.invalid/test/busybox:v1';
  blobGets.length = 0;
  const refs = await Promise.all(Array.from({ length: 5 }, () => cri.client.image.PullImage({ image: { image: name } })));
  assert.is(new Set(refs.map((r) => r.imageRef)).size, 1);
  const st = await cri.client.image.ImageStatus({ image: { image: name }, verbose: true });
  // this image was pulled before under its registry name: nothing needs fetching but the config
  assert.ok(blobGets.length <= 1, `blob fetches: ${blobGets.length}`);
  assert.equal(st.image.repoTags, [`${reg.host}/test/busybox:v1`, name]);
  const sif = JSON.parse(st.info.info).sif;
  const before = sha(readFileSync(sif));
  await cri.client.image.RemoveImage({ image: { image: name } });
  assert.not.ok(existsSync(sif));
  blobGets.length = 0;
  const again = await Promise.all(Array.from({ length: 4 }, () => cri.client.image.PullImage({ image: { image: name } })));
  assert.is(new Set(again.map((r) => r.imageRef)).size, 1);
  const layerGets = blobGets.filter((u) => !u.includes(refs[0].imageRef.slice(7)));
  // The base layer stayed in the store (test/docker and test/multi use it): only the top one is fetched again, once.
  assert.is(layerGets.length, 1, `the top layer fetched once: ${layerGets.join(' ')}`);
  assert.is(sha(readFileSync(sif)), before, 'reproducible SIF');
  // Each server pulls in a folder of its own under tmp/: nothing is left in it but its beacon socket.
  const tmp = join(cri.config.imageDir, 'tmp');
  assert.equal(readdirSync(tmp).flatMap((d) => readdirSync(join(tmp, d))), ['live']);
});

test('a re-pull of a stored image is a lookup: one HEAD by tag, no request by digest, nothing converted or rewritten', async () => {
  const name = 'mirror.invalid/test/multi:latest';
  const { imageRef } = await cri.client.image.PullImage({ image: { image: name } });
  const st = await cri.client.image.ImageStatus({ image: { image: name }, verbose: true });
  const sif = JSON.parse(st.info.info).sif;
  const index = join(cri.config.imageDir, 'index.json');
  const stamps = () => [statSync(sif).mtimeMs, statSync(index).mtimeMs];
  const before = stamps();
  requests.length = 0;
  assert.is((await cri.client.image.PullImage({ image: { image: name } })).imageRef, imageRef);
  assert.equal(requests, ['HEAD /v2/test/multi/manifests/latest']);
  requests.length = 0;
  const byDigest = st.image.repoDigests.find((d: string) => d.startsWith('mirror.invalid/'));
  assert.is((await cri.client.image.PullImage({ image: { image: byDigest } })).imageRef, imageRef);
  assert.equal(requests, []);
  assert.equal(stamps(), before);
});

test('PullImage from an htpasswd registry: refused without or with wrong credentials, works with them', async () => {
  const name = `${priv.host}/private/busybox:v1`;
  let e = await codeOf(cri.client.image.PullImage({ image: { image: name } }));
  assert.is(e.code, S.UNKNOWN);
  assert.match(e.details, new RegExp(`registry ${priv.host} needs a user name and password`));
  e = await codeOf(cri.client.image.PullImage({ image: { image: name }, auth: { username: 'alice', password: 'wrong' } }));
  assert.match(e.details, /refused access to private\/busybox \(HTTP 401\)/);
  const ok = await cri.client.image.PullImage({ image: { image: name }, auth: { username: 'alice', password: 's3cret' } });
  assert.match(ok.imageRef, /^sha256:/);
  await cri.client.image.RemoveImage({ image: { image: name } });
  const viaAuth = await cri.client.image.PullImage({ image: { image: name }, auth: { auth: Buffer.from('alice:s3cret').toString('base64') } });
  assert.is(viaAuth.imageRef, ok.imageRef);
});

test('credentials from the server configuration are used when the request has none', async () => {
  const own = await startTestCri({ registry: { auths: { [priv.host]: { username: 'alice', password: 's3cret' } } } });
  try {
    const r = await own.client.image.PullImage({ image: { image: `${priv.host}/private/busybox:v1` } });
    assert.match(r.imageRef, /^sha256:/);
  } finally {
    await own.dispose();
  }
});

test('ListImages lists every image and filters by name; images survive a restart', async () => {
  const all = (await cri.client.image.ListImages({})).images;
  assert.ok(all.length >= 3);
  const one = (await cri.client.image.ListImages({ filter: { image: { image: `${reg.host}/test/docker:gz` } } })).images;
  assert.is(one.length, 1);
  await cri.restart();
  const after = (await cri.client.image.ListImages({})).images;
  assert.equal(after, all);
});

test('RemoveImage by tag removes the image with all its names; again is fine; ImageStatus then has no image', async () => {
  const name = `${reg.host}/test/docker:gz`;
  await cri.client.image.RemoveImage({ image: { image: name } });
  await cri.client.image.RemoveImage({ image: { image: name } });
  const st = await cri.client.image.ImageStatus({ image: { image: name } });
  assert.is(st.image, null);
});

test('local.file/ references run a SIF where it lies, and RemoveImage leaves the file', async () => {
  const rootfs = join(work, 'local-rootfs');
  busyboxRootfs(rootfs);
  const sif = join(work, 'local.sif');
  buildSif({ rootfs, out: sif, deterministic: true, imageConfig: { cmd: ['sh'] } });
  const name = `local.file${sif}`;
  const { imageRef } = await cri.client.image.PullImage({ image: { image: name } });
  assert.is(imageRef, sha(readFileSync(sif)));
  const st = await cri.client.image.ImageStatus({ image: { image: name } });
  assert.is(st.image.id, imageRef);
  assert.equal(st.image.repoTags, [`${name}:latest`]);
  // The kubelet adds :latest to every untagged name: the same image, under the same name.
  assert.is((await cri.client.image.PullImage({ image: { image: `${name}:latest` } })).imageRef, imageRef);
  assert.is((await cri.client.image.ImageStatus({ image: { image: `${name}:latest` } })).image.id, imageRef);
  assert.equal((await cri.client.image.ImageStatus({ image: { image: name } })).image.repoTags, [`${name}:latest`]);
  await cri.client.image.RemoveImage({ image: { image: imageRef } });
  assert.ok(existsSync(sif));
  assert.is((await cri.client.image.ImageStatus({ image: { image: name } })).image, null);
});

test('bad image requests: one clear error each, nothing stored', async () => {
  const before = (await cri.client.image.ListImages({})).images.length;
  const cases: [Record<string, unknown>, number, RegExp][] = [
    [{}, S.INVALID_ARGUMENT, /^image is missing/],
    [{ image: { image: '' } }, S.INVALID_ARGUMENT, /image\.image is empty/],
    [{ image: { image: 'Upper/Case:v1' } }, S.INVALID_ARGUMENT, /image\.image Upper\/Case:v1 is not a valid image reference/],
    [{ image: { image: 'busybox@sha256:123' } }, S.INVALID_ARGUMENT, /the digest sha256:123 must be/],
    [{ image: { image: `${reg.host}/test/busybox:nope` } }, S.NOT_FOUND, /has no nope at/],
    [{ image: { image: '127.0.0.1:1/x/y:z' } }, S.UNKNOWN, /cannot reach the registry at http:\/\/127\.0\.0\.1:1/],
    [{ image: { image: 'local.file/nonexistent/x.sif' } }, S.NOT_FOUND, /\/nonexistent\/x\.sif does not exist/],
    [{ image: { image: `local.file${join(work, 'layout', 'index.json')}` } }, S.INVALID_ARGUMENT, /write local\.file\/ABSOLUTE\/PATH\.sif/],
  ];
  writeFileSync(join(work, 'not.sif'), 'not a sif');
  cases.push([{ image: { image: `local.file${join(work, 'not.sif')}` } }, S.INVALID_ARGUMENT, /is not a SIF image/]);
  for (const [req, code, msg] of cases) {
    const e = await codeOf(cri.client.image.PullImage(req));
    assert.is(e.code, code, JSON.stringify(req));
    assert.match(e.details, msg);
  }
  const st = await codeOf(cri.client.image.ImageStatus({ image: { image: 'Bad Name' } }));
  assert.is(st.code, S.INVALID_ARGUMENT);
  assert.is((await cri.client.image.ListImages({})).images.length, before);
});

test.run();
