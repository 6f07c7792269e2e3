import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxBundle, oci, runc, uniqueId, type Bundle } from '../helpers/bundle.js';
import { buildSif } from '../../src/sif/index.js';
import { FAKE_GPUS, fakeNvidiaTree, LIB_DIR } from '../helpers/fake-nvidia.js';

const sifkube = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const cli = (args: string[]) => spawnSync(process.execPath, [sifkube, ...args], { encoding: 'utf8' });

/** A SIF of a busybox root filesystem, with a runscript, environment and labels; in a work folder. */
function busyboxSif(): { work: Bundle; sif: string } {
  const work = busyboxBundle();
  const sif = join(work.dir, 'busybox.sif');
  buildSif({
    rootfs: join(work.dir, 'rootfs'),
    out: sif,
    runscript: 'echo "runscript says $GREETING from $(pwd)"; touch /written && echo wrote; cat /proc/self/uid_map | tr -s " "',
    env: { GREETING: "it's me" },
    labels: { 'org.example.name': 'busybox-test' },
  });
  return { work, sif };
}

test('oci mount makes a bundle from a SIF: runscript, env, labels; the image stays read-only; runc runs it too', () => {
  const { work, sif } = busyboxSif();
  const bundle = join(work.dir, 'bundle');
  try {
    const m = cli(['oci', 'mount', sif, bundle]);
    assert.is(m.status, 0, m.stderr);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    assert.equal(config.process.args, ['/.singularity.d/runscript']);
    assert.ok(config.process.env.includes("GREETING=it's me"));
    assert.is(config.annotations['org.example.name'], 'busybox-test');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.match(mounts, new RegExp(`${bundle}/rootfs .* - overlay `));
    assert.match(mounts, new RegExp(`${bundle}/.sifkube-oci/image .* - (squashfs|fuse.squashfuse) `));
    const b: Bundle = { ...work, dir: bundle };
    const ours = oci(b, ['run', '--bundle', bundle, uniqueId('sif')]);
    assert.is(ours.status, 0, ours.stderr);
    assert.is(ours.stdout, "runscript says it's me from /\nwrote\n 0 0 4294967295\n");
    // The write went to the tmpfs upper layer, not into the image.
    assert.ok(existsSync(join(bundle, '.sifkube-oci', 'upper', 'written')));
    const theirs = runc(b, ['run', '--bundle', bundle, uniqueId('sif')]);
    assert.is(theirs.stdout, ours.stdout);
    const u = cli(['oci', 'umount', bundle]);
    assert.is(u.status, 0, u.stderr);
    assert.not.ok(existsSync(bundle), 'the bundle folder is gone');
    assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), bundle);
  } finally {
    if (existsSync(join(bundle, '.sifkube-oci'))) cli(['oci', 'umount', bundle]);
    work.remove();
  }
});

test('oci mount refuses a missing image and a non-empty bundle; oci umount refuses a plain folder', () => {
  const { work, sif } = busyboxSif();
  try {
    const missing = cli(['oci', 'mount', join(work.dir, 'nope.sif'), join(work.dir, 'b1')]);
    assert.is(missing.status, 19);
    assert.match(missing.stderr, /nope.sif: no such SIF image: check the path/);
    assert.not.ok(existsSync(join(work.dir, 'b1')));
    const full = join(work.dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep'), 'x');
    const r = cli(['oci', 'mount', sif, full]);
    assert.is(r.status, 19);
    assert.match(r.stderr, /the bundle folder is not empty: pick a new or empty folder/);
    assert.ok(existsSync(join(full, 'keep')), 'nothing lost');
    const notBundle = cli(['oci', 'umount', full]);
    assert.is(notBundle.status, 19);
    assert.match(notBundle.stderr, /is not a bundle made by `sifkube oci mount`/);
    const notSif = cli(['oci', 'mount', join(full, 'keep'), join(work.dir, 'b2')]);
    assert.not.equal(notSif.status, 0);
    assert.not.ok(existsSync(join(work.dir, 'b2')), 'a failed mount leaves no bundle');
  } finally {
    work.remove();
  }
});

test('oci mount --gpus writes the GPU injection into config.json (runc runs it as ours does); a GPU the host lacks fails with nothing made', () => {
  const { work, sif } = busyboxSif();
  const tree = fakeNvidiaTree(work.dir);
  const bundle = join(work.dir, 'gpu-bundle');
  try {
    const bad = cli(['oci', 'mount', sif, bundle, '--gpus', '7', '--gpu-root', tree.root]);
    assert.is(bad.status, 20, bad.stderr);
    assert.match(bad.stderr, /GPU "7": no such GPU on this host/);
    assert.not.ok(existsSync(bundle));
    const m = cli(['oci', 'mount', sif, bundle, '--gpus', '1', '--gpu-root', tree.root]);
    assert.is(m.status, 0, m.stderr);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    assert.equal(config.linux.devices.map((d: { path: string }) => d.path), ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia1']);
    assert.ok(config.process.env.includes(`NVIDIA_VISIBLE_DEVICES=${FAKE_GPUS[1].uuid}`));
    const driver = config.mounts.filter((x: { source: string }) => x.source.startsWith(tree.root));
    assert.equal(driver.map((x: { destination: string }) => x.destination).sort(), ['/usr/bin/nvidia-smi', `${LIB_DIR}/libcuda.so.1`, `${LIB_DIR}/libnvidia-ml.so.1`, `${LIB_DIR}/libnvidia-ptxjitcompiler.so.1`]);
    assert.ok(driver.every((x: { options: string[] }) => x.options.includes('ro')));
    const b: Bundle = { ...work, dir: bundle };
    const ours = oci(b, ['run', '--bundle', bundle, uniqueId('gpu')]);
    assert.is(ours.status, 0, ours.stderr);
    const theirs = runc(b, ['run', '--bundle', bundle, uniqueId('gpu')]);
    assert.is(theirs.status, 0, theirs.stderr);
    assert.is(theirs.stdout, ours.stdout);
  } finally {
    if (existsSync(join(bundle, '.sifkube-oci'))) cli(['oci', 'umount', bundle]);
    tree.remove();
    work.remove();
  }
});

test.run();
