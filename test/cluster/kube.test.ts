import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChecksumMismatchError,
  DownloadError,
  KUBE_BINARIES,
  KubeBinaryMissingError,
  binaryVersion,
  defaultClusterConfig,
  importKubernetes,
  resolveKubernetes,
  resolveEtcd,
  resolveBinaries,
} from '../../src/cluster/index.js';

// Stand-ins for release binaries: tiny programs that answer `--version` as the real ones do. The
// download path never runs them before their checksum is verified, which is what is under test.
const work = mkdtempSync(join(tmpdir(), 'sk-kube-'));
process.env.SIFKUBE_CACHE_DIR = join(work, 'cache');
const script = (v: string, tag = '') => `#!/bin/sh\n# ${tag}\necho "Kubernetes ${v}"\n`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The release server: files by path; `tamper` serves other bytes than the published checksum. */
const files = new Map<string, string>();
let requests: string[] = [];
const server: Server = createServer((req, res) => {
  requests.push(req.url ?? '');
  const body = files.get(req.url ?? '');
  if (body === undefined) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as { port: number }).port;
process.env.SIFKUBE_KUBE_RELEASE_URL = `http://127.0.0.1:${port}/release/`;

async function rejects(fn: () => Promise<unknown>, pattern: RegExp) {
  try {
    await fn();
  } catch (err) {
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`no error matching ${pattern}`);
}

function publish(version: string, tamper?: string) {
  for (const bin of KUBE_BINARIES) {
    const body = script(version, bin);
    files.set(`/release/${version}/bin/linux/amd64/${bin}`, bin === tamper ? `${body}# tampered\n` : body);
    files.set(`/release/${version}/bin/linux/amd64/${bin}.sha256`, `${sha(body)}\n`);
  }
}

test('download: every binary fetched, verified, cached executable; a second resolve uses the cache', async () => {
  publish('v1.31.4');
  const progress: number[] = [];
  const d = await resolveKubernetes({ version: 'v1.31.4', onDownload: (_b, r) => progress.push(r) });
  for (const bin of KUBE_BINARIES) {
    assert.is(d.sources[bin], 'download');
    assert.is(statSync(d.paths[bin]).mode & 0o777, 0o755);
    assert.is(binaryVersion(d.paths[bin]), 'v1.31.4');
  }
  assert.ok(progress.length >= KUBE_BINARIES.length);
  requests = [];
  const again = await resolveKubernetes({ version: 'v1.31.4' });
  assert.ok(KUBE_BINARIES.every((b) => again.sources[b] === 'cache'));
  assert.equal(requests, [], 'no request when cached');
});

test('a tampered binary is refused and nothing of it is kept', async () => {
  publish('v1.30.1', 'kubelet');
  try {
    await resolveKubernetes({ version: 'v1.30.1' });
    assert.unreachable('tampered binary accepted');
  } catch (err) {
    assert.instance(err, ChecksumMismatchError);
    assert.match((err as Error).message, /\/v1\.30\.1\/bin\/linux\/amd64\/kubelet: SHA-256 [0-9a-f]{64} does not match the published [0-9a-f]{64}; the file was deleted/);
  }
  const dir = join(process.env.SIFKUBE_CACHE_DIR!, 'kubernetes', 'v1.30.1');
  assert.not.ok(existsSync(join(dir, 'kubelet')));
  assert.not.ok(readdirSync(dir).some((f) => f.includes('kubelet')), 'no partial file');
});

test('a missing release, a bad checksum file and an unreachable server are download errors naming the URL', async () => {
  await rejects(() => resolveKubernetes({ version: 'v1.29.9' }), /v1\.29\.9\/bin\/linux\/amd64\/kube-apiserver\.sha256: download failed: HTTP 404/);
  files.set('/release/v1.29.8/bin/linux/amd64/kube-apiserver.sha256', '<html>oops</html>');
  await rejects(() => resolveKubernetes({ version: 'v1.29.8' }), /kube-apiserver\.sha256: download failed: not a SHA-256/);
  const saved = process.env.SIFKUBE_KUBE_RELEASE_URL;
  // A port that was just free and is closed again: nothing listens there.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const closed = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  process.env.SIFKUBE_KUBE_RELEASE_URL = `http://127.0.0.1:${closed}/release`;
  try {
    await resolveKubernetes({ version: 'v1.29.7' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, DownloadError);
    assert.match((err as Error).message, /127\.0\.0\.1:\d+\/release\/v1\.29\.7\/.*download failed: .*ECONNREFUSED/);
  } finally {
    process.env.SIFKUBE_KUBE_RELEASE_URL = saved;
  }
});

test('offline with nothing cached names the binary and the ways to provide it', async () => {
  try {
    await resolveKubernetes({ version: 'v1.28.2', offline: true });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, KubeBinaryMissingError);
    assert.match((err as Error).message, /kube-apiserver \(v1\.28\.2\) not found in .*v1\.28\.2: pass --kube-bin-dir DIR with it, fill the cache with `sifkube kube import DIR` or `sifkube kube fetch`/);
  }
});

function binDir(name: string, versions: Partial<Record<string, string>>, fallback: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const bin of KUBE_BINARIES) {
    if (versions[bin] === null) continue;
    writeFileSync(join(dir, bin), script(versions[bin] ?? fallback));
    chmodSync(join(dir, bin), 0o755);
  }
  return dir;
}

test('--kube-bin-dir wins over the cache, defines the version unless one is asked for, and must match an asked one', async () => {
  const dir = binDir('bins', {}, 'v1.31.4');
  const d = await resolveKubernetes({ version: 'v1.31.4', binDir: dir });
  assert.is(d.paths.kubelet, join(dir, 'kubelet'));
  assert.is(d.sources.kubelet, 'bin-dir');
  await rejects(() => resolveKubernetes({ version: 'v1.30.0', binDir: dir }), /bins holds Kubernetes v1\.31\.4, not v1\.30\.0: pass --kubernetes-version v1\.31\.4/);
  const older = binDir('older', {}, 'v1.28.7');
  assert.is((await resolveKubernetes({ binDir: older })).version, 'v1.28.7');
  // init --nodes N --kube-bin-dir DIR (no --kubernetes-version): the folder's release, not the default.
  // Not under /tmp, which nodes do not see: init refuses such a folder before anything else.
  await rejects(() => resolveBinaries(defaultClusterConfig('c', 1), older), /--kube-bin-dir: folder: .*older lies under \/tmp, which every node mounts its own of: move the binaries elsewhere/);
  const visible = mkdtempSync('/var/tmp/sk-kube-test-');
  try {
    cpSync(older, join(visible, 'older'), { recursive: true });
    const r = await resolveBinaries(defaultClusterConfig('c', 1), join(visible, 'older'));
    assert.is(r.dist.version, 'v1.28.7');
    assert.is(r.kubeBinDir, join(visible, 'older'));
    await rejects(() => resolveBinaries(defaultClusterConfig('c', 1, 'v1.31.2'), join(visible, 'older')), /holds Kubernetes v1\.28\.7, not v1\.31\.2/);
  } finally {
    rmSync(visible, { recursive: true, force: true });
  }
  // Versions are remembered by file identity: a binary replaced in place is asked again.
  const replaced = binDir('replaced', {}, 'v1.29.1');
  assert.is((await resolveKubernetes({ binDir: replaced })).version, 'v1.29.1');
  for (const bin of KUBE_BINARIES) writeFileSync(join(replaced, bin), script('v1.29.10'));
  assert.is((await resolveKubernetes({ binDir: replaced })).version, 'v1.29.10');
  const mixed = binDir('mixed-releases', { kubelet: 'v1.31.2' }, 'v1.28.7');
  await rejects(() => resolveKubernetes({ binDir: mixed }), /mixes Kubernetes releases \(.*kubelet v1\.31\.2/);
  const partial = binDir('partial', { 'kube-proxy': null as unknown as string }, 'v1.31.4');
  await rejects(() => resolveKubernetes({ version: 'v1.31.4', binDir: partial }), /kube-proxy \(v1\.31\.4\) not found in .*partial/);
});

test('kube import fills the cache after checking the versions', async () => {
  const dir = binDir('import', {}, 'v1.32.1');
  const r = await importKubernetes(dir);
  assert.is(r.version, 'v1.32.1');
  const d = await resolveKubernetes({ version: 'v1.32.1', offline: true });
  assert.ok(KUBE_BINARIES.every((b) => d.sources[b] === 'cache'));
  await rejects(() => importKubernetes(dir, 'v1.31.0'), /holds Kubernetes v1\.32\.1, not v1\.31\.0/);
  const mixed = binDir('mixed', { kubelet: 'v1.30.2' }, 'v1.32.1');
  await rejects(() => importKubernetes(mixed), /mixes Kubernetes releases .*kubelet v1\.30\.2/);
  const broken = binDir('broken', {}, 'v1.32.1');
  writeFileSync(join(broken, 'kube-scheduler'), '#!/bin/sh\necho hello\n');
  await rejects(() => importKubernetes(broken), /kube-scheduler --version printed no version/);
});

test('the real kubectl reports its version; etcd is found on PATH', () => {
  assert.match(binaryVersion('kubectl'), /^v1\.\d+\.\d+$/);
  assert.match(resolveEtcd(), /\/etcd$/);
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    assert.throws(() => resolveEtcd(join(work, 'nowhere')), /etcd \(3\.4 or newer\) not found in .*nowhere, PATH: apt-get install -y etcd-server, or put etcd in the --kube-bin-dir folder/);
  } finally {
    process.env.PATH = path;
  }
});

test.after(() => {
  server.close();
  rmSync(work, { recursive: true, force: true });
});
test.run();
