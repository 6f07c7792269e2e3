import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterLeftovers, clusterNames, deleteCluster, readClusterState } from '../../src/cluster/index.js';
import { buildSif } from '../../src/sif/index.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { BIN, makeRootfs } from '../helpers/sif.js';

// The whole issue, end to end, with real Kubernetes binaries: they cannot be downloaded on the test
// machine, so this runs only where SIFKUBE_KUBE_BIN_DIR names a folder holding a release.
const binDir = process.env.SIFKUBE_KUBE_BIN_DIR;
const title = 'init 2 nodes → Ready → deployment + NodePort reachable from the host → node add → Ready → node remove → delete, clean host';

if (!binDir) {
  console.log(`skipped: ${title}: SIFKUBE_KUBE_BIN_DIR is not set (it names a folder with kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl)`);
  test.skip(title, () => undefined);
} else {
  test(title, async () => {
    const tag = randomBytes(3).toString('hex');
    const name = `t-e2e-${tag}`;
    const work = mkdtempSync(join(tmpdir(), 'sk-e2e-'));
    const kubeconfig = join(work, 'kubeconfig');
    const sifkube = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
    const k = (...args: string[]) => sifkube('kubectl', '--name', name, '--', ...args);
    const before = hostSnapshot();
    try {
      const init = sifkube('init', '--name', name, '--nodes', '2', '--kube-bin-dir', binDir, '--wait', '3m', '--kubeconfig', kubeconfig);
      assert.is(init.status, 0, init.stdout + init.stderr);
      const nodes = k('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}');
      assert.is(nodes.stdout.trim(), `${name}-control-plane=True ${name}-worker=True`, nodes.stderr);
      assert.match(k('get', 'node', `${name}-control-plane`, '--show-labels').stdout, /node-role\.kubernetes\.io\/control-plane=/);

      const sif = join(work, 'web.sif');
      buildSif({ rootfs: makeRootfs(work), out: sif, deterministic: true, imageConfig: { cmd: ['sh'] } });
      assert.is(sifkube('image', 'load', '--name', name, sif, '--tag', 'example.org/web:v1').status, 0);
      const manifest = join(work, 'web.yaml');
      writeFileSync(
        manifest,
        `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example.org/web:v1
        imagePullPolicy: Never
        command: [busybox, httpd, -f, -p, '8080', -h, /etc]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
`,
      );
      assert.is(k('apply', '-f', manifest).status, 0);
      const rollout = k('rollout', 'status', 'deployment/web', '--timeout=120s');
      assert.is(rollout.status, 0, rollout.stdout + rollout.stderr);
      const worker = readClusterState(name).plan.nodes[1];
      let body = '';
      for (let i = 0; i < 100 && body === ''; i++) {
        body = await fetch(`http://${worker.address}:30080/motd`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
        if (body === '') await new Promise((r) => setTimeout(r, 300));
      }
      assert.is(body, 'hello from sifkube\n');

      const add = sifkube('node', 'add', '--name', name, '--wait', '2m');
      assert.is(add.status, 0, add.stdout + add.stderr);
      assert.match(k('get', 'node', `${name}-worker2`).stdout, /\sReady\s/);
      const remove = sifkube('node', 'remove', '--name', name, `${name}-worker2`);
      assert.is(remove.status, 0, remove.stderr);
      assert.not.match(k('get', 'nodes').stdout, /worker2/);

      const del = sifkube('delete', '--name', name, '--kubeconfig', kubeconfig);
      assert.is(del.status, 0, del.stderr);
    } finally {
      await deleteCluster(name, kubeconfig).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    }
    assert.equal(clusterLeftovers(name), []);
    assert.equal(diffSnapshots(before, hostSnapshot()).filter((l) => l.includes(name) || l.includes(clusterNames(name).id)), []);
  });
}

test.run();
