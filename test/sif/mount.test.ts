// mountSif/unmountSif and `sif mount|umount`: the partition is mounted read-only in place (loop
// device at the partition's offset, or squashfuse), shows the same tree as the peer unsquashfs, and
// leaves no loop device, mount or daemon behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSif, mountEntry, mountSif, SifMountError, unmountSif } from '../../src/sif/index.js';
import { cli, fixture, makeRootfs, scratch } from '../helpers/sif.js';

/** Loop devices whose backing file is `file`, with their offsets. */
function loopsOf(file: string): { dev: string; offset: number; ro: boolean; autoclear: boolean }[] {
  return readdirSync('/sys/block')
    .filter((d) => d.startsWith('loop') && existsSync(`/sys/block/${d}/loop/backing_file`))
    .filter((d) => readFileSync(`/sys/block/${d}/loop/backing_file`, 'utf8').trim() === file)
    .map((d) => ({
      dev: d,
      offset: Number(readFileSync(`/sys/block/${d}/loop/offset`, 'utf8')),
      ro: readFileSync(`/sys/block/${d}/ro`, 'utf8').trim() === '1',
      autoclear: readFileSync(`/sys/block/${d}/loop/autoclear`, 'utf8').trim() === '1',
    }));
}

const err = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof SifMountError && re.test((e as Error).message));

function image(s: ReturnType<typeof scratch>): { file: string; rootfs: string } {
  const rootfs = makeRootfs(s.dir);
  const file = join(s.dir, 'img.sif');
  buildSif({ rootfs, out: file, labels: { m: 'n' } });
  return { file, rootfs };
}

for (const method of ['loop', 'squashfuse'] as const) {
  test(`${method}: read-only mount in place shows the tree; umount leaves nothing`, () => {
    const s = scratch();
    const dir = join(s.dir, 'mnt');
    try {
      const { file, rootfs } = image(s);
      const r = mountSif(file, dir, { method });
      try {
        assert.is(r.method, method);
        assert.is(mountEntry(dir)?.fstype, method === 'loop' ? 'squashfs' : 'fuse.squashfuse');
        const diff = spawnSync('diff', ['-r', '--no-dereference', rootfs, dir, '-x', '.singularity.d', '-x', 'singularity', '-x', 'environment'], { encoding: 'utf8' });
        assert.is(diff.status, 0, diff.stdout + diff.stderr);
        assert.equal(JSON.parse(readFileSync(join(dir, '.singularity.d/labels.json'), 'utf8')), { m: 'n' });
        assert.throws(() => writeFileSync(join(dir, 'etc', 'new'), 'x'), /EROFS|read-only/);
        if (method === 'loop') {
          const loops = loopsOf(file);
          assert.is(loops.length, 1);
          assert.equal([loops[0].offset, loops[0].ro, loops[0].autoclear], [r.offset, true, true]);
        }
      } finally {
        unmountSif(dir);
      }
      assert.is(mountEntry(dir), undefined);
      assert.equal(loopsOf(file), []);
      assert.equal(readdirSync(dir), []);
    } finally {
      s.done();
    }
  });
}

test('a mount point reached through a link (a --persistent cluster\'s state) is found, refused a second mount, and unmounted', () => {
  const s = scratch();
  const real = join(s.dir, 'real');
  const link = join(s.dir, 'link');
  try {
    mkdirSync(real);
    symlinkSync(real, link);
    const { file } = image(s);
    mountSif(file, join(link, 'mnt'));
    try {
      assert.is(mountEntry(join(link, 'mnt'))?.fstype, 'squashfs');
      err(() => mountSif(file, join(link, 'mnt')), /something is already mounted here/);
    } finally {
      unmountSif(join(link, 'mnt'));
    }
    assert.is(mountEntry(join(real, 'mnt')), undefined);
  } finally {
    s.done();
  }
});

test('errors: no primary partition, not squashfs, busy or non-empty mount point, nothing mounted', () => {
  const s = scratch();
  try {
    const dir = join(s.dir, 'mnt');
    mkdirSync(dir);
    err(() => mountSif(fixture('empty.sif'), dir), /no primary partition to mount/);
    err(() => mountSif(fixture('two-groups.sif'), dir, { partitionId: 3 }), /not supported yet: mounting ext3/);
    err(() => unmountSif(dir), /nothing is mounted here/);
    err(() => unmountSif(join(s.dir, 'absent')), /no such directory/);
    err(() => unmountSif('/proc'), /the mount here is proc, not a SIF mount/);
    writeFileSync(join(s.dir, 'mnt', 'f'), 'x');
    const { file } = image(s);
    err(() => mountSif(file, dir), /not empty/);
    const dir2 = join(s.dir, 'mnt2');
    mountSif(file, dir2);
    try {
      err(() => mountSif(file, dir2), /already mounted/);
    } finally {
      unmountSif(dir2);
    }
  } finally {
    s.done();
  }
});

test('CLI mount / umount', () => {
  const s = scratch();
  try {
    const { file } = image(s);
    const dir = join(s.dir, 'cli-mnt');
    const m = cli('sif', 'mount', file, dir, '--method', 'loop');
    try {
      assert.is(m.status, 0, m.stderr);
      assert.match(m.stdout, /^mounted .* on .*cli-mnt with loop\n$/);
      assert.is(readFileSync(join(dir, 'etc', 'motd'), 'utf8'), 'hello from sifkube\n');
    } finally {
      const u = cli('sif', 'umount', dir);
      assert.is(u.status, 0, u.stderr);
    }
    assert.equal(loopsOf(file), []);
    const bad = cli('sif', 'umount', dir);
    assert.is(bad.status, 54);
    assert.match(bad.stderr, /nothing is mounted here/);
  } finally {
    s.done();
  }
});

test.run();
