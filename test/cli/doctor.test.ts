import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KUBERNETES_VERSION, KUBE_BINARIES } from '../../src/cluster/index.js';
import { DRIVER_VERSION, FAKE_GPUS, fakeNvidiaTree } from '../helpers/fake-nvidia.js';
import { freePort } from '../helpers/registry.js';
import { run } from '../helpers/run.js';

const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sk-doctor-'));
// A cache holding the default release, so the host checks pass whatever the machine's own cache holds.
const fullCache = join(work, 'full');
mkdirSync(join(fullCache, 'kubernetes', DEFAULT_KUBERNETES_VERSION), { recursive: true });
for (const b of KUBE_BINARIES) writeFileSync(join(fullCache, 'kubernetes', DEFAULT_KUBERNETES_VERSION, b), '', { mode: 0o755 });
const withCache = { ...process.env, SIFKUBE_CACHE_DIR: fullCache };
const kubeRow = `Kubernetes ${DEFAULT_KUBERNETES_VERSION} binaries`;

interface Report {
  ok: boolean;
  checks: { name: string; status: string; detail: string; fix?: string }[];
}

function doctor(env: NodeJS.ProcessEnv = withCache) {
  const r = spawnSync(process.execPath, [bin, 'doctor', '--json'], { encoding: 'utf8', env });
  return { status: r.status, report: JSON.parse(r.stdout) as Report };
}

test('doctor reports every requirement on this host and passes', () => {
  const { status, report } = doctor();
  const names = report.checks.map((c) => c.name);
  for (const n of ['root', 'net namespace', 'overlay filesystem', 'squashfs filesystem', 'bridge and veth links', 'cgroups', 'mksquashfs', 'CNI plugin bridge']) {
    assert.ok(names.includes(n), `row ${n}`);
  }
  const missing = report.checks.filter((c) => c.status === 'missing');
  assert.equal(missing, [], 'the test host has everything');
  // Optional (only `sifkube build`'s debootstrap agent needs it), but install-system-deps.sh installs it.
  assert.equal(report.checks.find((c) => c.name === 'debootstrap'), { name: 'debootstrap', status: 'ok', detail: '/usr/sbin/debootstrap' });
  assert.equal(status, 0);
  assert.ok(report.ok);
});

test('doctor names a missing program with its package and exits 1', () => {
  // Without PATH only the sbin folders are searched: mksquashfs (in /usr/bin) is then missing.
  const { status, report } = doctor({ ...withCache, PATH: '/nonexistent' });
  const row = report.checks.find((c) => c.name === 'mksquashfs');
  assert.is(row?.status, 'missing');
  assert.match(row?.fix ?? '', /apt-get install -y squashfs-tools/);
  assert.is(status, 1);
  assert.is(report.ok, false);
});

test('doctor text output has one row per check', () => {
  const r = spawnSync(process.execPath, [bin, 'doctor'], { encoding: 'utf8', env: withCache });
  assert.is(r.status, 0);
  assert.match(r.stdout, new RegExp(`^ok {3}${kubeRow} +in the cache`, 'm'));
  assert.match(r.stdout, /^ok {3}root/m);
  assert.match(r.stdout, /everything sifkube init needs is here/);
});

test('doctor: no Kubernetes binaries cached and no download reachable is a miss naming every way to provide them', async () => {
  const port = await freePort(); // nothing listens there
  const r = await run(process.execPath, [bin, 'doctor', '--json'], { env: { ...process.env, SIFKUBE_CACHE_DIR: join(work, 'empty'), SIFKUBE_KUBE_RELEASE_URL: `http://127.0.0.1:${port}` } });
  const row = (JSON.parse(r.stdout) as Report).checks.find((c) => c.name === kubeRow);
  assert.is(row?.status, 'missing');
  assert.match(row?.fix ?? '', /sifkube kube import DIR/);
  assert.match(row?.fix ?? '', /--kube-bin-dir DIR/);
  assert.is(r.status, 1);
});

test('doctor: binaries not cached but the release download answers is fine (init downloads them)', async () => {
  const heads: string[] = [];
  const server = createServer((req, res) => {
    heads.push(`${req.method} ${req.url}`);
    res.writeHead(200).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const r = await run(process.execPath, [bin, 'doctor', '--json'], { env: { ...process.env, SIFKUBE_CACHE_DIR: join(work, 'empty'), SIFKUBE_KUBE_RELEASE_URL: url } });
    const row = (JSON.parse(r.stdout) as Report).checks.find((c) => c.name === kubeRow);
    assert.is(row?.status, 'ok', JSON.stringify(row));
    assert.match(row?.detail ?? '', /init downloads them/);
    assert.equal(heads, [`HEAD /${DEFAULT_KUBERNETES_VERSION}/bin/linux/amd64/kubelet.sha256`]);
  } finally {
    server.close();
  }
});

test('doctor GPU rows: "none" on a root without a GPU (optional, not a failure); the devices, driver version, GPUs and files of a driver tree', () => {
  const empty = join(work, 'no-gpu');
  mkdirSync(empty);
  const gpuRows = (root: string) => {
    const r = spawnSync(process.execPath, [bin, 'doctor', '--json', '--gpu-root', root], { encoding: 'utf8', env: withCache });
    const report = JSON.parse(r.stdout) as Report;
    return { status: r.status, rows: Object.fromEntries(report.checks.filter((c) => /NVIDIA|GPUs/.test(c.name)).map((c) => [c.name, c])) };
  };
  const none = gpuRows(empty);
  assert.is(none.status, 0, 'no GPU is not a failure');
  assert.equal(Object.keys(none.rows), ['NVIDIA devices', 'NVIDIA driver version', 'GPUs', 'NVIDIA driver files']);
  for (const row of Object.values(none.rows)) {
    assert.is(row.status, 'optional');
    assert.is(row.detail, 'none');
    assert.match(row.fix ?? '', /only GPU passthrough .* needs it/);
  }
  const tree = fakeNvidiaTree(work);
  try {
    const { status, rows } = gpuRows(tree.root);
    assert.is(status, 0);
    assert.is(rows['NVIDIA devices'].detail, ['/dev/nvidia0', '/dev/nvidia1', '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools'].map((p) => `${p} (under ${tree.root})`).join(', '));
    assert.is(rows['NVIDIA driver version'].detail, DRIVER_VERSION);
    assert.is(rows.GPUs.detail, FAKE_GPUS.map((g) => `${g.index} ${g.model} ${g.uuid} ${g.pci}`).join(', '));
    assert.match(rows['NVIDIA driver files'].detail, /^4 \(.*libcuda\.so\.1.*nvidia-smi\)$/);
  } finally {
    tree.remove();
  }
  const text = spawnSync(process.execPath, [bin, 'doctor', '--gpu-root', empty], { encoding: 'utf8', env: withCache });
  assert.match(text.stdout, /^opt {2}NVIDIA devices +none — fix: only GPU passthrough/m);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
