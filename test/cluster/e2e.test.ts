import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { clusterLeftovers, deleteCluster, nodeLayout, readClusterState } from '../../src/cluster/index.js';
import { buildSif } from '../../src/sif/index.js';
import { crictlPath, kubeSets, missing } from '../helpers/kube-sets.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { busyboxRootfs, freePort, layerFrom, push, startRegistry, tagImage } from '../helpers/registry.js';
import { BIN, makeRootfs } from '../helpers/sif.js';

// The main job end to end on every upstream Kubernetes set in ../shared/kubernetes/ (unpacked by
// .ci/run into SIFKUBE_KUBE_SETS), driven as a user would: the sifkube CLI, kubectl, crictl.
const sets = kubeSets();
const crictl = crictlPath();
const title = (v: string) =>
  `e2e ${v}: init 3 nodes (release from the folder, a registry mirror) → Ready → SIF DaemonSet on every node → kubectl exec (stdin, exit code), logs, port-forward → NodePort from the host → cluster DNS, ClusterIP and a pod on another node from a pod → a NodePort and a host port mapping on nodes without its pod → crictl on a node socket → node add → a pull through the mirror on it → node remove (its pods with it) → stop → start → serving again → delete, host as before`;

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

/** GET `url` until it answers 200: `tries` times, 300 ms apart (after stop/start the kubelets first tear the old pods down). */
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
    // rollout status; on a miss, the pods, their events and the tail of each node's kubelet and CRI
    // logs, so that a failure in CI says why.
    const rollout = (what: string) => {
      const r = k('rollout', 'status', what, '--timeout=120s');
      if (r.status === 0) return;
      const plan = readClusterState(name).plan;
      const tail = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-25).join('\n') : `(no ${f})`);
      const logs = plan.nodes.map((n) => ['kubelet', 'cri'].map((l) => `--- ${n.name} ${l}.log\n${tail(join(nodeLayout(plan, n).logs, `${l}.log`))}`).join('\n')).join('\n');
      assert.unreachable(`rollout status ${what}: ${r.stdout}${r.stderr}\n${k('get', 'pods', '-A', '-o', 'wide').stdout}\n${k('describe', 'pods', '-l', 'app=web').stdout}\n${logs}`);
    };
    const before = hostSnapshot();
    try {
      // No --kubernetes-version: the folder's release is the cluster's. A fixed node subnet, so the
      // registry mirror can be named before the bridge it listens on exists.
      const octet = 150 + Math.floor(Math.random() * 100);
      const mirror = `172.29.${octet}.1:${await freePort()}`;
      // A host port mapped to the control-plane node's NodePort 30081 (kind's extraPortMappings).
      const hostPort = await freePort();
      writeFileSync(join(work, 'cluster.yaml'), `apiVersion: sifkube.io/v1alpha1\nkind: Cluster\nnodes: [{role: control-plane, extraPortMappings: [{containerPort: 30081, hostPort: ${hostPort}}]}, {role: worker}, {role: worker}]\nnetworking: {nodeSubnet: 172.29.${octet}.0/24}\n`);
      ok(sifkube(['init', '--name', name, '--config', join(work, 'cluster.yaml'), '--kube-bin-dir', dir, '--registry-mirror', `registry.invalid=http://${mirror}`, '--wait', '3m', '--kubeconfig', kubeconfig]));
      const nodes = ok(k('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}={.status.nodeInfo.kubeletVersion} {end}'));
      assert.is(nodes.trim(), [`${name}-control-plane`, `${name}-worker`, `${name}-worker2`].map((n) => `${n}=True=${version}`).join(' '));
      assert.match(ok(k('get', 'node', `${name}-control-plane`, '--show-labels')), /node-role\.kubernetes\.io\/control-plane=/);

      const sif = join(work, 'web.sif');
      buildSif({ rootfs: makeRootfs(work), out: sif, deterministic: true, imageConfig: { cmd: ['sh'] } });
      ok(sifkube(['image', 'load', '--name', name, sif, '--tag', 'example.org/web:v1']));
      writeFileSync(join(work, 'web.yaml'), DAEMONSET);
      ok(k('apply', '-f', join(work, 'web.yaml')));
      rollout('daemonset/web');
      // rollout status can answer before the controller has counted the nodes: wait for the pods too.
      let pods: string[][] = [];
      for (let i = 0; i < 240 && !(pods.length === 3 && pods.every((p) => p[2] === 'Running')); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 500));
        pods = ok(k('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}={.status.phase} {end}'))
          .trim()
          .split(' ')
          .filter(Boolean)
          .map((p) => p.split('='));
      }
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
      const plan = readClusterState(name).plan;
      const worker = plan.nodes[1];
      assert.is(await fetchText(`http://${worker.address}:30080/motd`), 'hello from sifkube\n');

      // Cluster DNS and the pod network, from a pod: a Service by name (and its ClusterIP), a pod IP
      // on another node.
      assert.match(ok(k('exec', pod, '--', 'busybox', 'nslookup', 'web.default.svc.cluster.local')), /Name:\s+web\.default\.svc\.cluster\.local\s+Address: 10\./);
      assert.is(ok(k('exec', pod, '--', 'busybox', 'wget', '-qO-', 'http://web/motd')), 'hello from sifkube\n');
      const otherIp = ok(k('get', 'pods', '-l', 'app=web', '--field-selector', `spec.nodeName=${name}-control-plane`, '-o', 'jsonpath={.items[0].status.podIP}'));
      assert.is(ok(k('exec', pod, '--', 'busybox', 'wget', '-qO-', `http://${otherIp}:8080/motd`)), 'hello from sifkube\n');
      assert.is(ok(k('get', 'pods', '-A', '--field-selector', 'status.phase!=Running', '-o', 'name')), '', 'every pod of the cluster runs');

      // A NodePort answers on every node, also where none of its pods runs (the control plane and
      // worker2 here: the one pod is on the worker).
      ok(k('run', 'solo', '--image=example.org/web:v1', '--image-pull-policy=Never', '--labels=app=solo', '--overrides', JSON.stringify({ spec: { nodeName: worker.name } }), '--command', '--', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'));
      ok(k('expose', 'pod', 'solo', '--type=NodePort', '--port=80', '--target-port=8080', '--overrides', JSON.stringify({ spec: { ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }] } })));
      ok(k('wait', '--for=condition=Ready', 'pod/solo', '--timeout=60s'));
      for (const n of plan.nodes) {
        const body = await fetchText(`http://${n.address}:30081/motd`, 400);
        // On a miss, what kube-proxy on that node saw, so the failure says why.
        const why = body === '' ? `${ok(k('get', 'endpointslices', '-l', 'kubernetes.io/service-name=solo', '-o', 'wide'))}\n${readFileSync(join(nodeLayout(plan, n).logs, 'kube-proxy.log'), 'utf8').split('\n').slice(-15).join('\n')}` : '';
        assert.is(body, 'hello from sifkube\n', `NodePort on ${n.name}\n${why}`);
      }
      // The host port mapped to the control plane's 30081, where the pod does not run.
      assert.is(await fetchText(`http://127.0.0.1:${hostPort}/motd`), 'hello from sifkube\n');

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

      // A pull through the registry mirror, on the node added last (it got the cluster's settings
      // too): registry.invalid does not exist, its mirror listens on the cluster bridge's address.
      const reg = await startRegistry({ address: mirror });
      try {
        const layout = join(work, 'layout');
        const rootfs = join(work, 'pulled');
        busyboxRootfs(rootfs);
        tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [layerFrom(layout, rootfs)], config: { Cmd: ['sh', '-c', 'echo pulled through the mirror; sleep 3600'] } }]);
        push(layout, 'v1', `${mirror}/test/pulled:v1`);
        ok(k('run', 'pulled', '--image=registry.invalid/test/pulled:v1', '--restart=Never', '--overrides', JSON.stringify({ spec: { nodeName: `${name}-worker3` } })));
        ok(k('wait', '--for=condition=Ready', 'pod/pulled', '--timeout=90s'));
        // Ready means the shell started, not that its echo ran yet (a loaded CI machine showed the gap).
        let logs = '';
        for (let i = 0; i < 100 && !/pulled through the mirror/.test(logs); i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, 200));
          logs = ok(k('logs', 'pulled'));
        }
        assert.match(logs, /pulled through the mirror/);
        ok(k('delete', 'pod', 'pulled', '--grace-period=1'));
      } finally {
        await reg.stop();
      }
      ok(sifkube(['node', 'remove', '--name', name, `${name}-worker3`]));
      assert.not.match(ok(k('get', 'nodes')), /worker3/);
      // Its pods went with it: none is left for the EndpointSlice controller to stumble on.
      assert.is(ok(k('get', 'pods', '-A', '--field-selector', `spec.nodeName=${name}-worker3`, '-o', 'name')), '');

      // stop → start: the nodes' pod namespaces went with them; the kubelets tear the old sandboxes
      // down (CNI DEL without a namespace) and the DaemonSet serves again at the pods' new addresses.
      ok(sifkube(['stop', '--name', name]));
      ok(sifkube(['start', '--name', name, '--wait', '2m']));
      assert.is(await fetchText(`http://${worker.address}:30080/motd`, 600), 'hello from sifkube\n');
      rollout('daemonset/web');

      ok(sifkube(['delete', '--name', name, '--kubeconfig', kubeconfig]));
    } finally {
      await deleteCluster(name, kubeconfig).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    }
    assert.equal(clusterLeftovers(name), []);
    assert.equal(diffSnapshots(before, hostSnapshot()), []);
  });
}

if (sets.length > 0) {
  test(`e2e ${basename(sets[0])}: --persistent: two replicas of one image on one node, stop → start → serving again, delete`, async () => {
    const name = `t-per-${randomBytes(3).toString('hex')}`;
    const work = mkdtempSync(join(tmpdir(), 'sk-e2e-per-'));
    const dir = mkdtempSync('/var/tmp/sk-e2e-persist-');
    const kubeconfig = join(work, 'kubeconfig');
    const sifkube = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
    const ok = (r: ReturnType<typeof sifkube>) => {
      assert.is(r.status, 0, `exit ${r.status}\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    const k = (...args: string[]) => sifkube(['kubectl', '--name', name, '--', ...args]);
    const before = hostSnapshot();
    try {
      ok(sifkube(['init', '--name', name, '--nodes', '2', '--kube-bin-dir', sets[0], '--persistent', dir, '--wait', '3m', '--kubeconfig', kubeconfig]));
      const sif = join(work, 'web.sif');
      buildSif({ rootfs: makeRootfs(work), out: sif, deterministic: true, imageConfig: { cmd: ['sh'] } });
      ok(sifkube(['image', 'load', '--name', name, sif, '--tag', 'example.org/web:v1']));
      const worker = readClusterState(name).plan.nodes[1];
      writeFileSync(
        join(work, 'web.yaml'),
        `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeName: ${worker.name}
      containers: [{name: web, image: example.org/web:v1, imagePullPolicy: Never, command: [busybox, httpd, -f, -p, '8080', -h, /etc]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30082}]}
`,
      );
      ok(k('apply', '-f', join(work, 'web.yaml')));
      ok(k('rollout', 'status', 'deployment/web', '--timeout=120s'));
      assert.is(await fetchText(`http://${worker.address}:30082/motd`), 'hello from sifkube\n');
      ok(sifkube(['stop', '--name', name]));
      ok(sifkube(['start', '--name', name, '--wait', '2m']));
      assert.is(await fetchText(`http://${worker.address}:30082/motd`, 600), 'hello from sifkube\n');
      ok(k('rollout', 'status', 'deployment/web', '--timeout=120s'));
      ok(sifkube(['delete', '--name', name, '--kubeconfig', kubeconfig]));
    } finally {
      await deleteCluster(name, kubeconfig).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(clusterLeftovers(name), []);
    assert.equal(diffSnapshots(before, hostSnapshot()), []);
  });

  test(`e2e ${basename(sets[0])}: a failed init exports every log first and names the folder; --retain keeps the failed cluster`, async () => {
    const before = hostSnapshot();
    for (const retain of [false, true]) {
      const name = `t-fail-${randomBytes(3).toString('hex')}`;
      const kubeconfig = join(tmpdir(), `${name}.kubeconfig`);
      try {
        // --wait 1ms: the API server comes up, the nodes cannot be Ready that soon.
        const r = spawnSync(process.execPath, [BIN, 'init', '--name', name, '--kube-bin-dir', sets[0], '--wait', '1ms', '--kubeconfig', kubeconfig, ...(retain ? ['--retain'] : [])], { encoding: 'utf8', timeout: 300_000 });
        assert.is(r.status, 94, r.stdout + r.stderr);
        const logs = /the logs of every component are in (\S+);/.exec(r.stderr)?.[1];
        assert.ok(logs, r.stderr);
        assert.ok(existsSync(join(logs!, 'nodes', `${name}-control-plane`, 'logs', 'kube-apiserver.log')), `kube-apiserver.log in ${logs}`);
        assert.ok(existsSync(join(logs!, 'state.json')));
        rmSync(join(logs!, '..'), { recursive: true, force: true });
        if (retain) {
          assert.match(r.stderr, /the failed cluster is kept for debugging/);
          assert.is(readClusterState(name).phase, 'failed');
        } else {
          assert.match(r.stderr, /the cluster was deleted: `sifkube init --retain` keeps/);
          assert.equal(clusterLeftovers(name), []);
        }
      } finally {
        await deleteCluster(name, kubeconfig).catch(() => undefined);
        rmSync(kubeconfig, { force: true });
      }
    }
    assert.equal(diffSnapshots(before, hostSnapshot()), []);
  });
}

test.run();
