// The sifkube-owned part of `init` that exists without the node runtime, for a 3-node cluster:
// state tmpfs, PKI + kubeconfigs, node cgroups, bridge + iptables, three node network namespaces
// attached, etcd started under the supervisor and healthy; then delete. The peer does the same by
// hand (bench/cluster/peer.sh: openssl, kubectl config, ip, iptables, etcd + curl). Medians of 3 runs.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Supervisor,
  addNodeNetns,
  attachNode,
  defaultClusterConfig,
  deleteCluster,
  etcdArgs,
  hostRoutes,
  nodeLayout,
  planCluster,
  prepareCluster,
  readSupervisorStatus,
  resolveEtcd,
  startNode,
  type PrepareStep,
} from '../../src/cluster/index.js';

const peerScript = new URL('../../../bench/cluster/peer.sh', import.meta.url).pathname;
const RUNS = Number(process.argv[2] ?? 3);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now();

/** With `containers`, the three nodes run as containers (runc) and etcd runs inside the control-plane node. */
async function ours(containers = false): Promise<Record<string, number>> {
  const name = `bench-${randomBytes(3).toString('hex')}`;
  const t: Record<string, number> = {};
  let last = now();
  const mark = (k: string) => {
    const n = now();
    t[k] = (t[k] ?? 0) + n - last;
    last = n;
  };
  const start = now();
  let sup: Supervisor | undefined;
  try {
    let step: PrepareStep | undefined;
    const { state } = await prepareCluster(defaultClusterConfig(name, 3), {
      onStep: (s) => {
        if (step) mark(step);
        step = s;
      },
    });
    mark(step!);
    const plan = state.plan;
    const layout = nodeLayout(plan, plan.nodes[0]);
    if (containers) {
      for (const [i, n] of plan.nodes.entries()) {
        await startNode(plan, n, {
          runtime: 'runc',
          components: i === 0 ? [{ name: 'etcd', command: resolveEtcd(), args: etcdArgs(n.name, layout.etcdData), health: { url: 'http://127.0.0.1:2379/health' } }] : [],
        });
      }
      mark('nodes');
      for (;;) {
        const s = existsSync(layout.supervisorStatus) ? readSupervisorStatus(layout.supervisorStatus).components[0] : undefined;
        if (s?.healthy) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      mark('etcd');
      t.total = now() - start;
      await deleteCluster(name, '/nonexistent/kubeconfig');
      mark('delete');
      return t;
    }
    plan.nodes.forEach((n) => attachNode(plan, n, addNodeNetns(plan.names, n)));
    mark('nodes');
    const [client, peer] = [await freePort(), await freePort()];
    sup = new Supervisor({ logDir: layout.logs, statusFile: layout.supervisorStatus });
    sup.start([{ name: 'etcd', command: resolveEtcd(), args: etcdArgs(plan.nodes[0].name, layout.etcdData, { client, peer }), health: { url: `http://127.0.0.1:${client}/health` } }]);
    await sup.waitHealthy('etcd', 30_000);
    mark('etcd');
    t.total = now() - start;
    await sup.stop(5000);
    sup = undefined;
    await deleteCluster(name, '/nonexistent/kubeconfig');
    mark('delete');
  } finally {
    await sup?.stop(1000);
    await deleteCluster(name, '/nonexistent/kubeconfig').catch(() => undefined);
  }
  return t;
}

async function peer(): Promise<Record<string, number>> {
  const id = randomBytes(2).toString('hex');
  const dir = `/tmp/sifkube-bench-peer-${id}`;
  const net = planCluster(defaultClusterConfig('peer', 3), hostRoutes()).bridge.address.replace(/\.1$/, '');
  const args = [dir, id, net, String(await freePort()), String(await freePort())];
  const t0 = now();
  try {
    const up = spawnSync('bash', [peerScript, 'up', ...args], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`peer.sh up failed: ${up.stderr}`);
    const total = now() - t0;
    const t1 = now();
    spawnSync('bash', [peerScript, 'down', ...args]);
    return { total, delete: now() - t1 };
  } finally {
    spawnSync('bash', [peerScript, 'down', ...args]);
    spawnSync('rmdir', [dir]);
  }
}

const runs: { ours: Record<string, number>; peer: Record<string, number>; nodes: Record<string, number> }[] = [];
for (let i = 0; i < RUNS; i++) runs.push({ ours: await ours(), peer: await peer(), nodes: await ours(true) });
const m = (who: 'ours' | 'peer' | 'nodes', k: string) => median(runs.map((r) => r[who][k]));
const phases = ['state', 'sysctls', 'pki', 'cgroups', 'network', 'nodes', 'etcd'];
console.log(`3-node cluster, host side + etcd ready, median of ${RUNS} (ms): ${phases.map((p) => `${p} ${m('ours', p).toFixed(0)}`).join(', ')}`);
console.log('| what | sifkube | peer (by hand: openssl, kubectl config, ip, iptables, etcd with the same flags) | ratio |');
console.log('|---|---|---|---|');
console.log(`| prepare 3 nodes + etcd healthy | ${m('ours', 'total').toFixed(0)} ms | ${m('peer', 'total').toFixed(0)} ms | ${(m('ours', 'total') / m('peer', 'total')).toFixed(2)}x |`);
console.log(`| the same with 3 node containers (runc, node-init, supervisor), etcd healthy inside the control-plane node | ${m('nodes', 'total').toFixed(0)} ms | ${m('peer', 'total').toFixed(0)} ms | ${(m('nodes', 'total') / m('peer', 'total')).toFixed(2)}x |`);
console.log(`| delete | ${m('ours', 'delete').toFixed(0)} ms | ${m('peer', 'delete').toFixed(0)} ms | ${(m('ours', 'delete') / m('peer', 'delete')).toFixed(2)}x |`);
console.log(`with node containers (ms): nodes started ${m('nodes', 'nodes').toFixed(0)}, etcd healthy in the node ${m('nodes', 'etcd').toFixed(0)}, delete ${m('nodes', 'delete').toFixed(0)}`);
console.log(`(run on ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, ${join(process.version)})`);
