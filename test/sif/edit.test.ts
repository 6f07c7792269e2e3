// new / add / del / setprim, with the reference library's rules (LAYOUT.md): IDs are slot + 1 and
// reused after a delete, data is appended aligned, the header's counts, arch and times follow.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addObject, createSif, DataType, deleteObject, FsType, PartType, readObject, readSif, setPrimary,
  SifObjectNotFoundError, SifWriteError, ZERO_TIME,
} from '../../src/sif/index.js';
import { cli, scratch } from '../helpers/sif.js';

const squash = (partType: PartType, arch = '02') => ({ fsType: FsType.Squashfs, partType, arch });

test('new: defaults like siftool new (48 slots at 4096, empty launch script), deterministic = zero times, nil ID', () => {
  const s = scratch();
  try {
    const f = join(s.dir, 'a.sif');
    createSif(f, { deterministic: true });
    const h = readSif(f).header;
    assert.equal([h.launchScript, h.descriptorsTotal, h.descriptorsFree, h.descriptorsOffset, h.descriptorsSize, h.dataOffset, h.dataSize], ['', 48, 48, 4096, 28080, 32176, 0]);
    assert.is(h.createdAt, ZERO_TIME);
    assert.is(h.id, '00000000-0000-0000-0000-000000000000');
    assert.is(statSync(f).size, 32176);
    const g = join(s.dir, 'b.sif');
    createSif(g, { launchScript: '#!/usr/bin/env run-singularity\n', id: '6ecc76b7-a497-4f7f-9ebd-8da2a04c6be1', time: new Date('2024-01-02T03:04:05Z') });
    const hg = readSif(g).header;
    assert.is(hg.id, '6ecc76b7-a497-4f7f-9ebd-8da2a04c6be1');
    assert.is(hg.createdAt, Date.parse('2024-01-02T03:04:05Z') / 1000);
    assert.is(hg.launchScript, '#!/usr/bin/env run-singularity\n');
  } finally {
    s.done();
  }
});

test('add: packed non-partition objects, 4096-aligned partitions, primary sets the header arch', () => {
  const s = scratch();
  try {
    const f = join(s.dir, 'a.sif');
    createSif(f, { deterministic: true });
    assert.is(addObject(f, { dataType: DataType.DefFile, data: Buffer.alloc(560, 'd') }), 1);
    assert.is(addObject(f, { dataType: DataType.Labels, data: Buffer.alloc(304, 'l') }), 2);
    assert.is(addObject(f, { dataType: DataType.Partition, data: Buffer.alloc(8192, 's'), partition: squash(PartType.PrimSys) }), 3);
    const image = readSif(f);
    const [def, labels, part] = image.descriptors;
    assert.equal([def.offset, labels.offset, part.offset], [32176, 32736, 36864]);
    assert.is(part.sizeWithPadding, 36864 - 33040 + 8192);
    assert.is(image.header.arch, '02');
    assert.is(image.header.descriptorsFree, 45);
    assert.is(image.header.dataSize, 36864 + 8192 - 32176);
    assert.is(def.group, 1);
    assert.ok(readObject(image, 2).equals(Buffer.alloc(304, 'l')));
    assert.throws(() => addObject(f, { dataType: DataType.Partition, data: Buffer.alloc(10), partition: squash(PartType.PrimSys) }), (e: unknown) => e instanceof SifWriteError && /already has a primary partition/.test((e as Error).message));
    assert.is(readSif(f).descriptors.length, 3, 'a refused add changes nothing');
  } finally {
    s.done();
  }
});

test('add: a full descriptor table is refused with the fix', () => {
  const s = scratch();
  try {
    const f = join(s.dir, 'a.sif');
    createSif(f, { deterministic: true, descriptorsTotal: 1 });
    addObject(f, { dataType: DataType.Generic, data: Buffer.from('x') });
    assert.throws(() => addObject(f, { dataType: DataType.Generic, data: Buffer.from('y') }), /no free descriptor slot.*--descriptors/);
  } finally {
    s.done();
  }
});

test('del: frees the slot (ID reused by the next add), resets arch, zeroes and compacts on request', () => {
  const s = scratch();
  try {
    const f = join(s.dir, 'a.sif');
    createSif(f, { deterministic: true });
    addObject(f, { dataType: DataType.Generic, data: Buffer.alloc(100, 1) });
    addObject(f, { dataType: DataType.Partition, data: Buffer.alloc(4096, 2), partition: squash(PartType.PrimSys) });
    addObject(f, { dataType: DataType.Generic, data: Buffer.alloc(50, 3) });
    const before = readSif(f);
    const p = before.descriptors[1];
    deleteObject(f, 2, { zero: true });
    const after = readSif(f);
    assert.equal(after.descriptors.map((d) => d.id), [1, 3]);
    assert.is(after.header.arch, '00');
    assert.is(after.header.descriptorsFree, 46);
    assert.ok(readFileSync(f).subarray(p.offset, p.offset + p.size).equals(Buffer.alloc(4096)), 'zeroed');
    assert.is(addObject(f, { dataType: DataType.Generic, data: Buffer.from('new') }), 2, 'freed ID reused');
    const reused = readSif(f).descriptors.find((d) => d.id === 2)!;
    assert.ok(reused.offset >= before.descriptors[2].offset + 50, 'data appended at the end');
    const sizeBefore = statSync(f).size;
    deleteObject(f, 2, { compact: true });
    assert.is(statSync(f).size, sizeBefore - 3, 'trailing object dropped');
    assert.is(readSif(f).header.dataSize, statSync(f).size - 32176);
    assert.throws(() => deleteObject(f, 9), (e: unknown) => e instanceof SifObjectNotFoundError);
  } finally {
    s.done();
  }
});

test('setprim: the old primary becomes System, the new one primary, header arch follows', () => {
  const s = scratch();
  try {
    const f = join(s.dir, 'a.sif');
    createSif(f, { deterministic: true });
    addObject(f, { dataType: DataType.Partition, data: Buffer.alloc(4096, 1), partition: squash(PartType.PrimSys, '02') });
    addObject(f, { dataType: DataType.Partition, data: Buffer.alloc(4096, 2), partition: squash(PartType.System, '04') });
    addObject(f, { dataType: DataType.Generic, data: Buffer.from('x') });
    setPrimary(f, 2);
    const image = readSif(f);
    assert.is(image.descriptors[0].partition?.partType, PartType.System);
    assert.is(image.descriptors[1].partition?.partType, PartType.PrimSys);
    assert.is(image.header.arch, '04');
    assert.throws(() => setPrimary(f, 3), /not a partition/);
  } finally {
    s.done();
  }
});

test('CLI new/add/del/setprim behave like siftool and keep the file on bad input', () => {
  const s = scratch();
  try {
    const f = join(s.dir, 'a.sif');
    const data = join(s.dir, 'data');
    writeFileSync(data, 'hello');
    assert.is(cli('sif', 'new', f, '--deterministic').status, 0);
    const add = cli('sif', 'add', f, data, '--datatype', '4', '--parttype', '1', '--partfs', '4', '--partarch', '4', '--groupid', '2', '--name', 'p');
    assert.is(add.status, 0, add.stderr);
    assert.is(add.stdout.trim(), '1');
    assert.is(cli('sif', 'add', f, data, '--datatype', '7').status, 0);
    let image = readSif(f);
    assert.equal(image.descriptors.map((d) => [d.id, d.group, d.name]), [[1, 2, 'p'], [2, 0, '']]);
    assert.is(image.descriptors[0].offset % 4096, 0);
    assert.is(cli('sif', 'setprim', f, '1').status, 0);
    assert.is(readSif(f).header.arch, '04');
    const bytes = readFileSync(f);
    const bad = cli('sif', 'add', f, join(s.dir, 'missing'), '--datatype', '7');
    assert.is(bad.status, 40);
    assert.match(bad.stderr, /missing: cannot read: ENOENT/);
    assert.is(cli('sif', 'add', f, data, '--datatype', '12').status, 55);
    assert.is(cli('sif', 'del', f, '0').status, 2);
    assert.is(cli('sif', 'new', join(s.dir, 'b.sif'), '--id', 'nope').status, 55);
    assert.ok(readFileSync(f).equals(bytes), 'refused commands left the image as it was');
    assert.is(cli('sif', 'del', f, '2', '--compact').status, 0);
    image = readSif(f);
    assert.equal(image.descriptors.map((d) => d.id), [1]);
  } finally {
    s.done();
  }
});

test.run();
