// `sifkube init` to every node Ready with the real Kubernetes binaries, for 1 and 3 nodes on every set
// in SIFKUBE_KUBE_SETS (scripts/unpack-kube-sets.sh), then `delete`; each step's share of the time.
// The peer, in the same run and round-robin: the same init with runc running the node containers
// (SIFKUBE_NODE_RUNTIME=runc). Usage: node dist/bench/cluster/kube-init.js [ROUNDS]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { defaultClusterConfig, deleteCluster, initCluster, type InitStep } from '../../src/cluster/index.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const sets = (process.env.SIFKUBE_KUBE_SETS ?? '').split(':').filter(Boolean);
if (sets.length === 0) throw new Error('SIFKUBE_KUBE_SETS names no Kubernetes set: eval "$(bash scripts/unpack-kube-sets.sh ../shared /var/tmp/kube)"');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = mkdtempSync(join(tmpdir(), 'sk-bench-kube-'));

async function once(dir: string, nodes: number, runtime: string | undefined): Promise<Record<string, number>> {
  if (runtime) process.env.SIFKUBE_NODE_RUNTIME = runtime;
  else delete process.env.SIFKUBE_NODE_RUNTIME;
  const name = `bench-${randomBytes(3).toString('hex')}`;
  const kubeconfig = join(work, `${name}.kubeconfig`);
  const marks: [string, number][] = [];
  const t0 = performance.now();
  try {
    await initCluster({ config: defaultClusterConfig(name, nodes), kubeBinDir: dir, waitMs: 180_000, kubeconfig, onStep: (s: InitStep) => marks.push([s, performance.now()]) });
  } catch (err) {
    await deleteCluster(name, kubeconfig).catch(() => undefined);
    throw err;
  }
  const ready = performance.now();
  const res: Record<string, number> = { init: ready - t0 };
  marks.push(['end', ready]);
  for (let i = 0; i + 1 < marks.length; i++) res[`step ${marks[i][0]}`] = marks[i + 1][1] - marks[i][1];
  const t1 = performance.now();
  await deleteCluster(name, kubeconfig);
  res.delete = performance.now() - t1;
  return res;
}

const results: Record<string, Record<string, number[]>> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const dir of sets) {
    for (const nodes of [1, 3]) {
      for (const [label, runtime] of [['sifkube-oci', undefined], ['runc', 'runc']] as const) {
        const key = `${basename(dir)}, ${nodes} node(s), nodes run by ${label}`;
        const res = await once(dir, nodes, runtime);
        results[key] ??= {};
        for (const [k, v] of Object.entries(res)) (results[key][k] ??= []).push(v);
        console.log(`round ${r + 1} ${key}: init ${res.init.toFixed(0)} ms, delete ${res.delete.toFixed(0)} ms`);
      }
    }
  }
}
rmSync(work, { recursive: true, force: true });

console.log(`\nmedians of ${ROUNDS} rounds (ms):`);
for (const [key, m] of Object.entries(results)) {
  console.log(`${key}: ${Object.entries(m).map(([k, v]) => `${k} ${median(v).toFixed(0)}`).join(', ')}`);
}
for (const dir of sets) {
  for (const nodes of [1, 3]) {
    const ours = results[`${basename(dir)}, ${nodes} node(s), nodes run by sifkube-oci`];
    const peer = results[`${basename(dir)}, ${nodes} node(s), nodes run by runc`];
    console.log(`${basename(dir)} ${nodes} node(s): init to Ready ${(median(ours.init) / median(peer.init)).toFixed(2)}x runc, delete ${(median(ours.delete) / median(peer.delete)).toFixed(2)}x runc`);
  }
}
