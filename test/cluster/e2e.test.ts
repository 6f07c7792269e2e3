import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { clusterLeftovers, deleteCluster, nodeLayout, readClusterState } from '../../src/cluster/index.js';
import { buildSif } from '../../src/sif/index.js';
import { crictlPath, kubeSets, missing } from '../helpers/kube-sets.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { freePort } from '../helpers/registry.js';
import { BIN, makeRootfs } from '../helpers/sif.js';

// The main job end to end on every upstream Kubernetes set in ../shared/kubernetes/ (unpacked by
// .ci/run into SIFKUBE_KUBE_SETS), driven as a user would: the sifkube CLI, kubectl, crictl.
const sets = kubeSets();
const crictl = crictlPath();
const title = (v: string) =>
  `e2e ${v}: init 3 nodes (release from the folder) → Ready → SIF DaemonSet on every node → kubectl exec (stdin, exit code), logs, port-forward → NodePort from the host → crictl on a node socket → node add → node remove → delete, host as before`;

if (sets.length === 0) {
  const why = missing('SIFKUBE_KUBE_SETS');
  console.log(`skipped: ${title('(no set)')}: ${why}`);
  test.skip(title('(no set)'), () => undefined);
}

const DAEMONSET = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
      containers:
      - name: web
        image: example.org/web:v1
        imagePullPolicy: Never
        command: [sh, -c, 'echo "serving on $(busybox hostname)"; exec busybox httpd -f -p 8080 -h /etc']
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
`;

async function fetchText(url: string, tries = 100): Promise<string> {
  for (let i = 0; i < tries; i++) {
    const body = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => (r.ok ? r.text() : ''), () => '');
    if (body !== '') return body;
    await new Promise((r) => setTimeout(r, 300));
  }
  return '';
}

for (const dir of sets) {
  test(title(basename(dir)), async () => {
    const version = basename(dir);
    const name = `t-e2e-${randomBytes(3).toString('hex')}`;
    const work = mkdtempSync(join(tmpdir(), 'sk-e2e-'));
    const kubeconfig = join(work, 'kubeconfig');
    const sifkube = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000, input });
    const k = (...args: string[]) => sifkube(['kubectl', '--name', name, '--', ...args]);
    const kIn = (input: string, ...args: string[]) => sifkube(['kubectl', '--name', name, '--', ...args], input);
    const ok = (r: ReturnType<typeof sifkube>) => {
      assert.is(r.status, 0, `exit ${r.status}\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    const before = hostSnapshot();
    try {
      // No --kubernetes-version: the folder's release is the cluster's.
      ok(sifkube(['init', '--name', name, '--nodes', '3', '--kube-bin-dir', dir, '--wait', '3m', '--kubeconfig', kubeconfig]));
      const nodes = ok(k('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}={.status.nodeInfo.kubeletVersion} {end}'));
      assert.is(nodes.trim(), [`${name}-control-plane`, `${name}-worker`, `${name}-worker2`].map((n) => `${n}=True=${version}`).join(' '));
      assert.match(ok(k('get', 'node', `${name}-control-plane`, '--show-labels')), /node-role\.kubernetes\.io\/control-plane=/);

      const sif = join(work, 'web.sif');
      buildSif({ rootfs: makeRootfs(work), out: sif, deterministic: true, imageConfig: { cmd: ['sh'] } });
      ok(sifkube(['image', 'load', '--name', name, sif, '--tag', 'example.org/web:v1']));
      writeFileSync(join(work, 'web.yaml'), DAEMONSET);
      ok(k('apply', '-f', join(work, 'web.yaml')));
      ok(k('rollout', 'status', 'daemonset/web', '--timeout=120s'));
      const pods = ok(k('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}={.status.phase} {end}'))
        .trim()
        .split(' ')
        .map((p) => p.split('='));
      assert.equal(pods.map((p) => p[1]).sort(), [`${name}-control-plane`, `${name}-worker`, `${name}-worker2`]);
      assert.ok(pods.every((p) => p[2] === 'Running'), JSON.stringify(pods));
      const [pod] = pods.find((p) => p[1] === `${name}-worker`)!;

      // kubectl exec through the node's streaming server: stdin in, output and exit code back.
      const exec = kIn('from stdin', 'exec', '-i', pod, '--', 'sh', '-c', 'cat; echo " on $(busybox hostname)"; exit 7');
      assert.is(exec.status, 7, exec.stderr);
      assert.is(exec.stdout, `from stdin on ${pod}\n`, exec.stderr);
      assert.match(ok(k('logs', pod)), new RegExp(`serving on ${pod}`));

      // kubectl port-forward: a host port reaches the pod's 8080.
      const port = await freePort();
      const pf = spawn(process.execPath, [BIN, 'kubectl', '--name', name, '--', 'port-forward', `pod/${pod}`, `${port}:8080`], { stdio: 'ignore' });
      try {
        assert.is(await fetchText(`http://127.0.0.1:${port}/motd`), 'hello from sifkube\n');
      } finally {
        pf.kill('SIGTERM');
      }

      // The NodePort from the host, on a node running one of the service's pods.
      const worker = readClusterState(name).plan.nodes[1];
      assert.is(await fetchText(`http://${worker.address}:30080/motd`), 'hello from sifkube\n');

      if (crictl) {
        // crictl (Go) on a worker's own CRI socket, the one its kubelet uses: from the host, and from
        // inside the node for what crictl reads or dials there (the log files under the node's
        // /var/log/pods, the streaming server on the node's loopback), as kind users run it.
        const socket = `unix://${nodeLayout(readClusterState(name).plan, worker).criSocket}`;
        const args = ['--runtime-endpoint', socket, '--image-endpoint', socket, '--timeout', '20s'];
        const c = (...a: string[]) => spawnSync(crictl, [...args, ...a], { encoding: 'utf8' });
        const inNode = (...a: string[]) => sifkube(['exec', worker.name, '--name', name, '--', crictl, ...args, ...a]);
        assert.match(ok(c('version')), /RuntimeName:\s+sifkube/);
        assert.match(ok(c('info')), /"RuntimeReady"/);
        assert.match(ok(c('pods', '--name', pod)), /Ready/);
        const ctr = ok(c('ps', '-q', '--name', 'web')).trim();
        assert.ok(/^[0-9a-f]{64}$/.test(ctr), ctr);
        assert.is(ok(c('exec', '-s', ctr, 'cat', '/etc/motd')).trim(), 'hello from sifkube');
        assert.match(ok(c('stats', ctr)), new RegExp(ctr.slice(0, 13)));
        assert.match(ok(c('images')), /example\.org\/web\s+v1/);
        assert.match(ok(inNode('logs', ctr)), /serving on/);
        assert.is(ok(inNode('exec', ctr, 'cat', '/etc/motd')), 'hello from sifkube\n');
      }

      ok(sifkube(['node', 'add', '--name', name, '--wait', '2m']));
      assert.match(ok(k('get', 'node', `${name}-worker3`)), /\sReady\s/);
      ok(sifkube(['node', 'remove', '--name', name, `${name}-worker3`]));
      assert.not.match(ok(k('get', 'nodes')), /worker3/);

      ok(sifkube(['delete', '--name', name, '--kubeconfig', kubeconfig]));
    } finally {
      await deleteCluster(name, kubeconfig).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    }
    assert.equal(clusterLeftovers(name), []);
    assert.equal(diffSnapshots(before, hostSnapshot()), []);
  });
}

test.run();
