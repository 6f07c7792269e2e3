// `sif list` on a 4 GiB (sparse) SIF costs the same as on a 40 KiB one: reading is O(descriptors).
import { closeSync, mkdtempSync, openSync, rmSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addObject, createSif, DataType, formatList, FsType, PartType, readSif } from '../../src/sif/index.js';
import { BIN, row, run, time } from './common.js';

const dir = mkdtempSync(join(tmpdir(), 'sifkube-bench-'));
try {
  const small = join(dir, 'small.sif');
  createSif(small, { deterministic: true });
  addObject(small, { dataType: DataType.DefFile, data: Buffer.alloc(500, 'd') });
  addObject(small, { dataType: DataType.Partition, data: Buffer.alloc(8000, 's'), partition: { fsType: FsType.Squashfs, partType: PartType.PrimSys, arch: '02' } });
  const big = join(dir, 'big.sif');
  createSif(big, { deterministic: true });
  addObject(big, { dataType: DataType.DefFile, data: Buffer.alloc(500, 'd') });
  const partOffset = 36864;
  const size = 4 * 1024 ** 3;
  const fd = openSync(big, 'r+');
  ftruncateSync(fd, partOffset + size); // sparse: no data blocks
  closeSync(fd);
  addObject(big, { dataType: DataType.Partition, data: { inPlace: size }, partition: { fsType: FsType.Squashfs, partType: PartType.PrimSys, arch: '02' } });
  console.log(`small: ${readSif(small).fileSize} bytes, big: ${readSif(big).fileSize} bytes`);
  const libSmall = time(2000, () => formatList(readSif(small)));
  const libBig = time(2000, () => formatList(readSif(big)));
  row('library readSif+formatList, 4 GiB vs 40 KiB', libBig, libSmall, '40 KiB');
  const cliSmall = time(10, () => run(process.execPath, [BIN, 'sif', 'list', small]));
  const cliBig = time(10, () => run(process.execPath, [BIN, 'sif', 'list', big]));
  row('`sifkube sif list`, 4 GiB vs 40 KiB', cliBig, cliSmall, '40 KiB');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
