import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addWorkers,
  bootNodes,
  clusterCgroups,
  removeNode,
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
import { buildSif } from '../../src/sif/index.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { BIN, makeRootfs } from '../helpers/sif.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** etcd's v3 JSON gateway on the control-plane node's loopback (in its network namespace). */
function etcdCall(plan: ClusterPlan, op: 'put' | 'range', body: Record<string, string>) {
  const script = `fetch('http://127.0.0.1:2379/v3/kv/${op}', { method: 'POST', body: ${JSON.stringify(JSON.stringify(body))} }).then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, (e) => { console.error(e); process.exit(1); })`;
  return spawnSync('ip', ['netns', 'exec', `${plan.names.netnsPrefix}0`, process.execPath, '-e', script], { encoding: 'utf8' });
}

async function criAnswersOn(socket: string): Promise<boolean> {
  const c = criClient(socket);
  try {
    return (await c.runtime.Version({ version: 'v1' })).runtimeApiVersion === 'v1';
  } finally {
    c.close();
  }
}

const sifkube = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

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
    // exec: a command in the node's namespaces, through our runtime; its exit status comes back.
    for (const n of plan.nodes) assert.is(sifkube('exec', '--name', name, n.name, '--', 'hostname').stdout.trim(), n.name);
    assert.is(sifkube('exec', '--name', name, plan.nodes[1].name, '--', 'sh', '-c', 'exit 7').status, 7);
    const unknown = sifkube('exec', '--name', name, 'nope', '--', 'true');
    assert.is(unknown.status, 83);
    assert.match(unknown.stderr, /has no node "nope": use one of /);
    // kubectl: the cluster's admin kubeconfig, arguments after -- passed as they are.
    assert.is(sifkube('kubectl', '--name', name, '--', 'config', 'current-context').stdout.trim(), `sifkube-${name}`);
    const list = sifkube('node', 'list', '--name', name, '--json');
    assert.equal(JSON.parse(list.stdout).map((n: { name: string; running: boolean }) => [n.name, n.running]), plan.nodes.map((n) => [n.name, true]));

    // image load: one copy in the shared store; every node's running CRI server lists it by its tag.
    const work = mkdtempSync(join(tmpdir(), 'sk-life-img-'));
    try {
      const sif = join(work, 'cats.sif');
      buildSif({ rootfs: makeRootfs(work), out: sif, deterministic: true, imageConfig: { cmd: ['sh'] } });
      const loaded = sifkube('image', 'load', '--name', name, sif, '--tag', 'example.org/cats:v1');
      assert.is(loaded.status, 0, loaded.stderr);
      const plain = sifkube('image', 'load', '--name', name, sif);
      assert.is(plain.status, 0, plain.stderr);
      const bad = join(work, 'not.sif');
      writeFileSync(bad, 'not a sif');
      const refused = sifkube('image', 'load', '--name', name, bad);
      assert.is(refused.status, 96);
      assert.match(refused.stderr, /not\.sif: not a SIF image .*: build one with `sifkube sif create`/);
      const store = join(plan.names.stateDir, 'images', 'sif');
      assert.is(readdirSync(store).length, 1, 'one copy, content-addressed');
      for (const n of plan.nodes) {
        const c = criClient(nodeLayout(plan, n).criSocket);
        try {
          const images = (await c.image.ListImages({})).images;
          assert.is(images.length, 1, n.name);
          assert.equal(images[0].repoTags, ['docker.io/library/cats:latest', 'example.org/cats:v1']);
          const st = await c.image.ImageStatus({ image: { image: 'example.org/cats:v1' } });
          assert.is(st.image.id, images[0].id);
        } finally {
          c.close();
        }
      }
      const listed = JSON.parse(sifkube('image', 'list', '--name', name, '--json').stdout);
      assert.equal(listed[0].tags, ['docker.io/library/cats:latest', 'example.org/cats:v1']);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }

    // node add on the running cluster: the next worker, its CRI answering, reachable, routed to.
    const [added] = await addWorkers(state, [undefined], () => []);
    assert.is(added.name, `${name}-worker3`);
    assert.ok(await criAnswersOn(nodeLayout(plan, added).criSocket));
    assert.is(sifkube('exec', '--name', name, added.name, '--', 'hostname').stdout.trim(), added.name);
    const ping = sifkube('exec', '--name', name, added.name, '--', 'busybox', 'ping', '-c', '1', '-W', '2', plan.nodes[0].address);
    assert.is(ping.status, 0, ping.stdout + ping.stderr);
    const routes = sifkube('exec', '--name', name, plan.nodes[1].name, '--', 'ip', 'route').stdout;
    assert.ok(routes.includes(`${added.podCIDR} via ${added.address}`), routes);
    // node remove: its container, processes, links, namespace, cgroups and folder go; the rest runs on.
    await removeNode(state, added.name);
    assert.not.ok(plan.nodes.some((n) => n.name === added.name));
    assert.not.ok(spawnSync('ip', ['link', 'show', added.veth]).status === 0, 'veth gone');
    assert.not.ok(existsSync(`/run/netns/${plan.names.netnsPrefix}${added.index}`));
    assert.equal(clusterCgroups(plan.names).filter((c) => c.includes(added.name)), []);
    assert.not.ok(existsSync(nodeLayout(plan, added).dir));
    assert.not.ok(sifkube('exec', '--name', name, plan.nodes[1].name, '--', 'ip', 'route').stdout.includes(added.podCIDR));
    assert.ok(await criAnswersOn(nodeLayout(plan, plan.nodes[2]).criSocket));
    const cpRemove = sifkube('node', 'remove', '--name', name, plan.nodes[0].name);
    assert.is(cpRemove.status, 80);
    assert.match(cpRemove.stderr, /the control-plane node cannot be removed/);

    const cp = nodeLayout(plan, plan.nodes[0]);
    await until('etcd healthy', 30_000, 'see etcd.log', () => existsSync(cp.supervisorStatus) && readSupervisorStatus(cp.supervisorStatus).components[0]?.healthy === true);
    const put = etcdCall(plan, 'put', { key: b64('sifkube'), value: b64(tag) });
    assert.is(put.status, 0, put.stderr);

    // stop: nodes gone (no socket answers, exec refused), state kept; start: the same nodes, etcd data and images.
    const stopped = sifkube('stop', '--name', name);
    assert.is(stopped.status, 0, stopped.stderr);
    assert.not.ok(await criAnswersOn(nodeLayout(plan, plan.nodes[1]).criSocket).catch(() => false));
    const refused = sifkube('exec', '--name', name, plan.nodes[1].name, '--', 'true');
    assert.is(refused.status, 95);
    assert.match(refused.stderr, /is not running: start the cluster with `sifkube start/);
    assert.not.ok(existsSync(`/run/netns/${plan.names.netnsPrefix}0`));
    const started = sifkube('start', '--name', name);
    assert.is(started.status, 0, started.stderr);
    for (const n of plan.nodes) assert.ok(await criAnswersOn(nodeLayout(plan, n).criSocket), n.name);
    await until('etcd healthy again', 30_000, 'see etcd.log', () => readSupervisorStatus(cp.supervisorStatus).components[0]?.healthy === true);
    const get = etcdCall(plan, 'range', { key: b64('sifkube') });
    assert.is(Buffer.from(JSON.parse(get.stdout).kvs[0].value, 'base64').toString(), tag, get.stderr);
    assert.is(JSON.parse(sifkube('image', 'list', '--name', name, '--json').stdout).length, 1);
    // logs export: each node's logs (the CRI server's, the node's, etcd's) and state, no keys.
    const logs = mkdtempSync(join(tmpdir(), 'sk-life-logs-'));
    try {
      assert.is(sifkube('logs', 'export', '--name', name, logs).status, 0);
      const cpLogs = readdirSync(join(logs, name, 'nodes', plan.nodes[0].name, 'logs')).sort();
      for (const f of ['cri.log', 'etcd.log', 'node.log']) assert.ok(cpLogs.includes(f), cpLogs.join(' '));
      assert.ok(existsSync(join(logs, name, 'nodes', plan.nodes[2].name, 'supervisor.json')));
      assert.is(JSON.parse(readFileSync(join(logs, name, 'status.json'), 'utf8')).nodes.length, 3);
      assert.is(spawnSync('grep', ['-rl', 'PRIVATE KEY', logs]).stdout.length, 0, 'no private key exported');
      const again = sifkube('logs', 'export', '--name', name, logs);
      assert.is(again.status, 80);
      assert.match(again.stderr, /is not empty: pass another folder/);
    } finally {
      rmSync(logs, { recursive: true, force: true });
    }

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
