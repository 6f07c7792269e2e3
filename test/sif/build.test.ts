// buildSif / `sif create`: a container SIF laid out like a Singularity build, whose partition the
// peer tools (unsquashfs) read back as the same tree plus /.singularity.d, reproducible on request.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSif, DataType, formatList, hostArch, PartType, primaryPartition, readImageConfig, readObject, readSif } from '../../src/sif/index.js';
import { cli, fixture, makeRootfs, scratch } from '../helpers/sif.js';

const config = { entrypoint: ['/bin/sh', '-c'], cmd: ['echo hi from $GREETING'], env: ['PATH=/bin', 'GREETING=oci'], user: '0', workingDir: '/' };

function extract(file: string, dir: string): string {
  const p = primaryPartition(readSif(file))!;
  const out = join(dir, `x-${p.offset}-${Math.random().toString(36).slice(2)}`);
  execFileSync('unsquashfs', ['-q', '-n', '-o', String(p.offset), '-d', out, file]);
  return out;
}

test('layout: launch script, group 1 Def.FILE, labels, env, JSON, primary squashfs last and 4096-aligned', () => {
  const s = scratch();
  try {
    const out = join(s.dir, 'c.sif');
    buildSif({ rootfs: makeRootfs(s.dir), out, labels: { maintainer: 'me' }, env: { FOO: "it's" }, imageConfig: config });
    const image = readSif(out);
    assert.is(image.header.launchScript, '#!/usr/bin/env run-singularity\n');
    assert.equal(image.descriptors.map((d) => [d.dataType, d.group, d.name]), [
      [DataType.DefFile, 1, ''], [DataType.Labels, 1, ''], [DataType.EnvVars, 1, ''], [DataType.GenericJSON, 1, 'oci-config.json'], [DataType.Partition, 1, ''],
    ]);
    const part = image.descriptors[4];
    assert.equal(part.partition, { fsType: 1, partType: PartType.PrimSys, arch: '02' });
    assert.is(hostArch(), 'amd64');
    assert.is(part.offset % 4096, 0);
    assert.is(image.header.arch, '02');
    assert.is(readFileSync(out).subarray(part.offset, part.offset + 4).toString(), 'hsqs');
    assert.equal(JSON.parse(readObject(image, 2).toString()), { maintainer: 'me' });
    assert.match(readObject(image, 3).toString(), /export FOO='it'\\''s'/);
    assert.match(readObject(image, 1).toString(), /^Bootstrap: scratch\n/);
    assert.equal(readImageConfig(out), config);
    assert.is(readImageConfig(fixture('one-group.sif')), undefined);
  } finally {
    s.done();
  }
});

test('the partition holds the tree plus a Singularity-style /.singularity.d that runs', () => {
  const s = scratch();
  try {
    const rootfs = makeRootfs(s.dir);
    const out = join(s.dir, 'c.sif');
    buildSif({ rootfs, out, labels: { a: 'b' }, env: { EXTRA: 'x y' }, imageConfig: config });
    const x = extract(out, s.dir);
    const diff = spawnSync('diff', ['-r', '--no-dereference', rootfs, x, '-x', '.singularity.d', '-x', 'singularity', '-x', 'environment'], { encoding: 'utf8' });
    assert.is(diff.status, 0, diff.stdout);
    assert.equal(JSON.parse(readFileSync(join(x, '.singularity.d/labels.json'), 'utf8')), { a: 'b' });
    assert.ok(existsSync(join(x, '.singularity.d/Singularity')));
    const run = spawnSync('chroot', [x, '/bin/sh', '-c', '. /.singularity.d/env/90-environment.sh && exec /.singularity.d/runscript'], { encoding: 'utf8' });
    assert.is(run.stdout, 'hi from oci\n', run.stderr);
    const withArgs = spawnSync('chroot', [x, '/singularity', 'echo args replace cmd'], { encoding: 'utf8' });
    assert.is(withArgs.stdout, 'args replace cmd\n', withArgs.stderr);
    assert.match(execFileSync('unsquashfs', ['-s', '-o', String(primaryPartition(readSif(out))!.offset), out], { encoding: 'utf8' }), /Compression lz4/);
  } finally {
    s.done();
  }
});

test('deterministic: same tree, same bytes (even with new mtimes); otherwise a fresh ID each time', () => {
  const s = scratch();
  try {
    const rootfs = makeRootfs(s.dir);
    const a = join(s.dir, 'a.sif');
    const b = join(s.dir, 'b.sif');
    buildSif({ rootfs, out: a, deterministic: true, labels: { x: 'y' } });
    utimesSync(join(rootfs, 'etc', 'motd'), new Date(), new Date('2001-01-01'));
    buildSif({ rootfs, out: b, deterministic: true, labels: { x: 'y' } });
    assert.ok(readFileSync(a).equals(readFileSync(b)), 'identical bytes');
    assert.is(readSif(a).header.id, '00000000-0000-0000-0000-000000000000');
    const time = new Date('2024-05-06T07:08:09Z');
    const id = '6ecc76b7-a497-4f7f-9ebd-8da2a04c6be1';
    buildSif({ rootfs, out: a, time, id });
    buildSif({ rootfs, out: b, time, id });
    assert.ok(readFileSync(a).equals(readFileSync(b)), 'identical bytes with a fixed time and ID');
    const h = readSif(a).header;
    assert.equal([h.id, h.createdAt, primaryPartition(readSif(a))!.createdAt], [id, time.getTime() / 1000, time.getTime() / 1000]);
    assert.match(execFileSync('unsquashfs', ['-lln', '-o', String(primaryPartition(readSif(a))!.offset), a, 'etc/motd'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }), /2024-05-06 07:08 squashfs-root\/etc\/motd/);
    buildSif({ rootfs, out: a });
    buildSif({ rootfs, out: b });
    assert.is.not(readSif(a).header.id, readSif(b).header.id);
  } finally {
    s.done();
  }
});

test('an image\'s own /.singularity.d files win unless a value is given; compression is an option', () => {
  const s = scratch();
  try {
    const rootfs = makeRootfs(s.dir);
    mkdirSync(join(rootfs, '.singularity.d'));
    writeFileSync(join(rootfs, '.singularity.d', 'runscript'), '#!/bin/sh\necho own\n', { mode: 0o755 });
    const a = join(s.dir, 'a.sif');
    buildSif({ rootfs, out: a, compression: 'gzip' });
    let x = extract(a, s.dir);
    assert.is(readFileSync(join(x, '.singularity.d/runscript'), 'utf8'), '#!/bin/sh\necho own\n');
    assert.match(execFileSync('unsquashfs', ['-s', '-o', String(primaryPartition(readSif(a))!.offset), a], { encoding: 'utf8' }), /Compression gzip/);
    buildSif({ rootfs, out: a, runscript: 'echo given' });
    x = extract(a, s.dir);
    assert.is(readFileSync(join(x, '.singularity.d/runscript'), 'utf8'), '#!/bin/sh\necho given\n');
  } finally {
    s.done();
  }
});

test('a failed build leaves an existing image as it was, and names the missing tool', () => {
  const s = scratch();
  const path = process.env.PATH;
  try {
    const rootfs = makeRootfs(s.dir);
    const out = join(s.dir, 'keep.sif');
    buildSif({ rootfs, out });
    const before = readFileSync(out);
    process.env.PATH = '/nonexistent';
    assert.throws(() => buildSif({ rootfs, out }), /mksquashfs is not installed: apt-get install -y squashfs-tools/);
    process.env.PATH = path;
    assert.ok(readFileSync(out).equals(before));
    assert.equal(readdirSync(s.dir).sort(), ['keep.sif', 'rootfs']);
  } finally {
    process.env.PATH = path;
    s.done();
  }
});

test('CLI create, and its errors: missing rootfs (nothing written), bad KEY=VALUE, bad compression', () => {
  const s = scratch();
  try {
    const rootfs = makeRootfs(s.dir);
    const out = join(s.dir, 'c.sif');
    const cfg = join(s.dir, 'config.json');
    writeFileSync(cfg, JSON.stringify(config));
    const r = cli('sif', 'create', out, '--rootfs', rootfs, '--label', 'k=v', '--env', 'A=1', '--image-config', cfg, '--deterministic');
    assert.is(r.status, 0, r.stderr);
    assert.match(formatList(readSif(out)), /JSON.Generic\n5 .*FS \(Squashfs\/\*System\/amd64\)\n$/);
    const missing = cli('sif', 'create', join(s.dir, 'd.sif'), '--rootfs', join(s.dir, 'nope'));
    assert.is(missing.status, 53);
    assert.match(missing.stderr, /nope: root filesystem is not a directory/);
    assert.not.ok(existsSync(join(s.dir, 'd.sif')));
    assert.is(cli('sif', 'create', join(s.dir, 'd.sif'), '--rootfs', rootfs, '--env', 'novalue').status, 2);
    assert.is(cli('sif', 'create', join(s.dir, 'd.sif'), '--rootfs', rootfs, '--compression', 'brotli').status, 2);
    assert.is(cli('sif', 'create', join(s.dir, 'd.sif'), '--rootfs', rootfs, '--arch', 'vax').status, 55);
    assert.not.ok(existsSync(join(s.dir, 'd.sif')));
  } finally {
    s.done();
  }
});

test.run();
