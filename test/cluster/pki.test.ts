import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { defaultClusterConfig, generateClusterPki, mergeKubeconfig, planCluster, removeFromKubeconfig, buildKubeconfig } from '../../src/cluster/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sk-pki-'));
const plan = planCluster(defaultClusterConfig('pki', 3), []);
const paths = await generateClusterPki(plan, dir);

function openssl(...args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.is(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('every certificate verifies against its CA with openssl', () => {
  const leaves = [paths.apiserver, paths.apiserverKubeletClient, paths.admin, paths.controllerManager, paths.scheduler, paths.kubeProxy];
  for (const n of plan.nodes) leaves.push(paths.kubeletClient(n.name), paths.kubeletServing(n.name));
  for (const l of leaves) assert.match(openssl('verify', '-CAfile', paths.ca.cert, l.cert), /: OK/);
  assert.match(openssl('verify', '-CAfile', paths.frontProxyCa.cert, paths.frontProxyClient.cert), /: OK/);
  // The front-proxy client must not verify against the cluster CA: the two CAs are distinct.
  assert.is(spawnSync('openssl', ['verify', '-CAfile', paths.ca.cert, paths.frontProxyClient.cert]).status !== 0, true);
});

test('the apiserver certificate names every address and the service names', () => {
  const text = openssl('x509', '-in', paths.apiserver.cert, '-noout', '-text');
  for (const san of ['DNS:kubernetes.default.svc.cluster.local', 'DNS:kubernetes', 'DNS:pki-control-plane', 'IP Address:10.96.0.1', `IP Address:${plan.apiServer.address}`, 'IP Address:127.0.0.1']) {
    assert.ok(text.includes(san), `SAN ${san}`);
  }
  assert.match(text, /TLS Web Server Authentication/);
});

test('subjects: node, admin and components as the authorizers expect', () => {
  const subject = (f: string) => openssl('x509', '-in', f, '-noout', '-subject', '-nameopt', 'RFC2253').trim();
  assert.is(subject(paths.kubeletClient('pki-worker').cert), 'subject=CN=system:node:pki-worker,O=system:nodes');
  assert.is(subject(paths.admin.cert), 'subject=CN=kubernetes-admin,O=system:masters');
  assert.is(subject(paths.controllerManager.cert), 'subject=CN=system:kube-controller-manager');
  assert.is(subject(paths.kubeProxy.cert), 'subject=CN=system:kube-proxy');
  const serving = openssl('x509', '-in', paths.kubeletServing('pki-worker2').cert, '-noout', '-text');
  assert.ok(serving.includes(`IP Address:${plan.nodes[2].address}`));
  assert.match(openssl('x509', '-in', paths.ca.cert, '-noout', '-text'), /CA:TRUE/);
});

test('keys match their certificates and the service-account pair matches', () => {
  const pub = (args: string[]) => openssl(...args).trim();
  assert.is(pub(['x509', '-in', paths.admin.cert, '-noout', '-pubkey']), pub(['pkey', '-in', paths.admin.key, '-pubout']));
  assert.is(pub(['pkey', '-in', paths.serviceAccount.key, '-pubout']), readFileSync(paths.serviceAccount.pub, 'utf8').trim());
});

test('kubeconfigs are read by kubectl', () => {
  const r = spawnSync('kubectl', ['config', 'view', '--kubeconfig', paths.kubeconfig.admin, '-o', 'json', '--raw'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const k = JSON.parse(r.stdout);
  assert.is(k['current-context'], 'sifkube-pki');
  assert.is(k.clusters[0].cluster.server, plan.apiServer.url);
  const kubelet = spawnSync('kubectl', ['config', 'view', '--kubeconfig', paths.kubeconfig.kubelet('pki-worker'), '-o', 'jsonpath={.users[0].name}'], { encoding: 'utf8' });
  assert.is(kubelet.stdout, 'system:node:pki-worker');
  // The embedded client certificate is the node's own, verifiable by the CA.
  const certFile = join(dir, 'embedded.crt');
  writeFileSync(certFile, Buffer.from(k.users[0].user['client-certificate-data'], 'base64'));
  assert.match(openssl('verify', '-CAfile', paths.ca.cert, certFile), /: OK/);
});

test('merge into an existing kubeconfig keeps other entries, replaces ours, removes it again', () => {
  const file = join(dir, 'home-config');
  const other = buildKubeconfig({ name: 'other', user: 'other', server: 'https://127.0.0.1:1', caPem: 'x', certPem: 'y', keyPem: 'z' });
  mergeKubeconfig(file, other);
  const ours = parse(readFileSync(paths.kubeconfig.admin, 'utf8'));
  mergeKubeconfig(file, ours);
  mergeKubeconfig(file, ours);
  const view = spawnSync('kubectl', ['config', 'get-contexts', '-o', 'name', '--kubeconfig', file], { encoding: 'utf8' });
  assert.equal(view.stdout.trim().split('\n').sort(), ['other', 'sifkube-pki']);
  assert.is(spawnSync('kubectl', ['config', 'current-context', '--kubeconfig', file], { encoding: 'utf8' }).stdout.trim(), 'sifkube-pki');
  assert.ok(removeFromKubeconfig(file, 'sifkube-pki'));
  assert.not.ok(removeFromKubeconfig(file, 'sifkube-pki'));
  const after = spawnSync('kubectl', ['config', 'get-contexts', '-o', 'name', '--kubeconfig', file], { encoding: 'utf8' });
  assert.is(after.stdout.trim(), 'other');
});

test('a broken kubeconfig is refused with the file named, and left as it was', () => {
  const file = join(dir, 'broken');
  writeFileSync(file, 'clusters: {a: 1}\n');
  assert.throws(() => mergeKubeconfig(file, buildKubeconfig({ name: 'n', user: 'n', server: 's', caPem: '', certPem: '', keyPem: '' })), /broken: clusters: not a list/);
  assert.is(readFileSync(file, 'utf8'), 'clusters: {a: 1}\n');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
