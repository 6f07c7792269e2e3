import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfigError, NotSupportedYetError, SubnetClashError, defaultClusterConfig, parseClusterConfig, planCluster } from '../../src/cluster/index.js';
import { fakeNvidiaTree } from '../helpers/fake-nvidia.js';

const HEAD = 'apiVersion: sifkube.io/v1alpha1\nkind: Cluster\n';

function fails(text: string, pattern: RegExp, cls: typeof ClusterConfigError | typeof NotSupportedYetError = ClusterConfigError) {
  try {
    parseClusterConfig(text, 'c.yaml');
  } catch (err) {
    assert.instance(err, cls);
    assert.match((err as Error).message, pattern);
    assert.not.match((err as Error).message, /\n/, 'one line');
    return;
  }
  assert.unreachable(`accepted: ${text}`);
}

test('a full config is read with its defaults', () => {
  const c = parseClusterConfig(
    `${HEAD}name: dev\nkubernetesVersion: v1.30.2\nnodes:\n- role: control-plane\n- role: worker\n  labels: {example.com/tier: db}\n  extraPortMappings: [{containerPort: 80, hostPort: 8080}]\n  extraMounts: [{hostPath: /tmp, containerPath: /data, readOnly: true}]\nnetworking:\n  podSubnet: 10.250.0.0/16\nfeatureGates: {SidecarContainers: true}\n`,
    'c.yaml',
  );
  assert.is(c.name, 'dev');
  assert.is(c.kubernetesVersion, 'v1.30.2');
  assert.is(c.nodes.length, 2);
  assert.equal(c.nodes[1].labels, { 'example.com/tier': 'db' });
  assert.equal(c.nodes[1].extraPortMappings, [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }]);
  assert.equal(c.nodes[1].extraMounts, [{ hostPath: '/tmp', containerPath: '/data', readOnly: true }]);
  assert.is(c.networking.serviceSubnet, '10.96.0.0/12');
  assert.is(c.networking.nodePodPrefix, 24);
  assert.is(c.networking.dnsDomain, 'cluster.local');
  assert.equal(c.featureGates, { SidecarContainers: true });
});

test('every bad field is named in a one-line error', () => {
  fails('kind: Cluster\n', /c\.yaml: apiVersion: .*write apiVersion: sifkube\.io\/v1alpha1/);
  fails('apiVersion: sifkube.io/v1alpha1\nkind: Pod\n', /kind: "Pod" is not supported/);
  fails(`${HEAD}nodes: [{role: master}]\n`, /nodes\[0\]\.role: "master" is not a role: use control-plane or worker/);
  fails(`${HEAD}nodes: [{role: worker}]\n`, /nodes: no node has role control-plane/);
  fails(`${HEAD}nodes: []\n`, /nodes: the list is empty/);
  fails(`${HEAD}nodez: []\n`, /nodez: unknown field/);
  fails(`${HEAD}networking: {podSubnet: 10.244.0.1/16}\n`, /networking\.podSubnet: "10\.244\.0\.1\/16" is not an IPv4 subnet/);
  fails(`${HEAD}networking: {serviceSubnet: 10.96.0.0/30}\n`, /networking\.serviceSubnet: \/30 is out of range/);
  fails(`${HEAD}kubernetesVersion: "1.31"\n`, /kubernetesVersion: .* is not a release version/);
  fails(`${HEAD}kubernetesVersion: v1.27.3\n`, /kubernetesVersion: v1\.27\.3 is older than v1\.28/);
  fails(`${HEAD}name: Dev_1\n`, /name: "Dev_1" is not a valid cluster name/);
  fails(`${HEAD}nodes: [{role: control-plane, labels: {node-role.kubernetes.io/x: ""}}]\n`, /nodes\[0\]\.labels\.node-role\.kubernetes\.io\/x: the kubelet may not set labels/);
  fails(`${HEAD}nodes: [{role: control-plane, extraMounts: [{hostPath: /nonexistent-sk, containerPath: /x}]}]\n`, /extraMounts\[0\]\.hostPath: \/nonexistent-sk does not exist/);
  fails(`${HEAD}nodes: [{role: control-plane, extraPortMappings: [{containerPort: 80, hostPort: 70000}]}]\n`, /hostPort: expected an integer from 1 to 65535/);
  fails(`${HEAD}nodes: [{role: control-plane, name: a}, {name: a}]\n`, /two nodes are named a/);
  fails(`${HEAD}featureGates: {SidecarContainers: yes}\n`, /featureGates\.SidecarContainers: expected true or false/);
  fails(`${HEAD}nodes: [{role: control-plane}, {}, {}]\nnetworking: {podSubnet: 10.250.0.0/23}\n`, /networking\.podSubnet: 10\.250\.0\.0\/23 has room for 2 node slices of \/24, not 3/);
  fails(`${HEAD}: : :\n  - [\n`, /c\.yaml: the document: not valid YAML/);
  fails(`${HEAD}nodes: [{role: control-plane}, {role: control-plane}]\n`, /not supported yet: .*2 control-plane nodes/, NotSupportedYetError);
});

test('--nodes 3 plans nodes, addresses, pod CIDRs and taints as kind would', () => {
  const plan = planCluster(defaultClusterConfig('demo', 3), []);
  assert.equal(plan.nodes.map((n) => n.name), ['demo-control-plane', 'demo-worker', 'demo-worker2']);
  assert.is(plan.bridge.subnet, '172.29.0.0/24');
  assert.is(plan.bridge.address, '172.29.0.1');
  assert.equal(plan.nodes.map((n) => n.address), ['172.29.0.2', '172.29.0.3', '172.29.0.4']);
  assert.equal(plan.nodes.map((n) => n.podCIDR), ['10.200.0.0/24', '10.200.1.0/24', '10.200.2.0/24']);
  assert.equal(plan.nodes[0].taints, ['node-role.kubernetes.io/control-plane:NoSchedule']);
  assert.equal(plan.nodes[1].taints, []);
  assert.is(plan.nodes[0].apiLabels['node-role.kubernetes.io/control-plane'], '');
  assert.is(plan.serviceIP, '10.96.0.1');
  assert.is(plan.dnsIP, '10.96.0.10');
  assert.is(plan.apiServer.url, 'https://172.29.0.2:6443');
  assert.is(plan.nodes[2].cgroupRoot, '/sifkube-demo/demo-worker2');
  assert.ok(plan.bridge.name.length <= 15 && plan.bridge.name.startsWith('sk'));
  assert.ok(plan.nodes.every((n) => n.veth.length <= 15 && n.veth.startsWith('sk')));
});

test('a single node cluster has no control-plane taint', () => {
  assert.equal(planCluster(defaultClusterConfig('one', 1), []).nodes[0].taints, []);
});

test('automatic subnets skip taken ones; a named subnet that clashes is an error naming both', () => {
  const plan = planCluster(defaultClusterConfig('demo', 2), [
    { cidr: '172.29.0.0/23', what: 'the host route 172.29.0.0/23' },
    { cidr: '10.200.0.0/15', what: 'another cluster' },
  ]);
  assert.is(plan.bridge.subnet, '172.29.2.0/24');
  assert.is(plan.podSubnet, '10.202.0.0/16');
  const c = parseClusterConfig(`${HEAD}networking: {nodeSubnet: 192.0.2.0/26}\n`, 'c.yaml');
  try {
    planCluster(c, [{ cidr: '192.0.2.0/24', what: 'the host route 192.0.2.0/24 (dev eth0)' }]);
    assert.unreachable('clash accepted');
  } catch (err) {
    assert.instance(err, SubnetClashError);
    assert.match((err as Error).message, /nodeSubnet 192\.0\.2\.0\/26 overlaps the host route 192\.0\.2\.0\/24 \(dev eth0\)/);
  }
});

test('labels the kubelet may set are accepted, others in its namespaces refused', () => {
  const c = parseClusterConfig(`${HEAD}nodes: [{role: control-plane, labels: {topology.kubernetes.io/zone: a, node.kubernetes.io/pool: x, example.com/t: "1"}}]\n`, 'c.yaml');
  assert.equal(Object.keys(c.nodes[0].labels), ['topology.kubernetes.io/zone', 'node.kubernetes.io/pool', 'example.com/t']);
  fails(`${HEAD}nodes: [{role: control-plane, labels: {kubernetes.io/role: x}}]\n`, /labels\.kubernetes\.io\/role: the kubelet may not set labels under kubernetes\.io\//);
});

test('registry: mirrors, auths and plain-HTTP hosts for every node; --registry-mirror comes first; bad values named', () => {
  const c = parseClusterConfig(
    `${HEAD}registry:\n  mirrors: {docker.io: [http://10.0.0.5:5000/]}\n  auths: {private.example: {username: u, password: p}}\n  plainHttp: [private.example:5000]\n`,
    'c.yaml',
    { registryMirrors: { 'docker.io': ['http://172.29.9.1:5000'], 'ghcr.io': ['https://m.example'] } },
  );
  assert.equal(c.registry, {
    mirrors: { 'docker.io': ['http://172.29.9.1:5000', 'http://10.0.0.5:5000'], 'ghcr.io': ['https://m.example'] },
    auths: { 'private.example': { username: 'u', password: 'p' } },
    plainHttp: ['private.example:5000'],
  });
  assert.equal(defaultClusterConfig('x', 1).registry, { mirrors: {}, auths: {}, plainHttp: [] });
  for (const [text, pattern] of [
    ['registry: {mirror: {}}', /c\.yaml: unknown key registry\.mirror: use one of mirrors, auths, plainHttp/],
    ['registry: {mirrors: {docker.io: [ftp://x]}}', /c\.yaml: registry\.mirrors\.docker\.io: ftp:\/\/x is not a URL/],
    ['registry: {plainHttp: [http://x]}', /c\.yaml: registry\.plainHttp must be a list of registry hosts/],
    ['registry: {auths: {h: {username: u}}}', /c\.yaml: registry\.auths\.h needs both username and password/],
  ] as const) {
    assert.throws(() => parseClusterConfig(`${HEAD}${text}\n`, 'c.yaml'), (e: unknown) => pattern.test((e as Error).message));
  }
  assert.throws(() => defaultClusterConfig('x', 1, undefined, { 'docker.io': ['not a url'] }), /--registry-mirror: registry\.mirrors\.docker\.io: not a url is not a URL/);
});

test('--nodes out of range is a clear error', () => {
  assert.throws(() => defaultClusterConfig('x', 0), /--nodes: nodes: 0 is out of range: use 1 to 50 nodes/);
});

test('GPU nodes: gpu: true and --gpu share the GPUs of the driver tree out; no GPU, too few GPUs or a bad root are errors naming the field', () => {
  const tree = fakeNvidiaTree(tmpdir());
  const empty = mkdtempSync(join(tmpdir(), 'sk-nogpu-'));
  try {
    const c = parseClusterConfig(`${HEAD}gpuRoot: ${tree.root}\nnodes: [{role: control-plane}, {role: worker, gpu: true}, {role: worker, gpu: true}]\n`, 'c.yaml');
    assert.equal(c.nodes.map((n) => n.gpu), [false, true, true]);
    const plan = planCluster(c, []);
    assert.equal(plan.nodes.map((n) => n.gpu), [undefined, { share: 0, of: 2 }, { share: 1, of: 2 }]);
    assert.is(plan.gpuRoot, tree.root);
    const flag = defaultClusterConfig('g', 3, undefined, undefined, undefined, { gpu: true, gpuRoot: tree.root });
    assert.equal(flag.nodes.map((n) => n.gpu), [false, true, true], '--gpu: the nodes that take workloads');
    assert.equal(defaultClusterConfig('g', 1, undefined, undefined, undefined, { gpu: true, gpuRoot: tree.root }).nodes[0].gpu, true, 'a lone control-plane node takes workloads');
    assert.is(planCluster(defaultClusterConfig('g', 2), []).gpuRoot, undefined, 'no GPU node: no GPU root in the plan');
    fails(`${HEAD}gpuRoot: ${empty}\nnodes: [{role: control-plane, gpu: true}]\n`, new RegExp(`nodes\\[0\\]\\.gpu: this host has no NVIDIA GPU \\(no ${empty}/dev/nvidia\\[0-9\\]\\*\\)`));
    fails(`${HEAD}gpuRoot: ${tree.root}\nnodes: [{role: control-plane}, {role: worker, gpu: true}, {role: worker, gpu: true}, {role: worker, gpu: true}]\n`, /nodes: 3 GPU nodes share 2 GPU\(s\): mark at most one node per GPU/);
    fails(`${HEAD}gpuRoot: relative/dir\n`, /gpuRoot: relative\/dir is not an absolute path/);
    fails(`${HEAD}gpuRoot: ${join(empty, 'missing')}\nnodes: [{role: control-plane, gpu: true}]\n`, /gpuRoot: GPU root .*missing: is not a folder/);
    fails(`${HEAD}nodes: [{role: control-plane, gpu: yes}]\n`, /nodes\[0\]\.gpu: expected true or false/);
    assert.throws(() => defaultClusterConfig('g', 1, undefined, undefined, undefined, { gpu: true, gpuRoot: empty }), /--gpu: this host has no NVIDIA GPU/);
  } finally {
    tree.remove();
    rmSync(empty, { recursive: true });
  }
});

test.run();
