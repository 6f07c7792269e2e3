import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status as S } from '@grpc/grpc-js';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { codeOf, deleteLink, removeAllPods, podConfig, startTestCri, writeBridgeConflist, type TestCri } from '../helpers/cri.js';

let cri: TestCri;
let net: { bridge: string; subnet: string; gateway: string };
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

test.before(async () => {
  cri = await startTestCri();
  net = writeBridgeConflist(cri);
});
test.after(async () => {
  await removeAllPods(cri);
  await cri.dispose();
  deleteLink(net.bridge);
  writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
});

function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
}

function inNs(path: string, argv: string[]): string {
  return execFileSync('nsenter', [`--net=${path}`, ...argv], { encoding: 'utf8' });
}

function ipamFiles(): string[] {
  const dir = join(cri.config.stateDir, 'ipam');
  return existsSync(dir) ? readdirSync(join(dir, readdirSync(dir)[0] ?? '')).filter((f) => /^\d/.test(f)) : [];
}

test('RunPodSandbox: a bind-mounted netns, an address from the CNI bridge, pod files; stop and remove leave nothing', async () => {
  const config = podConfig('web', { dnsConfig: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] }, linux: { sysctls: { 'net.ipv4.ping_group_range': '0 2147483647' } } });
  const { podSandboxId: id } = await cri.client.runtime.RunPodSandbox({ config });
  assert.match(id, /^[0-9a-f]{64}$/);
  const st = await cri.client.runtime.PodSandboxStatus({ podSandboxId: id, verbose: true });
  assert.is(st.status.state, 'SANDBOX_READY');
  assert.equal(st.status.metadata, config.metadata);
  assert.equal(st.status.labels, { app: 'web' });
  assert.equal(st.status.annotations, { 'sifkube.test/pod': 'web' });
  const ip = st.status.network.ip;
  assert.ok(ip.startsWith(net.subnet.replace(/0\/24$/, '')), `${ip} in ${net.subnet}`);
  const info = JSON.parse(st.info.info);
  assert.ok(mounted(info.netns), 'netns is a bind mount');
  assert.ok(info.netns.startsWith(`${cri.config.runDir}/netns/`));
  assert.match(inNs(info.netns, ['ip', '-o', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`));
  assert.match(inNs(info.netns, ['ip', '-o', 'link', 'show', 'lo']), /UP/);
  assert.is(inNs(info.netns, ['cat', '/proc/sys/net/ipv4/ping_group_range']).trim().replace(/\s+/g, ' '), '0 2147483647');
  // the host reaches the pod over the bridge
  execFileSync('busybox', ['ping', '-c', '1', '-W', '2', ip], { stdio: 'ignore' });
  assert.is(readFileSync(join(info.podDir, 'hostname'), 'utf8'), 'web\n');
  assert.match(readFileSync(join(info.podDir, 'hosts'), 'utf8'), new RegExp(`${ip}\\tweb`));
  assert.is(readFileSync(join(info.podDir, 'resolv.conf'), 'utf8'), 'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n');
  assert.is(ipamFiles().length, 1);
  const stats = await cri.client.runtime.PodSandboxStats({ podSandboxId: id });
  assert.is(stats.stats.linux.network.defaultInterface.name, 'eth0');
  assert.ok(Number(stats.stats.linux.network.defaultInterface.rxBytes.value) > 0);

  await cri.client.runtime.StopPodSandbox({ podSandboxId: id });
  await cri.client.runtime.StopPodSandbox({ podSandboxId: id }); // idempotent
  const stopped = await cri.client.runtime.PodSandboxStatus({ podSandboxId: id });
  assert.is(stopped.status.state, 'SANDBOX_NOTREADY');
  assert.ok(!mounted(info.netns), 'netns unmounted on stop');
  assert.ok(!existsSync(info.netns));
  assert.is(ipamFiles().length, 0, 'address released once');
  await cri.client.runtime.RemovePodSandbox({ podSandboxId: id });
  await cri.client.runtime.RemovePodSandbox({ podSandboxId: id }); // idempotent
  assert.ok(!existsSync(info.podDir));
  assert.is((await codeOf(cri.client.runtime.PodSandboxStatus({ podSandboxId: id }))).code, S.NOT_FOUND);
  assert.is(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), ipForwardBefore, 'ip_forward put back');
});

test('a pod whose network namespace went away (its node restarted) stops and is removed; its address lease is released', async () => {
  const { podSandboxId: id } = await cri.client.runtime.RunPodSandbox({ config: podConfig('gone') });
  const info = JSON.parse((await cri.client.runtime.PodSandboxStatus({ podSandboxId: id, verbose: true })).info.info);
  assert.is(ipamFiles().length, 1);
  // What a node's restart leaves: the bind mount gone with the node's mount namespace, a plain file in its place.
  execFileSync('umount', [info.netns]);
  assert.ok(existsSync(info.netns) && !mounted(info.netns));
  await cri.client.runtime.StopPodSandbox({ podSandboxId: id });
  assert.is(ipamFiles().length, 0, 'address released');
  await cri.client.runtime.RemovePodSandbox({ podSandboxId: id });
  assert.is((await codeOf(cri.client.runtime.PodSandboxStatus({ podSandboxId: id }))).code, S.NOT_FOUND);
});

test('ListPodSandbox filters by ID prefix, state and labels; a duplicate pod is refused', async () => {
  const a = await cri.client.runtime.RunPodSandbox({ config: podConfig('alpha') });
  const bConfig = podConfig('beta');
  const b = await cri.client.runtime.RunPodSandbox({ config: bConfig });
  const dup = await codeOf(cri.client.runtime.RunPodSandbox({ config: bConfig }));
  assert.is(dup.code, S.ALREADY_EXISTS);
  await cri.client.runtime.StopPodSandbox({ podSandboxId: b.podSandboxId });
  const ids = async (filter: Record<string, unknown>) => (await cri.client.runtime.ListPodSandbox({ filter })).items.map((i: { id: string }) => i.id);
  assert.equal(await ids({}), [a.podSandboxId, b.podSandboxId]);
  assert.equal(await ids({ labelSelector: { app: 'beta' } }), [b.podSandboxId]);
  assert.equal(await ids({ state: { state: 'SANDBOX_READY' } }), [a.podSandboxId]);
  assert.equal(await ids({ id: a.podSandboxId.slice(0, 12) }), [a.podSandboxId]);
  const streamed = await cri.client.runtime.StreamPodSandboxes({});
  assert.equal(streamed.flatMap((m: { podSandboxes: { id: string }[] }) => m.podSandboxes.map((p) => p.id)).sort(), [a.podSandboxId, b.podSandboxId].sort());
  // status by unique prefix, as crictl does
  const st = await cri.client.runtime.PodSandboxStatus({ podSandboxId: a.podSandboxId.slice(0, 12) });
  assert.is(st.status.id, a.podSandboxId);
  await cri.client.runtime.RemovePodSandbox({ podSandboxId: a.podSandboxId });
  await cri.client.runtime.RemovePodSandbox({ podSandboxId: b.podSandboxId });
  assert.equal(await ids({}), []);
});

test('a host-network pod has no namespace of its own and no pod IP', async () => {
  const { podSandboxId: id } = await cri.client.runtime.RunPodSandbox({
    config: podConfig('hostnet', { linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } }),
  });
  const st = await cri.client.runtime.PodSandboxStatus({ podSandboxId: id, verbose: true });
  assert.is(st.status.network.ip, '');
  assert.is(st.status.linux.namespaces.options.network, 'NODE');
  assert.is(JSON.parse(st.info.info).netns, '');
  await cri.client.runtime.StopPodSandbox({ podSandboxId: id });
  await cri.client.runtime.RemovePodSandbox({ podSandboxId: id });
});

test('hostPort: portmap forwards the host port to the pod', async () => {
  const hostPort = 20000 + Math.floor(Math.random() * 20000);
  const { podSandboxId: id } = await cri.client.runtime.RunPodSandbox({
    config: podConfig('ports', { portMappings: [{ protocol: 'TCP', containerPort: 8080, hostPort }] }),
  });
  const st = await cri.client.runtime.PodSandboxStatus({ podSandboxId: id, verbose: true });
  const netns = JSON.parse(st.info.info).netns;
  const server = spawn('nsenter', [`--net=${netns}`, process.execPath, '-e', "require('net').createServer((s)=>s.end('hello from the pod\\n')).listen(8080,()=>console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((r) => server.stdout!.once('data', r));
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = connect(hostPort, net.gateway);
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    assert.is(reply, 'hello from the pod\n');
  } finally {
    server.kill('SIGKILL');
    await cri.client.runtime.StopPodSandbox({ podSandboxId: id });
    await cri.client.runtime.RemovePodSandbox({ podSandboxId: id });
  }
  const rules = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  assert.not.match(rules, new RegExp(`--dport ${hostPort}\\b`), 'portmap rules removed');
});

test('sandboxes survive a restart of the server, and are torn down afterwards from their records', async () => {
  const { podSandboxId: id } = await cri.client.runtime.RunPodSandbox({ config: podConfig('durable') });
  const before = await cri.client.runtime.PodSandboxStatus({ podSandboxId: id, verbose: true });
  await cri.restart();
  const after = await cri.client.runtime.PodSandboxStatus({ podSandboxId: id, verbose: true });
  assert.equal(after.status, before.status);
  await cri.client.runtime.StopPodSandbox({ podSandboxId: id });
  assert.is(ipamFiles().length, 0);
  await cri.client.runtime.RemovePodSandbox({ podSandboxId: id });
});

test('after a restart a pod whose network broke (CNI CHECK fails) is reported not ready', async () => {
  const { podSandboxId: id } = await cri.client.runtime.RunPodSandbox({ config: podConfig('fragile') });
  const netns = JSON.parse((await cri.client.runtime.PodSandboxStatus({ podSandboxId: id, verbose: true })).info.info).netns;
  execFileSync('nsenter', [`--net=${netns}`, 'ip', 'addr', 'flush', 'dev', 'eth0']);
  await cri.restart();
  assert.is((await cri.client.runtime.PodSandboxStatus({ podSandboxId: id })).status.state, 'SANDBOX_NOTREADY');
  await cri.client.runtime.StopPodSandbox({ podSandboxId: id });
  await cri.client.runtime.RemovePodSandbox({ podSandboxId: id });
  assert.is(ipamFiles().length, 0);
});

test('a failing CNI plugin fails RunPodSandbox with its message, and nothing is left', async () => {
  const file = join(cri.config.cni.confDir, '05-broken.conflist');
  writeFileSync(file, JSON.stringify({ cniVersion: '1.0.0', name: 'broken', plugins: [{ type: 'bridge', bridge: net.bridge, ipam: { type: 'host-local', ranges: [[{ subnet: 'not-a-subnet' }]] } }] }));
  try {
    const e = await codeOf(cri.client.runtime.RunPodSandbox({ config: podConfig('broken') }));
    assert.is(e.code, S.UNKNOWN);
    assert.match(e.details, /CNI plugin bridge ADD .* failed: .*not-a-subnet/);
    assert.equal((await cri.client.runtime.ListPodSandbox({})).items, []);
    assert.equal(readdirSync(join(cri.config.runDir, 'netns')), []);
  } finally {
    execFileSync('rm', ['-f', file]);
  }
});

test('UpdateRuntimeConfig writes the conflist for the pod CIDR when configured to, and pods use it', async () => {
  const bridge = `skw${Math.random().toString(16).slice(2, 8)}`;
  const own = await startTestCri({ cni: { binDir: '/usr/lib/cni', confDir: `${cri.config.stateDir}-w/net.d`, writeConfig: { name: 'sifkube-test', bridge } } });
  try {
    const ready = async () => (await own.client.runtime.Status({})).status.conditions.find((c: { type: string }) => c.type === 'NetworkReady').status;
    assert.is(await ready(), false);
    const bad = await codeOf(own.client.runtime.UpdateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: '10.300.0.0/24' } } }));
    assert.is(bad.code, S.INVALID_ARGUMENT);
    await own.client.runtime.UpdateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: '10.77.3.0/24' } } });
    assert.is(await ready(), true);
    const conf = JSON.parse(readFileSync(join(own.config.cni.confDir, '10-sifkube-test.conflist'), 'utf8'));
    assert.is(conf.plugins[0].bridge, bridge);
    const { podSandboxId: id } = await own.client.runtime.RunPodSandbox({ config: podConfig('cidr') });
    const st = await own.client.runtime.PodSandboxStatus({ podSandboxId: id });
    assert.match(st.status.network.ip, /^10\.77\.3\.\d+$/);
    await own.client.runtime.RemovePodSandbox({ podSandboxId: id });
  } finally {
    await own.dispose();
    deleteLink(bridge);
    execFileSync('rm', ['-rf', `${cri.config.stateDir}-w`]);
  }
});

test.run();
