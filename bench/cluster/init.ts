// The sifkube-owned part of `init` with node containers run by OUR runtime: state tmpfs, PKI, cgroups,
// bridge + iptables, N node containers each with its CRI server answering on its socket, etcd healthy
// in the control-plane node; then `node add` (one worker, CRI answering) and delete. The peer is the
// same code with runc running the node containers (SIFKUBE_NODE_RUNTIME=runc), in the same run,
// round-robin. Usage: node dist/bench/cluster/init.js [ROUNDS]
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  addWorkers,
  bootNodes,
  defaultClusterConfig,
  deleteCluster,
  etcdArgs,
  nodeLayout,
  prepareCluster,
  readSupervisorStatus,
  resolveEtcd,
  until,
  type ClusterPlan,
  type NodePlan,
} from '../../src/cluster/index.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const etcdOnly = (plan: ClusterPlan) => (n: NodePlan) =>
  n.role === 'control-plane' ? [{ name: 'etcd', command: resolveEtcd(), args: etcdArgs(n.name, nodeLayout(plan, n).etcdData), health: { url: 'http://127.0.0.1:2379/health' } }] : [];

async function once(nodes: number, runtime: string | undefined): Promise<Record<string, number>> {
  if (runtime) process.env.SIFKUBE_NODE_RUNTIME = runtime;
  else delete process.env.SIFKUBE_NODE_RUNTIME;
  const name = `bench-${randomBytes(3).toString('hex')}`;
  const t0 = performance.now();
  const { state } = await prepareCluster(defaultClusterConfig(name, nodes));
  const plan = state.plan;
  try {
    await bootNodes(plan, plan.nodes, etcdOnly(plan));
    const cp = nodeLayout(plan, plan.nodes[0]);
    await until('etcd', 60_000, '', () => existsSync(cp.supervisorStatus) && readSupervisorStatus(cp.supervisorStatus).components[0]?.healthy === true);
    const init = performance.now() - t0;
    const t1 = performance.now();
    await addWorkers(state, [undefined], () => []);
    const add = performance.now() - t1;
    const t2 = performance.now();
    await deleteCluster(name, '/nonexistent/kubeconfig');
    return { init, add, delete: performance.now() - t2 };
  } catch (err) {
    await deleteCluster(name, '/nonexistent/kubeconfig').catch(() => undefined);
    throw err;
  }
}

const results: Record<string, Record<string, number[]>> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const nodes of [1, 3]) {
    for (const [label, runtime] of [['sifkube-oci', undefined], ['runc', 'runc']] as const) {
      const key = `${nodes} node(s), ${label}`;
      const res = await once(nodes, runtime);
      results[key] ??= {};
      for (const [k, v] of Object.entries(res)) (results[key][k] ??= []).push(v);
    }
  }
}
console.log(`medians of ${ROUNDS} rounds (ms)`);
console.log('| what | sifkube-oci | runc (peer) | ratio |');
console.log('|---|---:|---:|---:|');
for (const nodes of [1, 3]) {
  const ours = results[`${nodes} node(s), sifkube-oci`];
  const peer = results[`${nodes} node(s), runc`];
  for (const k of ['init', 'add', 'delete']) {
    const a = median(ours[k]);
    const b = median(peer[k]);
    const what = k === 'init' ? `init, ${nodes} node(s): CRI sockets answering, etcd healthy` : k === 'add' ? `node add on ${nodes} node(s)` : `delete ${nodes + 1} node(s)`;
    console.log(`| ${what} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(2)}x |`);
  }
}
