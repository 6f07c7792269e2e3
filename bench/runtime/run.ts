// Benchmark of the OCI runtime: `run` of /bin/true in the same busybox bundle through the in-process
// library, through the sifkube-oci CLI, with runc and with crun; the create/start/delete split; and a
// bare `node -e 0` (the floor of any Node CLI). Usage: node dist/bench/runtime/run.js [RUNS]
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { baseSpec, busyboxBundle, uniqueId } from '../../test/helpers/bundle.js';
import * as rt from '../../src/runtime/index.js';

const runs = Number(process.argv[2] ?? 30);
const cli = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;
const b = busyboxBundle(baseSpec(['/bin/true']));

const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)];

function check(r: ReturnType<typeof spawnSync>, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr}`);
}

const split = { create: [] as number[], start: [] as number[], delete: [] as number[] };
const notes: string[] = [];
const scenarios: [string, () => unknown][] = [
  ['library run (in-process)', async () => {
    const r = await rt.runContainer(uniqueId('bl'), { root: b.root, bundle: b.dir });
    if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
  }],
  ['library create+start+wait+delete, split below', async () => {
    const id = uniqueId('bs');
    let t = process.hrtime.bigint();
    const lap = () => {
      const now = process.hrtime.bigint();
      const ms = Number(now - t) / 1e6;
      t = now;
      return ms;
    };
    const { monitor } = await rt.createContainer(id, { root: b.root, bundle: b.dir });
    split.create.push(lap());
    monitor.ref();
    const exited = new Promise((done) => monitor.once('exit', done));
    await rt.startContainer(id, { root: b.root });
    split.start.push(lap());
    await exited;
    lap();
    await rt.deleteContainer(id, { root: b.root });
    split.delete.push(lap());
  }],
  ['sifkube-oci run (CLI)', () => check(spawnSync(process.execPath, [cli, '--root', b.root, 'run', '--bundle', b.dir, uniqueId('bc')]), 'sifkube-oci run')],
  ['runc run', () => check(spawnSync('runc', ['--root', b.runcRoot, 'run', '--bundle', b.dir, uniqueId('br')]), 'runc run')],
  ['node -e 0', () => check(spawnSync(process.execPath, ['-e', '0']), 'node -e 0')],
];
const crun = () => spawnSync('crun', ['--cgroup-manager=disabled', '--root', `${b.runcRoot}-crun`, 'run', '--bundle', b.dir, uniqueId('bk')], { encoding: 'utf8' });
const probe = crun();
if (probe.status === 0) scenarios.splice(4, 0, ['crun run', () => check(crun(), 'crun run')]);
else notes.push(`crun run: not measured, ${spawnSync('crun', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]} refuses this host: ${probe.stderr.trim()}`);

// Every scenario runs once per round, so the load of a shared machine falls on all alike, in a new
// random order each round: what ran just before matters (an in-process create right after a spawned
// Node.js process takes about twice as long), so no scenario may always follow the same one.
const shuffled = <T>(xs: T[]): T[] => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};
const times = new Map<string, number[]>(scenarios.map(([l]) => [l, []]));
try {
  for (let round = -1; round < runs; round++) {
    for (const [label, once] of shuffled(scenarios)) {
      const t0 = process.hrtime.bigint();
      await once();
      if (round >= 0) times.get(label)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
} finally {
  b.remove();
}
const results: [string, number][] = scenarios.map(([l]) => [l, median(times.get(l)!)]);
for (const k of Object.keys(split) as (keyof typeof split)[]) split[k] = split[k].slice(1);

const byLabel = Object.fromEntries(results);
const runcMs = byLabel['runc run'];
const nodeMs = byLabel['node -e 0'];
console.log(`OCI runtime, ${runs} runs each (median), ${cpus().length} x ${cpus()[0].model}, ${new Date().toISOString()}`);
console.log('| what | median ms | vs runc run | vs node -e 0 |');
console.log('|---|---:|---:|---:|');
for (const [label, ms] of results) console.log(`| ${label} | ${ms.toFixed(1)} | ${(ms / runcMs).toFixed(2)}x | ${(ms / nodeMs).toFixed(2)}x |`);
console.log(`| library create | ${median(split.create).toFixed(1)} | | |`);
console.log(`| library start | ${median(split.start).toFixed(1)} | | |`);
console.log(`| library delete | ${median(split.delete).toFixed(1)} | | |`);
for (const n of notes) console.log(n);
console.log(`targets: library <= 0.5x runc run: ${byLabel['library run (in-process)'] <= runcMs / 2 ? 'met' : 'NOT met'}; CLI <= 1.3x node -e 0: ${byLabel['sifkube-oci run (CLI)'] <= nodeMs * 1.3 ? 'met' : 'NOT met'}`);
