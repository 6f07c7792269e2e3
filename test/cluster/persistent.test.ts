import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bootNodes,
  clusterChains,
  clusterLeftovers,
  clusterLinks,
  clusterNames,
  cniConfList,
  createClusterState,
  defaultClusterConfig,
  deleteCluster,
  etcdArgs,
  nodeLayout,
  nodeRuntimeRoot,
  parseClusterConfig,
  portsInUse,
  prepareCluster,
  readSupervisorStatus,
  removeClusterCgroups,
  removeClusterRules,
  resolveEtcd,
  until,
  type ClusterPlan,
  type NodePlan,
} from '../../src/cluster/index.js';
import { criClient } from '../../src/cri/index.js';
import { buildSif } from '../../src/sif/index.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { BIN, makeRootfs } from '../helpers/sif.js';
import { podConfig } from '../helpers/cri.js';

const tag = randomBytes(3).toString('hex');
/** Persistent folders live on disk, not under /tmp (refused: every node mounts its own /tmp). */
const DISK = '/var/tmp';
const kc = `/tmp/sk-persist-${tag}-kubeconfig`;
const sifkube = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const b64 = (s: string) => Buffer.from(s).toString('base64');

function etcdCall(plan: ClusterPlan, op: 'put' | 'range', body: Record<string, string>) {
  const script = `fetch('http://127.0.0.1:2379/v3/kv/${op}', { method: 'POST', body: ${JSON.stringify(JSON.stringify(body))} }).then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, (e) => { console.error(e); process.exit(1); })`;
  return spawnSync('ip', ['netns', 'exec', `${plan.names.netnsPrefix}0`, process.execPath, '-e', script], { encoding: 'utf8' });
}

async function imagesOn(plan: ClusterPlan, node: NodePlan): Promise<string[]> {
  const c = criClient(nodeLayout(plan, node).criSocket);
  try {
    return (await c.image.ListImages({})).images.flatMap((i: { repoTags: string[] }) => i.repoTags);
  } finally {
    c.close();
  }
}

/** A host port nothing listens on, in a range tests rarely use. */
function freePort(): number {
  const used = portsInUse('TCP');
  for (;;) {
    const p = 41000 + Math.floor(Math.random() * 4000);
    if (!used.has(p)) return p;
  }
}

const etcdOnly = (plan: ClusterPlan) => (n: NodePlan) =>
  n.role === 'control-plane' ? [{ name: 'etcd', command: resolveEtcd(), args: etcdArgs(n.name, nodeLayout(plan, n).etcdData), health: { url: 'http://127.0.0.1:2379/health' } }] : [];

/** A listener on port 8080 of a node, started through `sifkube exec` (the node's own namespaces). */
async function listenInNode(cluster: string, node: string, answer: string) {
  const child = spawn(process.execPath, [BIN, 'exec', '--name', cluster, node, '--', process.execPath, '-e', `require('http').createServer((q,s)=>s.end('${answer}')).listen(8080,()=>console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout!.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`listener in ${node} exited ${code}`)));
  });
  return child;
}

const curl = (port: number) => spawnSync('curl', ['-sS', '-m', '5', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });

test('--persistent DIR: bad folders are refused with one line naming DIR and the fix, nothing made', async () => {
  const work = mkdtempSync(join(DISK, 'sk-persist-bad-'));
  const other = `t-pb-${tag}`;
  const name = `t-pn-${tag}`;
  const overlay = join(work, 'ovl');
  try {
    createClusterState(defaultClusterConfig(other, 1), join(work, 'other'));
    const full = join(work, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'notes.txt'), 'mine');
    const copied = join(work, 'copied');
    mkdirSync(copied);
    copyFileSync(join(work, 'other', 'state.json'), join(copied, 'state.json'));
    const file = join(work, 'file');
    writeFileSync(file, '');
    // An overlay cannot be the upper layer of another overlay: a folder on one is refused.
    for (const d of ['l', 'u', 'w', 'm']) mkdirSync(join(overlay, d), { recursive: true });
    assert.is(spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${overlay}/l,upperdir=${overlay}/u,workdir=${overlay}/w`, `${overlay}/m`]).status, 0);
    const cases: [string, RegExp][] = [
      ['relative/dir', /^--persistent relative\/dir: not an absolute path: pass an absolute folder path$/],
      [file, /: not a folder: pass a folder path/],
      [full, /\/full: not empty and not a sifkube state: pass an empty or new folder$/],
      [copied, new RegExp(`/copied: holds the state of sifkube cluster ${other}: start that cluster from it with \`sifkube start --name ${other} --persistent .*/copied\`, or pass an empty folder$`)],
      [join(work, 'other', 'nodes'), new RegExp(`: overlaps the state of cluster ${other} \\(.*\\): pass a folder outside every cluster's state$`)],
      [join(tmpdir(), `sk-persist-${tag}`), /: lies under \/tmp, which every node mounts its own of: pass a folder elsewhere, e.g. under \/var\/lib or \/srv$/],
      ['/var/lib/sifkube/mine', /overlaps sifkube's own folder \/var\/lib\/sifkube: pass a folder outside it$/],
      [join(overlay, 'm', 'state'), /\/m\/state: its filesystem \(overlayfs\) cannot hold an overlay upper layer \(.*\): pass a folder on ext4, xfs, btrfs or tmpfs$/],
    ];
    for (const [dir, re] of cases) {
      try {
        createClusterState(defaultClusterConfig(name, 1), dir);
        assert.unreachable(`${dir} accepted`);
      } catch (err) {
        assert.instance(err, Error);
        assert.match((err as Error).message, re);
        assert.is((err as { exitCode?: number }).exitCode, 98, dir);
      }
      assert.not.ok(existsSync(clusterNames(name).stateDir), dir);
    }
    assert.not.ok(existsSync(join(overlay, 'm', 'state')), 'the refused folder sifkube made is gone');
    assert.equal(readFileSync(join(full, 'notes.txt'), 'utf8'), 'mine');
  } finally {
    spawnSync('umount', [`${overlay}/m`]);
    await deleteCluster(other, kc);
    rmSync(work, { recursive: true, force: true });
  }
});

test('--persistent DIR: nodes boot from it; after stop and a simulated reboot, start brings back etcd data, images (--nodes) and 127.0.0.1 port maps', async () => {
  const before = hostSnapshot();
  const name = `t-per-${tag}`;
  const work = mkdtempSync(join(DISK, 'sk-persist-'));
  const dir = join(work, 'state');
  const hostPort = freePort();
  const config = parseClusterConfig(`apiVersion: sifkube.io/v1alpha1\nkind: Cluster\nname: ${name}\nnodes:\n- role: control-plane\n  extraPortMappings: [{containerPort: 8080, hostPort: ${hostPort}}]\n- role: worker\n`, 'test');
  let deleted = false;
  let listener: ReturnType<typeof spawn> | undefined;
  const { state } = await prepareCluster(config, { persistentDir: dir });
  const plan = state.plan;
  const [cp, worker] = plan.nodes;
  try {
    assert.ok(lstatSync(plan.names.stateDir).isSymbolicLink());
    assert.not.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(`tmpfs sifkube-${name}`), 'no tmpfs');
    await bootNodes(plan, plan.nodes, etcdOnly(plan));
    assert.ok(existsSync(join(dir, 'nodes', cp.name, 'etcd')), 'etcd data on disk');
    const list = JSON.parse(sifkube('list', '--json').stdout).find((c: { name: string }) => c.name === name);
    assert.is(list.state, dir);
    assert.is(JSON.parse(sifkube('status', '--name', name, '--json').stdout).persistentDir, dir);
    assert.match(sifkube('status', '--name', name).stdout, new RegExp(`state persistent in ${dir}`));

    // image load --nodes: one copy in the store; only the worker's CRI lists it.
    const sif = join(work, 'cats.sif');
    buildSif({ rootfs: makeRootfs(join(work, 'img')), out: sif, deterministic: true, imageConfig: { cmd: ['sh'] } });
    const unknown = sifkube('image', 'load', '--name', name, sif, '--nodes', `${worker.name},nope`);
    assert.is(unknown.status, 83, unknown.stderr);
    assert.match(unknown.stderr, /has no node "nope": use one of /);
    const empty = sifkube('image', 'load', '--name', name, sif, '--nodes', `${worker.name},`);
    assert.is.not(empty.status, 0);
    assert.match(empty.stderr, /--nodes .* has an empty node name/);
    const loaded = sifkube('image', 'load', '--name', name, sif, '--tag', 'example.org/cats:v1', '--nodes', worker.name);
    assert.is(loaded.status, 0, loaded.stderr);
    assert.match(loaded.stdout, new RegExp(`for nodes ${worker.name}`));
    assert.equal(await imagesOn(plan, worker), ['example.org/cats:v1']);
    assert.equal(await imagesOn(plan, cp), []);
    const c = criClient(nodeLayout(plan, cp).criSocket);
    try {
      const st = await c.image.ImageStatus({ image: { image: 'example.org/cats:v1' } });
      assert.is(st.image, null, 'the control plane does not resolve it');
    } finally {
      c.close();
    }
    assert.equal(JSON.parse(sifkube('image', 'list', '--name', name, '--json').stdout).map((i: { nodes: unknown }) => i.nodes), [[worker.name]]);

    // A pod on the worker runs that image; its log (as the kubelet's pod logs) is in DIR, on disk.
    const wl = nodeLayout(plan, worker);
    mkdirSync(wl.cniConfDir, { recursive: true });
    writeFileSync(wl.cniConfFile, JSON.stringify(cniConfList(worker, wl)));
    const w = criClient(wl.criSocket);
    try {
      const pod = (await w.runtime.RunPodSandbox({ config: podConfig('persisted', { logDirectory: join(wl.dir, 'pods', 'persisted') }) })).podSandboxId;
      const config = { metadata: { name: 'c', attempt: 0 }, image: { image: 'example.org/cats:v1' }, command: ['sh', '-c', 'echo on-disk; echo on-disk > /written; exec busybox sleep 300'], logPath: 'c.log' };
      const { containerId } = await w.runtime.CreateContainer({ podSandboxId: pod, config, sandboxConfig: {} });
      await w.runtime.StartContainer({ containerId });
      await until('the container wrote its file', 10_000, 'see cri.log', async () => (await w.runtime.ExecSync({ containerId, cmd: ['cat', '/written'], timeout: 5 })).stdout.toString() === 'on-disk\n');
      assert.match(readFileSync(join(dir, 'nodes', worker.name, 'pods', 'persisted', 'c.log'), 'utf8'), / stdout F on-disk\n/);
    } finally {
      w.close();
    }

    // A mapped host port answers on 127.0.0.1 (OUTPUT DNAT, loopback masquerade, route_localnet on the bridge).
    listener = await listenInNode(name, cp.name, 'from-cp');
    assert.is(curl(hostPort).stdout, 'from-cp', curl(hostPort).stderr);
    assert.is(readFileSync(`/proc/sys/net/ipv4/conf/${plan.bridge.name}/route_localnet`, 'utf8').trim(), '1');
    listener.kill('SIGKILL');
    listener = undefined;

    const status = () => readSupervisorStatus(nodeLayout(plan, cp).supervisorStatus).components[0];
    await until('etcd healthy', 30_000, 'see etcd.log', () => status()?.healthy === true);
    assert.is(etcdCall(plan, 'put', { key: b64('persist'), value: b64(tag) }).status, 0);

    // stop, then what a host reboot takes away: /run state, bridge, iptables rules, cgroups.
    const stopped = sifkube('stop', '--name', name);
    assert.is(stopped.status, 0, stopped.stderr);
    rmSync(`/run/sifkube/clusters/${name}`, { recursive: true, force: true });
    assert.is(spawnSync('ip', ['link', 'delete', plan.bridge.name]).status, 0);
    assert.ok(removeClusterRules(plan.names));
    removeClusterCgroups(plan.names);
    assert.equal(clusterLinks(plan.names), []);
    assert.equal(clusterChains(plan.names), []);
    assert.not.ok(existsSync(nodeRuntimeRoot(plan.names)));

    // …and even /var/lib/sifkube lost track of it: `start --persistent DIR` takes it back.
    rmSync(plan.names.stateDir);
    assert.is(sifkube('status', '--name', name).status, 82);
    const wrong = sifkube('start', '--name', `${name}x`, '--persistent', dir);
    assert.is(wrong.status, 98);
    assert.match(wrong.stderr, new RegExp(`^sifkube: --persistent ${dir}: holds the state of cluster ${name}, not ${name}x: pass --name ${name}$`, 'm'));
    const started = sifkube('start', '--name', name, '--persistent', dir);
    assert.is(started.status, 0, started.stderr);
    await until('etcd healthy again', 30_000, 'see etcd.log', () => status()?.healthy === true);
    const get = etcdCall(plan, 'range', { key: b64('persist') });
    assert.is(Buffer.from(JSON.parse(get.stdout).kvs[0].value, 'base64').toString(), tag, get.stderr);
    assert.equal(await imagesOn(plan, worker), ['example.org/cats:v1']);
    assert.equal(await imagesOn(plan, cp), []);
    listener = await listenInNode(name, cp.name, 'back');
    assert.is(curl(hostPort).stdout, 'back', curl(hostPort).stderr);
    listener.kill('SIGKILL');
    listener = undefined;

    const report = await deleteCluster(name, kc);
    deleted = true;
    assert.is(report.containers.length, 2);
    assert.not.ok(existsSync(dir), 'delete removes the folder sifkube made');
    assert.not.ok(curl(hostPort).status === 0, 'the port map is gone');
  } finally {
    listener?.kill('SIGKILL');
    if (!deleted) await deleteCluster(name, kc);
    rmSync(work, { recursive: true, force: true });
  }
  assert.equal(clusterLeftovers(name), []);
  const ours = (l: string) => l.includes(name) || l.includes(clusterNames(name).id) || l.includes(tag);
  assert.equal(diffSnapshots(before, hostSnapshot()).filter(ours), []);
});

test('runc as the oracle: it boots a node from a persistent folder reached through links too', async () => {
  const name = `t-prc-${tag}`;
  const work = mkdtempSync(join(DISK, 'sk-persist-runc-'));
  // The folder's own path goes through a link: runc refuses a root path with one, so paths must be real.
  mkdirSync(join(work, 'real'));
  symlinkSync(join(work, 'real'), join(work, 'via'));
  const dir = join(work, 'via', 'state');
  try {
    const { state } = await prepareCluster(defaultClusterConfig(name, 1), { persistentDir: dir });
    await bootNodes(state.plan, state.plan.nodes, () => [], 'runc');
    assert.match(readFileSync(`${nodeRuntimeRoot(state.plan.names)}/runtime`, 'utf8'), /^runc$/);
    assert.equal(await imagesOn(state.plan, state.plan.nodes[0]), []);
    assert.is(sifkube('exec', '--name', name, state.plan.nodes[0].name, '--', 'hostname').stdout.trim(), state.plan.nodes[0].name);
  } finally {
    await deleteCluster(name, kc);
    rmSync(work, { recursive: true, force: true });
  }
  assert.equal(clusterLeftovers(name), []);
});

test('delete of a persistent cluster empties a folder the user made but keeps it', async () => {
  const name = `t-pk-${tag}`;
  const dir = mkdtempSync(join(DISK, 'sk-persist-own-'));
  try {
    createClusterState(defaultClusterConfig(name, 1), dir);
    assert.ok(existsSync(join(dir, 'state.json')));
  } finally {
    await deleteCluster(name, kc);
  }
  assert.ok(existsSync(dir));
  assert.equal(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout, '');
  rmSync(dir, { recursive: true, force: true });
  assert.equal(clusterLeftovers(name), []);
});

test.run();
