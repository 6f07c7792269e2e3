// `sif create` (SIF with /.singularity.d and metadata, mksquashfs writing into the image) vs plain
// mksquashfs of the same tree with the same compression: the overhead ratio.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSif } from '../../src/sif/index.js';
import { row, run, time } from './common.js';

const tree = process.argv[2] ?? '/usr/lib/python3.11';
const dir = mkdtempSync(join(tmpdir(), 'sifkube-bench-'));
try {
  for (const comp of ['lz4', 'gzip'] as const) {
    const peer = time(3, () => run('mksquashfs', [tree, join(dir, 'plain.sqfs'), '-noappend', '-no-progress', '-quiet', '-comp', comp]));
    const ours = time(3, () => buildSif({ rootfs: tree, out: join(dir, 'out.sif'), compression: comp }));
    console.log(`${tree} (${comp}): squashfs ${statSync(join(dir, 'plain.sqfs')).size} bytes, SIF ${statSync(join(dir, 'out.sif')).size} bytes`);
    row(`\`sif create\` ${comp}`, ours, peer, 'mksquashfs');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
