import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  KUBE_BINARIES,
  addNodeNetns,
  apiServerArgs,
  attachNode,
  defaultClusterConfig,
  deleteCluster,
  kubeletConfiguration,
  nodeLayout,
  pkiPaths,
  planCluster,
  prepareCluster,
  resolveEtcd,
  resolveKubernetes,
  writeNodeFiles,
  CNI_BIN_DIRS,
} from '../../src/cluster/index.js';

const work = mkdtempSync(join(tmpdir(), 'sk-comp-'));

/** A bin dir of stand-ins that answer --version like the release binaries (only versions are read). */
function binDir(version: string): string {
  const dir = join(work, version);
  mkdirSync(dir);
  for (const b of KUBE_BINARIES) {
    writeFileSync(join(dir, b), `#!/bin/sh\necho "Kubernetes ${version}"\n`);
    chmodSync(join(dir, b), 0o755);
  }
  return dir;
}

const plan = planCluster(defaultClusterConfig('comp', 3), []);
const pki = pkiPaths(plan.names.stateDir);

test('kubelet configuration: our CRI socket, cgroupfs, own cgroupRoot, authn/authz, DNS, taints', () => {
  const cp = plan.nodes[0];
  const layout = nodeLayout(plan, cp);
  const k = kubeletConfiguration(plan, cp, pki, layout, 'v1.31.4');
  assert.is(k.kind, 'KubeletConfiguration');
  assert.is(k.apiVersion, 'kubelet.config.k8s.io/v1beta1');
  assert.is(k.containerRuntimeEndpoint, `unix://${layout.criSocket}`);
  // The longest cluster name with a long node name still gives a socket path a unix socket can have.
  const long = planCluster(defaultClusterConfig('a'.repeat(40), 2), []);
  assert.ok(Buffer.byteLength(nodeLayout(long, long.nodes[0]).criSocket) <= 107);
  assert.is(k.cgroupDriver, 'cgroupfs');
  assert.is(k.cgroupRoot, '/sifkube-comp/comp-control-plane');
  assert.is(k.failSwapOn, false);
  assert.equal(k.authentication, { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.ca.cert } });
  assert.equal(k.authorization, { mode: 'Webhook' });
  assert.equal(k.clusterDNS, ['10.96.0.10']);
  assert.is(k.clusterDomain, 'cluster.local');
  assert.equal(k.registerWithTaints, [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
  assert.is(k.failCgroupV1, false, '1.31+ would refuse a v1 host otherwise');
  const old = kubeletConfiguration(plan, plan.nodes[1], pki, nodeLayout(plan, plan.nodes[1]), 'v1.28.7');
  assert.is(old.failCgroupV1, undefined, '1.28 has no failCgroupV1 field');
  assert.equal(old.registerWithTaints, []);
});

test('kube-apiserver flags are those KUBERNETES.md lists', () => {
  const args = apiServerArgs(plan, pki);
  for (const f of ['--etcd-servers=http://127.0.0.1:2379', '--secure-port=6443', `--advertise-address=${plan.nodes[0].address}`, '--authorization-mode=Node,RBAC', '--allow-privileged=true', '--service-cluster-ip-range=10.96.0.0/12', '--kubelet-preferred-address-types=InternalIP,Hostname']) {
    assert.ok(args.includes(f), f);
  }
  for (const f of ['--tls-cert-file', '--tls-private-key-file', '--client-ca-file', '--service-account-key-file', '--service-account-signing-key-file', '--service-account-issuer', '--kubelet-client-certificate', '--kubelet-client-key', '--bind-address']) {
    assert.ok(args.some((a) => a.startsWith(`${f}=`)), f);
  }
});

test('node files: components per role, with the version the binaries report', async () => {
  const dist = await resolveKubernetes({ version: 'v1.30.2', binDir: binDir('v1.30.2') });
  const base = join(work, 'state');
  const p2 = { ...plan, names: { ...plan.names, stateDir: base } };
  const cp = writeNodeFiles(p2, p2.nodes[0], pki, dist, resolveEtcd());
  assert.equal(cp.components.map((c) => c.name), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'cluster-dns', 'kubelet', 'kube-proxy']);
  assert.equal(cp.components.map((c) => c.after ?? []), [[], [], ['kube-apiserver'], ['kube-apiserver'], ['kube-apiserver'], [], []]);
  const worker = writeNodeFiles(p2, p2.nodes[1], pki, dist, resolveEtcd());
  const deep = { ...plan, names: { ...plan.names, stateDir: join(work, 'x'.repeat(90)) } };
  assert.throws(() => writeNodeFiles(deep, deep.nodes[0], pki, dist, resolveEtcd()), /--name: name: the node socket path .* is longer than 107 bytes: use a shorter cluster name/);
  assert.equal(worker.components.map((c) => c.name), ['kubelet', 'kube-proxy']);
  const kubelet = worker.components.find((c) => c.name === 'kubelet')!;
  assert.is(kubelet.command, dist.paths.kubelet);
  assert.ok(kubelet.args.includes('--hostname-override=comp-worker'));
  assert.ok(kubelet.args.includes(`--node-ip=${p2.nodes[1].address}`));
  const cfg = parse(readFileSync(worker.layout.kubeletConfig, 'utf8'));
  assert.is(cfg.podCIDR, p2.nodes[1].podCIDR);
  assert.not.ok('failCgroupV1' in cfg);
  const proxy = parse(readFileSync(worker.layout.kubeProxyConfig, 'utf8'));
  assert.is(proxy.mode, 'iptables');
  assert.equal(proxy.conntrack, { maxPerCore: 0 });
  assert.is(proxy.clusterCIDR, p2.podSubnet);
});

/** Runs one CNI plugin as a runtime would, inside the node's network namespace. */
function cni(nodeNetns: string, podNetns: string, conf: Record<string, unknown>, plugin: Record<string, unknown>, prevResult?: unknown) {
  const dir = CNI_BIN_DIRS.find((d) => spawnSync('test', ['-x', join(d, 'bridge')]).status === 0)!;
  const r = spawnSync('nsenter', [`--net=${nodeNetns}`, join(dir, plugin.type as string)], {
    input: JSON.stringify({ cniVersion: conf.cniVersion, name: conf.name, ...plugin, ...(prevResult ? { prevResult } : {}) }),
    encoding: 'utf8',
    env: { ...process.env, CNI_COMMAND: 'ADD', CNI_CONTAINERID: `c${randomBytes(4).toString('hex')}`, CNI_NETNS: podNetns, CNI_IFNAME: 'eth0', CNI_PATH: dir },
  });
  assert.is(r.status, 0, `${plugin.type}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('the generated CNI network works with the real plugins: pods on two nodes reach each other', async () => {
  const name = `t-cni-${randomBytes(3).toString('hex')}`;
  const dist = await resolveKubernetes({ version: 'v1.31.4', binDir: binDir('v1.31.4') });
  const { state, pki: paths } = await prepareCluster(defaultClusterConfig(name, 3));
  try {
    const p = state.plan;
    const nodeNs = p.nodes.map((n) => addNodeNetns(p.names, n));
    p.nodes.forEach((n, i) => attachNode(p, n, nodeNs[i]));
    const pods: string[] = [];
    for (const i of [0, 2]) {
      const { layout } = writeNodeFiles(p, p.nodes[i], paths, dist, resolveEtcd());
      const conf = JSON.parse(readFileSync(layout.cniConfFile, 'utf8'));
      const podNs = `${p.names.netnsPrefix}pod${i}`;
      assert.is(spawnSync('ip', ['netns', 'add', podNs]).status, 0);
      let result: { ips: { address: string }[] } | undefined;
      for (const plugin of conf.plugins) result = cni(nodeNs[i], `/run/netns/${podNs}`, conf, plugin, result);
      const ip = result!.ips[0].address.split('/')[0];
      assert.ok(ip.startsWith(p.nodes[i].podCIDR.replace(/0\/24$/, '')), `${ip} in ${p.nodes[i].podCIDR}`);
      pods.push(`/run/netns/${podNs}`, ip);
    }
    const ping = spawnSync('nsenter', [`--net=${pods[0]}`, 'busybox', 'ping', '-c', '1', '-W', '2', pods[3]], { encoding: 'utf8' });
    assert.is(ping.status, 0, `pod on node 0 → pod on node 2: ${ping.stdout}`);
  } finally {
    await deleteCluster(name, join(work, 'kubeconfig'));
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
