import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBE_BINARIES, Supervisor, clusterNames, addNodeNetns, attachNode, clusterLeftovers, defaultClusterConfig, deleteCluster, nodeLayout, prepareCluster } from '../../src/cluster/index.js';

const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sk-cmd-'));
const env = { ...process.env, SIFKUBE_CACHE_DIR: join(work, 'cache') };

function sifkube(...args: string[]) {
  return execa(process.execPath, [bin, ...args], { env, reject: false });
}

test('list, kubeconfig (print and --merge), delete on a prepared cluster', async () => {
  const name = `t-cmd-${randomBytes(3).toString('hex')}`;
  const kc = join(work, 'config');
  await prepareCluster(defaultClusterConfig(name, 2));
  try {
    const list = await sifkube('list', '--json');
    assert.is(list.exitCode, 0, list.stderr);
    const row = JSON.parse(list.stdout).find((r: { name: string }) => r.name === name);
    assert.equal({ ...row, nodeSubnet: undefined, api: undefined }, { name, phase: 'creating', nodes: 2, kubernetes: 'v1.31.4', nodeSubnet: undefined, state: 'tmpfs', api: undefined });
    const broken = `t-broken-${randomBytes(3).toString('hex')}`;
    mkdirSync(join(clusterNames(broken).stateDir), { recursive: true });
    try {
      const withBroken = await sifkube('list');
      assert.is(withBroken.exitCode, 0, withBroken.stderr);
      assert.match(withBroken.stdout, new RegExp(`^${broken} +unreadable +0 +- +- +- +no state file \\(a failed init\\?\\): sifkube delete --name ${broken}$`, 'm'));
    } finally {
      await deleteCluster(broken, kc);
    }
    const table = await sifkube('list');
    assert.match(table.stdout, new RegExp(`^${name} +creating +2 +v1\\.31\\.4`, 'm'));

    const printed = await sifkube('kubeconfig', '--name', name);
    assert.is(printed.exitCode, 0, printed.stderr);
    const file = join(work, 'printed');
    writeFileSync(file, printed.stdout);
    const view = spawnSync('kubectl', ['config', 'current-context', '--kubeconfig', file], { encoding: 'utf8' });
    assert.is(view.stdout.trim(), `sifkube-${name}`);

    writeFileSync(kc, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    const merged = await sifkube('kubeconfig', '--name', name, '--merge', '--kubeconfig', kc);
    assert.is(merged.exitCode, 0, merged.stderr);
    assert.match(merged.stdout, new RegExp(`merged context sifkube-${name} into ${kc}`));
    assert.is(spawnSync('kubectl', ['config', 'current-context', '--kubeconfig', kc], { encoding: 'utf8' }).stdout.trim(), `sifkube-${name}`);

    const del = await sifkube('delete', '--name', name, '--kubeconfig', kc);
    assert.is(del.exitCode, 0, del.stderr);
    assert.match(del.stdout, new RegExp(`deleted cluster ${name} \\(.*state folder\\)`));
    assert.equal(clusterLeftovers(name), []);
    assert.not.match(readFileSync(kc, 'utf8'), new RegExp(name), 'context removed from the kubeconfig');
    const again = await sifkube('delete', '--name', name, '--kubeconfig', kc);
    assert.is(again.exitCode, 0, 'deleting a deleted cluster is fine');
  } finally {
    await deleteCluster(name, kc);
  }
});

test('status: nodes, attachment, the supervisor\'s components; an unknown node is named', async () => {
  const name = `t-st-${randomBytes(3).toString('hex')}`;
  const kc = join(work, 'config-st');
  const { state } = await prepareCluster(defaultClusterConfig(name, 2));
  const plan = state.plan;
  const layout = nodeLayout(plan, plan.nodes[1]);
  const sup = new Supervisor({ logDir: layout.logs, statusFile: layout.supervisorStatus });
  try {
    attachNode(plan, plan.nodes[0], addNodeNetns(plan.names, plan.nodes[0]));
    sup.start([{ name: 'sleeper', command: 'sleep', args: ['300'] }]);
    await sup.waitHealthy('sleeper', 5000);
    const r = await sifkube('status', '--name', name, '--json');
    assert.is(r.exitCode, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.is(s.bridge.present, true);
    assert.equal(s.nodes.map((n: { attached: boolean }) => n.attached), [true, false]);
    assert.is(s.nodes[0].supervisor, undefined);
    assert.is(s.nodes[1].supervisor.running, true);
    assert.is(s.nodes[1].supervisor.components[0].name, 'sleeper');
    assert.is(s.nodes[1].supervisor.components[0].phase, 'running');
    const text = await sifkube('status', '--name', name);
    assert.match(text.stdout, /sleeper +running healthy pid \d+ restarts 0/);
    const bad = await sifkube('status', '--name', name, '--node', 'nope');
    assert.is(bad.exitCode, 83);
    assert.match(bad.stderr, new RegExp(`cluster "${name}" has no node "nope": use one of ${name}-control-plane, ${name}-worker`));
  } finally {
    await sup.stop(1000);
    await deleteCluster(name, kc);
  }
});

test('bad input: one line, the input named, a distinct exit code', async () => {
  const cases: [string[], number, RegExp][] = [
    [['kubeconfig', '--name', 'no-such-cluster'], 82, /^sifkube: no cluster named "no-such-cluster": list the clusters with `sifkube list`$/],
    [['delete', '--name', 'Bad_Name'], 80, /^sifkube: --name: name: "Bad_Name" is not a valid cluster name/],
    [['kube', 'import', join(work, 'nope')], 2, /nope: no such folder: pass the folder that holds the Kubernetes release binaries$/],
    [['kube', 'fetch', '--kubernetes-version', 'v1.20.0'], 80, /kubernetesVersion: v1\.20\.0 is older than v1\.28: use Kubernetes v1\.28 or newer/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await sifkube(...args);
    assert.is(r.exitCode, code, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), pattern);
  }
});

test('kube import fills the cache; kube fetch downloads with progress and verifies', async () => {
  const dir = join(work, 'release');
  mkdirSync(dir);
  const files = new Map<string, string>();
  for (const b of KUBE_BINARIES) {
    const body = `#!/bin/sh\necho "Kubernetes v1.29.3"\n# ${b}\n`;
    writeFileSync(join(dir, b), body);
    chmodSync(join(dir, b), 0o755);
    files.set(`/v1.30.5/bin/linux/amd64/${b}`, body.replace('v1.29.3', 'v1.30.5'));
    files.set(`/v1.30.5/bin/linux/amd64/${b}.sha256`, createHash('sha256').update(body.replace('v1.29.3', 'v1.30.5')).digest('hex'));
  }
  const imp = await sifkube('kube', 'import', dir);
  assert.is(imp.exitCode, 0, imp.stderr);
  assert.match(imp.stdout, /imported Kubernetes v1\.29\.3 .* into .*cache\/kubernetes\/v1\.29\.3/);
  assert.ok(existsSync(join(work, 'cache', 'kubernetes', 'v1.29.3', 'kubelet')));

  const server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const r = await execa(process.execPath, [bin, 'kube', 'fetch', '--kubernetes-version', 'v1.30.5'], { env: { ...env, SIFKUBE_KUBE_RELEASE_URL: url }, reject: false });
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /Kubernetes v1\.30\.5 is in .*cache\/kubernetes\/v1\.30\.5/);
    assert.is(spawnSync(join(work, 'cache', 'kubernetes', 'v1.30.5', 'kube-proxy'), ['--version'], { encoding: 'utf8' }).stdout.trim(), 'Kubernetes v1.30.5');
    const missing = await execa(process.execPath, [bin, 'kube', 'fetch', '--kubernetes-version', 'v1.30.6'], { env: { ...env, SIFKUBE_KUBE_RELEASE_URL: url }, reject: false });
    assert.is(missing.exitCode, 87);
    assert.match(missing.stderr, /v1\.30\.6\/bin\/linux\/amd64\/kube-apiserver\.sha256: download failed: HTTP 404/);
  } finally {
    server.close();
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
