// What the image store keeps of a pulled layer: its compressed blob (what it keeps) or its unpacked
// tree (what it could keep). Disk for each, and the time each costs when a new image reuses the layer:
// applying the blob again (gunzip + untar into the rootfs being built) against copying a kept tree
// (cp -a) or hard-linking it (cp -al). mksquashfs of the same tree, for the scale of a conversion.
// Run as root after `npm run build`: node dist/bench/cri/layer-store.js [FOLDER] (default /usr/lib/python3.11).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyLayer } from '../../src/cri/images/unpack.js';
import { layerFrom } from '../../test/helpers/registry.js';
import { median } from '../sif/common.js';

const RUNS = Number(process.env.BENCH_N ?? 5);
const source = process.argv[2] ?? '/usr/lib/python3.11';
const work = mkdtempSync(join(tmpdir(), 'sk-bench-layers-'));

async function timed(fn: () => unknown, reset: () => void): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    reset();
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

function duBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

try {
  const layer = layerFrom(join(work, 'layout'), source);
  const blob = join(work, 'layout', 'blobs', 'sha256', layer.digest.slice(7));
  const tree = join(work, 'tree');
  const out = join(work, 'out');
  const reset = () => rmSync(out, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', tree]);
  await applyLayer(tree, blob);
  const files = Number(execFileSync('sh', ['-c', `find ${tree} | wc -l`], { encoding: 'utf8' }));
  const apply = await timed(async () => {
    execFileSync('mkdir', ['-p', out]);
    await applyLayer(out, blob);
  }, reset);
  const copy = await timed(() => execFileSync('cp', ['-a', tree, out]), reset);
  const link = await timed(() => execFileSync('cp', ['-al', tree, out]), reset);
  const squash = await timed(() => execFileSync('mksquashfs', [tree, `${out}.sqfs`, '-noappend', '-comp', 'lz4', '-quiet', '-no-progress'], { stdio: 'ignore' }), () => rmSync(`${out}.sqfs`, { force: true }));
  reset();
  const mib = (b: number) => (b / 1048576).toFixed(1);
  console.log(`layer: ${source}, ${files} files; median of ${RUNS}`);
  console.log('| kept per layer | disk (MiB) | reuse in a new image (ms) |\n|---|---:|---:|');
  console.log(`| compressed blob (gzip), applied again | ${mib(statSync(blob).size)} | ${apply.toFixed(0)} |`);
  console.log(`| unpacked tree, copied (cp -a) | ${mib(duBytes(tree))} | ${copy.toFixed(0)} |`);
  console.log(`| unpacked tree, hard-linked (cp -al) | ${mib(duBytes(tree))} | ${link.toFixed(0)} |`);
  console.log(`| (mksquashfs of the tree, lz4: the rest of a conversion) | | ${squash.toFixed(0)} |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
