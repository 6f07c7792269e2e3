import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import {
  attachNode,
  addNodeNetns,
  cgroupMounts,
  clusterLeftovers,
  deleteCluster,
  parseClusterConfig,
  prepareCluster,
  readClusterState,
  writeClusterState,
  readSysctl,
  ClusterExistsError,
  HostSetupError,
  HostPortInUseError,
  clusterDirNames,
  defaultRouteDevices,
  type PreparedCluster,
} from '../../src/cluster/index.js';
import { clusterNames } from '../../src/cluster/index.js';
import { hostSnapshot, diffSnapshots } from '../helpers/leaks.js';

const name = `t-net-${randomBytes(3).toString('hex')}`;
const id = clusterNames(name).id;

/** Host objects that belong to this test's cluster (other helpers' tests run at the same time). */
function ours(diff: string[]): string[] {
  return diff.filter((l) => l.includes(name) || l.includes(id));
}
const kubeconfig = `/tmp/${name}-kubeconfig`;

function iptablesDump(): string {
  // Only lines of this cluster: other helpers' tests add their own rules at the same time.
  const all = ['nat', 'filter'].map((t) => spawnSync('iptables', ['-w', '-t', t, '-S'], { encoding: 'utf8' }).stdout).join('');
  return all
    .split('\n')
    .filter((l) => l.includes(id) || l.includes(name))
    .join('\n');
}

function sh(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

const config = parseClusterConfig(
  `apiVersion: sifkube.io/v1alpha1\nkind: Cluster\nname: ${name}\nnodes:\n- role: control-plane\n  extraPortMappings: [{containerPort: 8080, hostPort: 38080}]\n- role: worker\n- role: worker\n`,
  'test',
);

test('prepare + 3 node namespaces: ping across nodes and pod CIDRs, port mapping; delete restores the host exactly', async () => {
  const before = hostSnapshot();
  const ipt = iptablesDump();
  let prepared: PreparedCluster | undefined;
  let server: ReturnType<typeof spawn> | undefined;
  try {
    prepared = await prepareCluster(config);
    const plan = prepared.state.plan;
    // tmpfs state folder holding the state file
    assert.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(`${plan.names.stateDir} [^\\n]* - tmpfs sifkube-${name}`));
    assert.is(readClusterState(name).plan.bridge.name, plan.bridge.name);
    assert.is(readFileSync(`/proc/sys/net/ipv4/conf/${plan.bridge.name}/forwarding`, 'utf8').trim(), '1');
    for (const m of cgroupMounts()) for (const n of plan.nodes) assert.ok(existsSync(join(m, n.cgroupRoot)), `${m}${n.cgroupRoot}`);
    const netns = plan.nodes.map((n) => addNodeNetns(plan.names, n));
    plan.nodes.forEach((n, i) => attachNode(plan, n, netns[i]));
    // A "pod" address in every node's pod CIDR, on lo, stands for a pod behind the CNI bridge.
    plan.nodes.forEach((n, i) => {
      const pod = n.podCIDR.replace(/0\/24$/, '10');
      assert.ok(sh('nsenter', [`--net=${netns[i]}`, 'ip', 'addr', 'add', `${pod}/32`, 'dev', 'lo']).ok);
    });
    const ping = (from: string, to: string) => sh('nsenter', [`--net=${from}`, 'busybox', 'ping', '-c', '1', '-W', '2', to]);
    assert.ok(ping(netns[0], plan.nodes[2].address).ok, 'node 0 → node 2');
    assert.ok(ping(netns[2], plan.nodes[1].address).ok, 'node 2 → node 1');
    assert.ok(ping(netns[0], plan.nodes[2].podCIDR.replace(/0\/24$/, '10')).ok, 'node 0 → pod on node 2');
    assert.ok(ping(netns[1], plan.bridge.address).ok, 'node 1 → host bridge');
    assert.ok(sh('busybox', ['ping', '-c', '1', '-W', '2', plan.nodes[1].podCIDR.replace(/0\/24$/, '10')]).ok, 'host → pod on node 1');
    // Port mapping: host port 38080 on the host's addresses reaches port 8080 of the control-plane node.
    server = spawn('nsenter', [`--net=${netns[0]}`, process.execPath, '-e', `require('http').createServer((q,s)=>s.end('node0')).listen(8080,'${plan.nodes[0].address}',()=>console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => server!.stdout!.once('data', r));
    const body = await (await fetch(`http://${plan.bridge.address}:38080/`)).text();
    assert.is(body, 'node0');
    // …and on 127.0.0.1: OUTPUT DNAT, the loopback source masqueraded onto the bridge.
    assert.is(await (await fetch('http://127.0.0.1:38080/')).text(), 'node0');
    assert.match(iptablesDump(), new RegExp(`-A SIFKUBE-${plan.names.id}-NAT -s 127.0.0.0/8 -d ${plan.nodes[0].address}/32 -o ${plan.bridge.name} -p tcp -m tcp --dport 8080 -j MASQUERADE`));
    assert.match(iptablesDump(), new RegExp(`-A POSTROUTING -m comment --comment "sifkube cluster ${name}" -j SIFKUBE-${plan.names.id}-NAT`));
    // delete must also restore the sysctls the kubelets would have changed
    const state = readClusterState(name);
    state.sysctls = { ...state.sysctls!, 'kernel.panic': String(Number(readSysctl('kernel.panic')) + 7) };
    const panic = readSysctl('kernel.panic');
    state.sysctls['kernel.panic'] = panic;
    spawnSync('sysctl', ['-qw', `kernel.panic=${Number(panic) + 7}`]);
    writeClusterState(state);
    const report = await deleteCluster(name, kubeconfig);
    prepared = undefined;
    assert.ok(report.processes >= 1, 'the server in node 0 was killed');
    assert.equal(report.sysctls, ['kernel.panic']);
    assert.is(readSysctl('kernel.panic'), panic);
    assert.ok(report.links.includes(plan.bridge.name));
    assert.equal(report.netns.length, 3);
    assert.ok(report.iptables);
    assert.ok(report.stateDir);
  } finally {
    server?.kill('SIGKILL');
    if (prepared) await deleteCluster(name, kubeconfig).catch((e) => console.error(e));
  }
  assert.equal(clusterLeftovers(name), []);
  assert.equal(ours(diffSnapshots(before, hostSnapshot())), []);
  assert.equal(ours(diffSnapshots(hostSnapshot(), before)), []);
  assert.is(iptablesDump(), ipt, 'iptables exactly as before');
});

test('the last delete removes the folders the first cluster made', async () => {
  if (clusterDirNames().length > 0 || existsSync('/var/lib/sifkube/clusters.lock')) return; // other clusters on this host: nothing to check
  const hadRoot = existsSync('/var/lib/sifkube');
  await prepareCluster(config);
  await deleteCluster(name, kubeconfig);
  assert.not.ok(existsSync('/var/lib/sifkube/clusters'));
  if (!hadRoot) assert.not.ok(existsSync('/var/lib/sifkube'));
});

test('delete removes a half-made cluster with no state file (failed init)', async () => {
  const before = hostSnapshot();
  const ipt = iptablesDump();
  const prepared = await prepareCluster(config);
  const plan = prepared.state.plan;
  addNodeNetns(plan.names, plan.nodes[1]);
  // A process left in a node cgroup, as a kubelet would leave one.
  const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
  const cg = join(cgroupMounts().find((m) => m.endsWith('/pids'))!, plan.nodes[1].cgroupRoot, 'stray');
  mkdirSync(cg);
  spawnSync('sh', ['-c', `echo ${sleeper.pid} > ${cg}/cgroup.procs`]);
  spawnSync('rm', ['-f', join(plan.names.stateDir, 'state.json')]);
  try {
    const report = await deleteCluster(name, kubeconfig);
    assert.ok(report.processes >= 1);
    assert.ok(report.cgroups > 5);
  } finally {
    sleeper.kill('SIGKILL');
  }
  assert.equal(clusterLeftovers(name), []);
  assert.equal(ours(diffSnapshots(before, hostSnapshot())), []);
  assert.is(iptablesDump(), ipt);
});

test('a host port a host process listens on is refused before anything is made', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const busy = `${name}p`;
  try {
    await prepareCluster({ ...config, name: busy, nodes: [{ ...config.nodes[0], extraPortMappings: [{ containerPort: 80, hostPort: port, protocol: 'TCP' }] }] });
    assert.unreachable('a busy host port was mapped');
  } catch (err) {
    assert.instance(err, HostPortInUseError);
    assert.is((err as HostPortInUseError).exitCode, 97);
    assert.is((err as Error).message, `host port TCP/${port} (nodes[0].extraPortMappings[0].hostPort) is already in use on the host (a process listens there): stop that process or pick another hostPort (--port HOST:NODEPORT)`);
  } finally {
    server.close();
  }
  assert.not.ok(existsSync(clusterNames(busy).stateDir));
  assert.equal(clusterLeftovers(busy), []);
});

test('delete of cluster "x" leaves cluster "x2" (and its processes) alone', async () => {
  const other = `${name}2`;
  const uplinks = defaultRouteDevices();
  const forwarding = () => uplinks.map((d) => readFileSync(`/proc/sys/net/ipv4/conf/${d}/forwarding`, 'utf8').trim());
  const original = forwarding();
  await prepareCluster(config);
  const clash = { ...config, name: other };
  try {
    await prepareCluster(clash);
    assert.unreachable('host port mapped twice');
  } catch (err) {
    assert.match((err as Error).message, new RegExp(`nodes\\[0\\]\\.extraPortMappings\\[0\\]\\.hostPort: host port TCP/38080 is already mapped by cluster ${name}: pick another hostPort`));
  }
  const { state } = await prepareCluster({ ...config, name: other, nodes: config.nodes.map((n) => ({ ...n, extraPortMappings: [] })) });
  const sleeper = spawn('sh', ['-c', 'sleep 300', `${state.plan.names.stateDir}/marker`], { stdio: 'ignore' });
  try {
    assert.equal(forwarding(), uplinks.map(() => '1'));
    await deleteCluster(name, kubeconfig);
    assert.ok(readClusterState(other), 'the other cluster keeps its state');
    assert.equal(forwarding(), uplinks.map(() => '1'), 'the other cluster still needs its uplink');
    assert.is(sleeper.exitCode, null);
    assert.ok(spawnSync('kill', ['-0', String(sleeper.pid)]).status === 0, 'its process lives');
  } finally {
    await deleteCluster(other, kubeconfig);
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(sleeper.exitCode !== null || sleeper.signalCode !== null, 'deleting the other cluster killed it');
  assert.equal(forwarding(), original, 'the host\'s own value is back');
});

test('egress: a node reaches the outside through NAT on the uplink, whose forwarding delete restores', async () => {
  // The "outside": a network namespace behind a veth that plays the host's uplink.
  const outside = `${clusterNames(name).netnsPrefix}outside`;
  const uplink = `${clusterNames(name).linkPrefix}x0`;
  const outer = `10.99.${parseInt(id.slice(0, 2), 16)}`;
  const ok = (cmd: string) => spawnSync('sh', ['-c', cmd]).status === 0;
  try {
    assert.ok(ok(`ip netns add ${outside} && ip link add ${uplink} type veth peer name eth0 netns /run/netns/${outside}`));
    assert.ok(ok(`ip addr add ${outer}.1/30 dev ${uplink} && ip link set ${uplink} up && ip -n ${outside} addr add ${outer}.2/30 dev eth0 && ip -n ${outside} link set eth0 up`));
    // Off, as on a host that does not route (a new link copies conf/default, which other software may have turned on).
    writeFileSync(`/proc/sys/net/ipv4/conf/${uplink}/forwarding`, '0');
    const { state } = await prepareCluster({ ...config, nodes: config.nodes.slice(0, 1) }, { uplinks: [uplink] });
    assert.equal(state.uplinks, { [uplink]: '0' });
    const plan = state.plan;
    const ns = addNodeNetns(plan.names, plan.nodes[0]);
    attachNode(plan, plan.nodes[0], ns);
    assert.is(readFileSync(`/proc/sys/net/ipv4/conf/${uplink}/forwarding`, 'utf8').trim(), '1');
    const ping = sh('nsenter', [`--net=${ns}`, 'busybox', 'ping', '-c', '1', '-W', '2', `${outer}.2`]);
    assert.ok(ping.ok, `node → outside: ${ping.out}`);
    // The outside sees the host's uplink address, not the node's (masquerade).
    const seen = sh('ip', ['netns', 'exec', outside, 'ip', 'neigh', 'show', 'dev', 'eth0']);
    assert.match(seen.out, new RegExp(`${outer.replace(/\./g, '\\.')}\\.1 `));
    // Restored before the cluster's links go (this test's uplink is one of them: it has their prefix).
    const report = await deleteCluster(name, kubeconfig);
    assert.equal(report.uplinks, [uplink]);
  } finally {
    await deleteCluster(name, kubeconfig);
  }
  assert.equal(clusterLeftovers(name), []);
});

test('a prepare that fails half-way removes what it made and says what failed', async () => {
  const ipt = iptablesDump();
  // A chain of the cluster's name already there makes the network step fail after state, PKI and cgroups.
  spawnSync('iptables', ['-w', '-t', 'nat', '-N', `SIFKUBE-${id}-NAT`]);
  try {
    await prepareCluster(config);
    assert.unreachable('prepare succeeded');
  } catch (err) {
    assert.instance(err, HostSetupError);
    assert.match((err as Error).message, new RegExp(`adding iptables chains SIFKUBE-${id}-NAT, .* failed: .*Chain already exists.*: run \`sifkube doctor\`, then \`sifkube delete\` to clean up`));
  }
  assert.equal(clusterLeftovers(name), []);
  assert.is(iptablesDump(), ipt);
});

test('a name clash is refused before anything is made; delete of nothing is fine', async () => {
  await prepareCluster(config);
  try {
    await prepareCluster(config);
    assert.unreachable('second cluster with the same name');
  } catch (err) {
    assert.instance(err, ClusterExistsError);
    assert.match((err as Error).message, new RegExp(`cluster "${name}" already exists`));
  } finally {
    await deleteCluster(name, kubeconfig);
  }
  const r = await deleteCluster(name, kubeconfig);
  assert.is(r.links.length + r.netns.length + r.processes, 0);
});

test.run();
