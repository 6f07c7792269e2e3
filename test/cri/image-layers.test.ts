import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { criClient, type CriClient } from '../../src/cri/index.js';
import { mountSif, unmountSif } from '../../src/sif/index.js';
import { startContainerd } from '../helpers/containerd.js';
import { startTestCri, suffix, type TestCri } from '../helpers/cri.js';
import { busyboxRootfs, layerFrom, push, startRegistry, tagImage, type LayerBlob, type TestRegistry } from '../helpers/registry.js';

// Layers kept between pulls: a registry behind a proxy of the test's own that counts the blob GETs,
// and can hold one blob's answer (a pull in progress) or stop it halfway (a crash while fetching).
const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sk-cri-layers-'));
const layout = join(work, 'layout');
let reg: TestRegistry;
let proxy: Server;
let host = '';
let cri: TestCri;
const layers: Record<string, LayerBlob> = {};
/** Digests of the blobs GET through the proxy, in order. */
const gets: string[] = [];
/** A blob whose answer waits: `arrived` resolves when its GET comes, `release` lets it go on. */
const holds = new Map<string, { arrived: () => void; release: Promise<void> }>();
/** Blobs answered with half their bytes and then nothing (until the client goes away). */
const stalls = new Set<string>();

function hold(digest: string): { arrived: Promise<void>; release: () => void } {
  let arrived!: () => void;
  let release!: () => void;
  const a = new Promise<void>((r) => (arrived = r));
  holds.set(digest, { arrived, release: new Promise<void>((r) => (release = r)) });
  return { arrived: a, release };
}

function forward(path: string, method: string, headers: Record<string, unknown>, res: ServerResponse, digest: string | undefined): void {
  const up = request({ host: '127.0.0.1', port: Number(reg.host.split(':')[1]), path, method, headers: headers as Record<string, string> }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    if (!digest || !stalls.has(digest)) return void r.pipe(res);
    const half = Number(r.headers['content-length']) / 2;
    let sent = 0;
    r.on('data', (chunk: Buffer) => {
      if (sent < half) res.write(chunk.subarray(0, Math.max(0, half - sent)));
      sent += chunk.length;
    });
  });
  up.on('error', () => res.destroy());
  up.end();
}

const layerGets = (...names: string[]) => gets.filter((d) => names.some((n) => layers[n].digest === d)).length;

function blobs(imageDir: string): string[] {
  return readdirSync(join(imageDir, 'blobs', 'sha256')).map((h) => `sha256:${h}`).sort();
}

const digestsOf = (...names: string[]) => names.map((n) => layers[n].digest).sort();

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

async function sifOf(c: CriClient, image: string): Promise<string> {
  return JSON.parse((await c.image.ImageStatus({ image: { image }, verbose: true })).info.info).sif;
}

/** A layer adding one file, `/etc/NAME.txt`. */
function fileLayer(name: string, bytes = 64): LayerBlob {
  const dir = join(work, `layer-${name}`);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc', `${name}.txt`), `${name} ${randomBytes(bytes).toString('hex')}\n`);
  return layerFrom(layout, dir);
}

test.before(async () => {
  reg = await startRegistry();
  proxy = createServer((req, res) => {
    const digest = /\/blobs\/(sha256:[0-9a-f]{64})/.exec(req.url ?? '')?.[1];
    if (digest && req.method === 'GET') gets.push(digest);
    const held = digest && req.method === 'GET' ? holds.get(digest) : undefined;
    if (held) {
      holds.delete(digest!);
      held.arrived();
      void held.release.then(() => forward(req.url!, req.method!, req.headers, res, digest));
    } else forward(req.url!, req.method!, req.headers, res, digest);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
  busyboxRootfs(join(work, 'rootfs'));
  layers.base = layerFrom(layout, join(work, 'rootfs'));
  for (const n of ['a', 'b', 'e']) layers[n] = fileLayer(n);
  // ~8 MB that does not compress: a crash while fetching it leaves a visible half-written blob.
  layers.big = fileLayer('big', 4 << 20);
  const images: [string, string[], string[]][] = [
    ['a', ['base', 'a'], ['a']],
    ['b', ['base', 'b'], ['b']],
    // c shares every layer with b, d every layer with a: only their configs differ.
    ['c', ['base', 'b'], ['c']],
    ['d', ['base', 'a'], ['d']],
    ['e', ['base', 'e'], ['e']],
    ['big', ['big'], ['big']],
  ];
  for (const [tag, ls, cmd] of images) {
    tagImage(layout, tag, [{ architecture: 'amd64', layers: ls.map((l) => layers[l]), config: { Cmd: cmd, Env: ['PATH=/bin'] } }]);
    push(layout, tag, `${reg.host}/layers/${tag}:v1`);
  }
  cri = await startTestCri();
});

test.after(async () => {
  await cri?.dispose();
  proxy?.close();
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

const ref = (tag: string) => `${host}/layers/${tag}:v1`;

test('concurrent pulls of two images sharing a layer fetch it once; both convert; ImageFsInfo counts the blobs', async () => {
  gets.length = 0;
  const [a, b] = await Promise.all([cri.client.image.PullImage({ image: { image: ref('a') } }), cri.client.image.PullImage({ image: { image: ref('b') } })]);
  assert.is(layerGets('base'), 1, 'the shared layer: one GET');
  assert.is(layerGets('a', 'b'), 2, 'each own layer: one GET');
  assert.equal(blobs(cri.config.imageDir), digestsOf('base', 'a', 'b'));
  const sifA = await sifOf(cri.client, ref('a'));
  const sifB = await sifOf(cri.client, ref('b'));
  await withMountedSif(sifA, (root) => {
    assert.ok(existsSync(join(root, 'etc', 'a.txt')));
    assert.not.ok(existsSync(join(root, 'etc', 'b.txt')));
    assert.ok(existsSync(join(root, 'bin', 'busybox')));
  });
  await withMountedSif(sifB, (root) => assert.ok(existsSync(join(root, 'etc', 'b.txt')) && existsSync(join(root, 'bin', 'busybox'))));
  assert.is.not(a.imageRef, b.imageRef);
  const fs = (await cri.client.image.ImageFsInfo({})).imageFilesystems[0];
  const blobBytes = digestsOf('base', 'a', 'b').reduce((n, d) => n + statSync(join(cri.config.imageDir, 'blobs', 'sha256', d.slice(7))).size, 0);
  assert.is(Number(fs.usedBytes.value), statSync(sifA).size + statSync(sifB).size + blobBytes);
  assert.is(Number(fs.inodesUsed.value), 2 + 3);
});

test('a new image whose layers are all stored fetches only its config; after one image is removed the other\'s layers still serve', async () => {
  gets.length = 0;
  await cri.client.image.RemoveImage({ image: { image: ref('a') } });
  assert.equal(blobs(cri.config.imageDir), digestsOf('base', 'b'), 'the layer only a used is freed; the shared one stays');
  const c = await cri.client.image.PullImage({ image: { image: ref('c') } });
  assert.is(layerGets('base', 'a', 'b'), 0, 'no layer fetched');
  assert.is(gets.length, 1, 'the config only');
  await withMountedSif(await sifOf(cri.client, ref('c')), (root) => assert.ok(existsSync(join(root, 'etc', 'b.txt')) && existsSync(join(root, 'bin', 'busybox'))));
  assert.match(c.imageRef, /^sha256:/);
  // The layer freed with a is fetched again for d, once.
  gets.length = 0;
  await cri.client.image.PullImage({ image: { image: ref('d') } });
  assert.is(layerGets('a'), 1);
  assert.is(layerGets('base'), 0);
  await withMountedSif(await sifOf(cri.client, ref('d')), (root) => assert.ok(existsSync(join(root, 'etc', 'a.txt'))));
});

test('removing every image that names a layer frees it; the layers a pull in progress needs are kept', async () => {
  // e's own layer waits in the proxy: meanwhile the base layer has no image left but e's pull.
  const e = hold(layers.e.digest);
  const pulling = cri.client.image.PullImage({ image: { image: ref('e') } });
  try {
    await e.arrived;
    for (const t of ['b', 'c', 'd']) await cri.client.image.RemoveImage({ image: { image: ref(t) } });
    assert.equal(blobs(cri.config.imageDir), digestsOf('base'), 'kept for the pull in progress');
  } finally {
    e.release();
    await pulling;
  }
  assert.equal(blobs(cri.config.imageDir), digestsOf('base', 'e'));
  await withMountedSif(await sifOf(cri.client, ref('e')), (root) => assert.ok(existsSync(join(root, 'etc', 'e.txt')) && existsSync(join(root, 'bin', 'busybox'))));
  await cri.client.image.RemoveImage({ image: { image: ref('e') } });
  assert.equal(blobs(cri.config.imageDir), []);
  assert.equal(readdirSync(join(cri.config.imageDir, 'sif')), []);
  const fs = (await cri.client.image.ImageFsInfo({})).imageFilesystems[0];
  assert.is(Number(fs.usedBytes.value), 0);
  assert.is(Number(fs.inodesUsed.value), 0);
});

test('a server killed while fetching a layer: the restarted one discards the half-written blob and pulls', async () => {
  const dir = join(work, 'crash');
  const runDir = `/run/sifkube/test-layers-${suffix()}`;
  const socket = join(runDir, 'cri.sock');
  writeFileSync(join(work, 'crash.yaml'), `stateDir: ${dir}/state\nrunDir: ${runDir}\nimageDir: ${dir}/images\ncni:\n  confDir: ${dir}/net.d\nlogLevel: error\n`);
  let server: ChildProcess | undefined;
  let client: CriClient | undefined;
  const serve = async () => {
    server = spawn(process.execPath, [bin, 'cri', 'serve', '--socket', socket, '--config', join(work, 'crash.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 200; i++) {
      if (existsSync(socket)) {
        client = criClient(socket);
        try {
          await client.runtime.Version({});
          return;
        } catch {
          client.close();
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('cri serve did not answer');
  };
  const stop = async (signal: NodeJS.Signals) => {
    client?.close();
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill(signal);
      await exited;
    }
  };
  const parts = () => {
    const tmp = join(dir, 'images', 'tmp');
    return readdirSync(tmp).flatMap((p) => readdirSync(join(tmp, p)).filter((f) => f.endsWith('.part')).map((f) => join(tmp, p, f)));
  };
  try {
    await serve();
    stalls.add(layers.big.digest);
    void client!.image.PullImage({ image: { image: ref('big') } }).catch(() => undefined);
    let half: string[] = [];
    for (let i = 0; i < 400 && !half.some((f) => statSync(f).size > 0); i++) {
      await new Promise((r) => setTimeout(r, 25));
      half = parts();
    }
    assert.ok(half.length === 1 && statSync(half[0]).size > 0, `a half-written blob: ${half.join(' ')}`);
    await stop('SIGKILL');
    stalls.delete(layers.big.digest);
    assert.ok(existsSync(half[0]), 'left by the crash');
    await serve();
    assert.not.ok(existsSync(half[0]), 'discarded at start');
    assert.equal(blobs(join(dir, 'images')), []);
    gets.length = 0;
    await client!.image.PullImage({ image: { image: ref('big') } });
    assert.is(layerGets('big'), 1);
    assert.equal(blobs(join(dir, 'images')), digestsOf('big'));
    await client!.image.RemoveImage({ image: { image: ref('big') } });
    assert.equal(blobs(join(dir, 'images')), []);
  } finally {
    await stop('SIGTERM');
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('containerd, the oracle, fetches the same blobs for the same two pulls', async () => {
  const ctd = await startContainerd({ registry: host, pauseImage: ref('big'), cniConfDir: join(work, 'ctd-net.d') });
  try {
    const ours = await startTestCri();
    try {
      const fetched = async (c: CriClient) => {
        gets.length = 0;
        await Promise.all([c.image.PullImage({ image: { image: ref('a') } }), c.image.PullImage({ image: { image: ref('b') } })]);
        await c.image.PullImage({ image: { image: ref('c') } });
        return [...gets].sort();
      };
      assert.equal(await fetched(ours.client), await fetched(ctd.client));
    } finally {
      await ours.dispose();
    }
  } finally {
    await ctd.stop();
  }
});

test.run();
