import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  bootNodes,
  clusterLeftovers,
  clusterNames,
  defaultClusterConfig,
  deleteCluster,
  etcdArgs,
  nodeLayout,
  nodeRuntimeRoot,
  prepareCluster,
  readSupervisorStatus,
  resolveEtcd,
  until,
  type ClusterPlan,
  type NodePlan,
} from '../../src/cluster/index.js';
import { criClient } from '../../src/cri/index.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';

// Everything of init up to the Kubernetes binaries, for real: nodes as containers of sifkube's own
// runtime, each with its CRI server in-process, etcd supervised on the control-plane node.
const tag = randomBytes(3).toString('hex');
const name = `t-life-${tag}`;

const etcdOnly = (plan: ClusterPlan) => (n: NodePlan) =>
  n.role === 'control-plane' ? [{ name: 'etcd', command: resolveEtcd(), args: etcdArgs(n.name, nodeLayout(plan, n).etcdData), health: { url: 'http://127.0.0.1:2379/health' } }] : [];

test('three nodes of our runtime: CRI answers on every node socket from the host, etcd healthy, delete leaves nothing', async () => {
  const before = hostSnapshot();
  let deleted = false;
  const { state } = await prepareCluster(defaultClusterConfig(name, 3));
  const plan = state.plan;
  try {
    await bootNodes(plan, plan.nodes, etcdOnly(plan));
    assert.match(readFileSync(`${nodeRuntimeRoot(plan.names)}/runtime`, 'utf8'), /bin\/sifkube-oci\.js$/, 'nodes run by sifkube-oci');
    for (const n of plan.nodes) {
      const c = criClient(nodeLayout(plan, n).criSocket);
      try {
        const v = await c.runtime.Version({ version: 'v1' });
        assert.is(v.runtimeApiVersion, 'v1');
        const s = await c.runtime.Status({});
        const runtimeReady = s.status.conditions.find((x: { type: string }) => x.type === 'RuntimeReady');
        assert.is(runtimeReady?.status, true, `${n.name}: ${JSON.stringify(s.status)}`);
        const images = await c.image.ListImages({});
        assert.equal(images.images, []);
      } finally {
        c.close();
      }
    }
    const cp = nodeLayout(plan, plan.nodes[0]);
    await until('etcd healthy', 30_000, 'see etcd.log', () => existsSync(cp.supervisorStatus) && readSupervisorStatus(cp.supervisorStatus).components[0]?.healthy === true);
    const report = await deleteCluster(name, `/tmp/${name}-kubeconfig`);
    deleted = true;
    assert.is(report.containers.length, 3);
  } finally {
    if (!deleted) await deleteCluster(name, `/tmp/${name}-kubeconfig`);
  }
  assert.equal(clusterLeftovers(name), []);
  const ours = (l: string) => l.includes(name) || l.includes(clusterNames(name).id) || l.includes(tag);
  assert.equal(diffSnapshots(before, hostSnapshot()).filter(ours), []);
});

test.run();
