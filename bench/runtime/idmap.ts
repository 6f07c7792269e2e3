// Benchmark of idmapped mounts: `run` of /bin/true with one host folder bind-mounted plainly or
// idmapped (a user namespace made for the mapping, open_tree + mount_setattr + move_mount), through
// the in-process library; runc 1.1.5 runs the plain bind as the peer (it cannot idmap). Usage:
// node dist/bench/runtime/idmap.js [RUNS]
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseSpec, busyboxBundle, uniqueId, type Bundle } from '../../test/helpers/bundle.js';
import * as rt from '../../src/runtime/index.js';

const runs = Number(process.argv[2] ?? 30);
const src = mkdtempSync(join(tmpdir(), 'sifkube-idmap-bench-'));
writeFileSync(join(src, 'f'), 'x');
chownSync(join(src, 'f'), 1000, 1000);
const mapping = [{ containerID: 1000, hostID: 2000, size: 10 }];

function bundle(idmapped: boolean): Bundle {
  const spec = baseSpec(['/bin/true']);
  spec.mounts.push({ destination: '/data', type: 'bind', source: src, options: ['bind'], ...(idmapped ? { uidMappings: mapping, gidMappings: mapping } : {}) });
  return busyboxBundle(spec);
}
const plain = bundle(false);
const mapped = bundle(true);

const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)];
const library = (b: Bundle) => async () => {
  const r = await rt.runContainer(uniqueId('bi'), { root: b.root, bundle: b.dir });
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
};
const scenarios: [string, () => unknown][] = [
  ['library run, plain bind mount', library(plain)],
  ['library run, idmapped bind mount', library(mapped)],
  ['runc run, plain bind mount', () => {
    const r = spawnSync('runc', ['--root', plain.runcRoot, 'run', '--bundle', plain.dir, uniqueId('br')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`runc run failed: ${r.stderr}`);
  }],
];

// Each round runs every scenario once, in a new random order (see run.ts: what ran just before matters).
const times = new Map<string, number[]>(scenarios.map(([l]) => [l, []]));
try {
  for (let round = -1; round < runs; round++) {
    for (const [label, once] of [...scenarios].sort(() => Math.random() - 0.5)) {
      const t0 = process.hrtime.bigint();
      await once();
      if (round >= 0) times.get(label)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
} finally {
  for (const b of [plain, mapped]) b.remove();
  rmSync(src, { recursive: true, force: true });
}
const [p, m, r] = scenarios.map(([l]) => median(times.get(l)!));
console.log(`idmapped mounts, median of ${runs} runs, ${cpus().length} CPUs, ${new Date().toISOString().slice(0, 10)}`);
console.log('| measure | ms | ratio |\n|---|---:|---:|');
console.log(`| library run, plain bind mount | ${p.toFixed(1)} | 1.00 |`);
console.log(`| library run, idmapped bind mount | ${m.toFixed(1)} | ${(m / p).toFixed(2)} vs plain |`);
console.log(`| runc 1.1.5 run, plain bind mount (peer) | ${r.toFixed(1)} | ${(m / r).toFixed(2)} idmapped ours / runc |`);
