// The examples: build time of each image cold (--no-cache) and cached (an unchanged rebuild),
// the classification latency per image of the TensorFlow example on this CPU, and, where an
// upstream Kubernetes set is named (SIFKUBE_KUBE_SETS), the time from `sifkube example run` to
// the first answer of its URL on a fresh cluster (images from the build cache). There is no peer
// that builds these definitions here (no Singularity); the numbers stand alone.
// `node dist/bench/examples/examples.js [cold]`: `cold` also rebuilds every image without the cache.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildImage } from '../../src/build/index.js';
import { deleteCluster } from '../../src/cluster/index.js';
import { EXAMPLES, exampleBuilds, imagesDir } from '../../src/examples/index.js';
import { setLogSink } from '../../src/runtime/index.js';
import { exampleModules, skimagePhotos } from '../../test/helpers/examples.js';
import { median } from '../sif/common.js';

setLogSink(() => undefined);
const BIN = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const cold = process.argv.includes('cold');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

console.log('image            cold (--no-cache)   cached');
const done = new Set<string>();
for (const e of EXAMPLES) {
  for (const b of exampleBuilds(e)) {
    const name = b.out.split('/').pop()!.replace('.sif', '');
    if (done.has(name)) continue;
    done.add(name);
    const c = cold ? (await buildImage({ ...b, noCache: true })).ms : undefined;
    // Fill the cache (a no-op when it is warm), then time the unchanged rebuild.
    await buildImage(b);
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push((await buildImage(b)).ms);
    const cached = median(runs);
    console.log(`${name.padEnd(16)} ${(c === undefined ? '-' : seconds(c)).padEnd(19)} ${seconds(cached)}`);
  }
}

// Classification latency on the host's CPU: the example's own detector module, four photographs.
exampleModules('tensorflow');
const photos = skimagePhotos(['motorcycle_left.png', 'astronaut.png', 'coffee.png', 'chelsea.png']);
try {
  const { Detector } = (await import(pathToFileURL(join(imagesDir(), 'tensorflow/app/detector.mjs')).href)) as { Detector: { load(): Promise<{ device: string; detect(i: unknown): Promise<unknown[]> }> } };
  const { decodeImage, toRgb } = (await import(pathToFileURL(join(imagesDir(), 'tensorflow/app/image.mjs')).href)) as { decodeImage(b: Buffer): unknown; toRgb(i: unknown): unknown };
  const detector = await Detector.load();
  const images = ['motorcycle_left.png', 'astronaut.png', 'coffee.png', 'chelsea.png'].map((f) => toRgb(decodeImage(readFileSync(join(photos, f)))));
  await detector.detect(images[0]);
  const xs: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const img of images) {
      const t0 = performance.now();
      await detector.detect(img);
      xs.push(performance.now() - t0);
    }
  }
  console.log(`\nclassification (CenterNet 512x512, ${detector.device}): median ${median(xs).toFixed(0)} ms per image, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)} (${xs.length} runs)`);
} finally {
  rmSync(photos, { recursive: true, force: true });
}

const set = (process.env.SIFKUBE_KUBE_SETS ?? '').split(':').filter(Boolean)[0];
if (set) {
  const name = `b-ex-${randomBytes(3).toString('hex')}`;
  const sifkube = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 900_000 });
    if (r.status !== 0) throw new Error(`sifkube ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  try {
    sifkube(['init', '--name', name, '--nodes', '2', '--kube-bin-dir', set, '--wait', '3m']);
    console.log('\nexample run → serving (cached images, fresh cluster of 2 nodes)');
    for (const e of EXAMPLES) {
      const t0 = Date.now();
      const url = /is serving: (\S+)/.exec(sifkube(['example', 'run', e.name, '--name', name]))![1];
      while (!(await fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 100));
      console.log(`${e.name.padEnd(12)} ${seconds(Date.now() - t0)}`);
    }
  } finally {
    await deleteCluster(name).catch(() => undefined);
  }
}
