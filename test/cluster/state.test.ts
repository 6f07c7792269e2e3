import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClusterStateError,
  SubnetClashError,
  clusterNames,
  createClusterState,
  defaultClusterConfig,
  deleteCluster,
  listClusters,
  parseClusterConfig,
  readClusterState,
} from '../../src/cluster/index.js';

const tag = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'sk-state-'));
const kc = join(work, 'kubeconfig');

test('two named clusters coexist with distinct automatic subnets; list shows both', async () => {
  const a = `t-a-${tag}`;
  const b = `t-b-${tag}`;
  try {
    const sa = createClusterState(defaultClusterConfig(a, 1));
    const sb = createClusterState(defaultClusterConfig(b, 2));
    assert.is.not(sa.plan.bridge.subnet, sb.plan.bridge.subnet);
    assert.is.not(sa.plan.podSubnet, sb.plan.podSubnet);
    const names = listClusters().map((c) => c.plan.name);
    assert.ok(names.includes(a) && names.includes(b));
    assert.is(readClusterState(b).plan.nodes.length, 2);
    assert.is(readClusterState(a).stateVersion, 1);
  } finally {
    await deleteCluster(a, kc);
    await deleteCluster(b, kc);
  }
});

test('clusters created at the same moment by two processes get distinct subnets', async () => {
  const store = new URL('../../src/cluster/index.js', import.meta.url).pathname;
  const names = [`t-r1-${tag}`, `t-r2-${tag}`, `t-r3-${tag}`];
  const script = (n: string) => `import(${JSON.stringify(store)}).then((c) => { const s = c.createClusterState(c.defaultClusterConfig(${JSON.stringify(n)}, 1)); console.log(s.plan.bridge.subnet, s.plan.podSubnet); })`;
  try {
    const runs = names.map((n) => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`creating ${n}: exit ${code}`))));
    }));
    const subnets = (await Promise.all(runs)).flatMap((l) => l.split(' '));
    assert.is(new Set(subnets).size, subnets.length, subnets.join(', '));
  } finally {
    for (const n of names) await deleteCluster(n, kc);
  }
});

test('--persistent DIR keeps the state on disk; delete removes it', async () => {
  const name = `t-p-${tag}`;
  // On disk: /tmp is refused (every node mounts its own /tmp).
  const dir = `/var/tmp/sk-state-persist-${tag}`;
  try {
    createClusterState(defaultClusterConfig(name, 1), dir);
    assert.ok(lstatSync(clusterNames(name).stateDir).isSymbolicLink());
    assert.ok(existsSync(join(dir, 'state.json')));
    assert.is(readClusterState(name).persistentDir, dir);
    assert.throws(() => createClusterState(defaultClusterConfig(`t-q-${tag}`, 1), dir), new RegExp(`--persistent .*: overlaps the state of cluster ${name} `));
    assert.throws(() => createClusterState(defaultClusterConfig(`t-q-${tag}`, 1), 'relative/dir'), /--persistent relative\/dir: not an absolute path/);
  } finally {
    await deleteCluster(name, kc);
  }
  assert.not.ok(existsSync(dir));
  assert.not.ok(existsSync(clusterNames(name).stateDir));
});

test('a node subnet that overlaps a host route is refused before anything is made', async () => {
  const link = `skt${tag}`;
  const name = `t-c-${tag}`;
  assert.is(spawnSync('sh', ['-c', `ip link add ${link} type bridge && ip addr add 10.77.${parseInt(tag.slice(0, 2), 16)}.1/24 dev ${link} && ip link set ${link} up`]).status, 0);
  try {
    const c = parseClusterConfig(`apiVersion: sifkube.io/v1alpha1\nkind: Cluster\nname: ${name}\nnetworking: {nodeSubnet: 10.77.0.0/16}\n`, 'c.yaml');
    try {
      createClusterState(c);
      assert.unreachable('clash accepted');
    } catch (err) {
      assert.instance(err, SubnetClashError);
      assert.match((err as Error).message, new RegExp(`nodeSubnet 10\\.77\\.0\\.0/16 overlaps the host route 10\\.77\\.\\d+\\.0/24 dev ${link} .*\\(dev ${link}\\): choose another subnet`));
    }
    assert.not.ok(existsSync(clusterNames(name).stateDir), 'nothing made');
  } finally {
    spawnSync('ip', ['link', 'del', link]);
  }
});

test('a damaged or foreign state file is a clear error; delete still cleans up', async () => {
  const name = `t-d-${tag}`;
  createClusterState(defaultClusterConfig(name, 1));
  const file = join(clusterNames(name).stateDir, 'state.json');
  try {
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), stateVersion: 99 }));
    assert.throws(() => readClusterState(name), (e: unknown) => e instanceof ClusterStateError && /state version 99 is not 1: delete the cluster/.test((e as Error).message));
    writeFileSync(file, '{');
    assert.throws(() => readClusterState(name), /state\.json: unreadable/);
  } finally {
    await deleteCluster(name, kc);
  }
  assert.not.ok(existsSync(clusterNames(name).stateDir));
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
