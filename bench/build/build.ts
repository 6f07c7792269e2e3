// `sifkube build` of a small definition (scratch + static busybox via %files, a %post run in our
// runtime, every metadata section, %test): cold (no cache), and cached (an unchanged rebuild).
// There is no Singularity on this machine to compare with; the reference row is the floor of any
// builder: `sif create` (mksquashfs + SIF metadata) of the finished root filesystem alone.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../../src/build/index.js';
import { setLogSink } from '../../src/runtime/index.js';
import { buildSif } from '../../src/sif/index.js';
import { median } from '../sif/common.js';

const DEF = `Bootstrap: scratch

%files
    busybox /bin/busybox
    busybox /bin/sh

%post
    /bin/busybox --install -s /bin
    echo hello > /greeting

%environment
    export GREETING=hi

%runscript
    echo "$GREETING $(cat /greeting)"

%labels
    bench yes

%test
    test "$(cat /greeting)" = hello
`;

async function timed(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(xs);
}

setLogSink(() => undefined);
const dir = mkdtempSync(join(tmpdir(), 'sifkube-bench-build-'));
try {
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  writeFileSync(join(dir, 'tiny.def'), DEF);
  mkdirSync(join(dir, 'work'));
  const opts = { definition: join(dir, 'tiny.def'), out: join(dir, 'out.sif'), force: true, cacheDir: join(dir, 'cache'), workDir: join(dir, 'work') };
  const cold = await timed(5, () => buildImage({ ...opts, noCache: true }));
  const cached = await timed(5, () => buildImage(opts));
  // The floor: the same root filesystem squashed into a SIF, nothing else.
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  const floor = await timed(5, async () => buildSif({ rootfs, out: join(dir, 'floor.sif') }));
  console.log('| build | median of 5 |');
  console.log('|---|---|');
  console.log(`| cold (--no-cache): bootstrap, %files, %post and %test in our runtime, SIF | ${cold.toFixed(0)} ms |`);
  console.log(`| cached (unchanged rebuild) | ${cached.toFixed(0)} ms |`);
  console.log(`| floor: \`sif create\` of the same tree alone | ${floor.toFixed(0)} ms |`);
  console.log(`cold/floor ${(cold / floor).toFixed(1)}x, cold/cached ${(cold / cached).toFixed(0)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
