// After `init` with the real Kubernetes binaries (first set of SIFKUBE_KUBE_SETS, 2 nodes): `node add`
// to Ready; `stop` + `start` until a DaemonSet's NodePort serves again; a Service's creation until
// the cluster DNS answers its name (queried on the control-plane node's port 53, where kube-proxy
// sends pods' queries). The peer, in the same run and round-robin: nodes run by runc
// (SIFKUBE_NODE_RUNTIME=runc). Usage: node dist/bench/cluster/kube-lifecycle.js [ROUNDS]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as packet from 'dns-packet';
import { addKubeWorkers, clusterApi, defaultClusterConfig, deleteCluster, initCluster, loadImage, readClusterState, startCluster, stopCluster } from '../../src/cluster/index.js';
import { buildSif } from '../../src/sif/index.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const set = (process.env.SIFKUBE_KUBE_SETS ?? '').split(':').filter(Boolean)[0];
if (!set) throw new Error('SIFKUBE_KUBE_SETS names no Kubernetes set: eval "$(bash scripts/unpack-kube-sets.sh ../shared /var/tmp/kube)"');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = mkdtempSync(join(tmpdir(), 'sk-bench-life-'));
const BIN = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const root = join(work, 'rootfs');
spawnSync('mkdir', ['-p', join(root, 'bin'), join(root, 'etc')]);
spawnSync('cp', ['/bin/busybox', join(root, 'bin', 'busybox')]);
writeFileSync(join(root, 'etc', 'motd'), 'hello\n');
const sif = join(work, 'web.sif');
buildSif({ rootfs: root, out: sif, deterministic: true, imageConfig: { cmd: ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'] } });
const manifest = join(work, 'web.yaml');
writeFileSync(
  manifest,
  `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
      containers: [{name: web, image: bench.local/web:v1, imagePullPolicy: Never}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30090}]}
`,
);

async function until(check: () => Promise<boolean>, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

function resolves(server: string, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const t = setTimeout(() => finish(false), 500);
    const finish = (ok: boolean) => {
      clearTimeout(t);
      sock.close();
      resolve(ok);
    };
    sock.on('message', (m) => finish((packet.decode(m).answers ?? []).length > 0));
    sock.on('error', () => finish(false));
    sock.send(packet.encode({ type: 'query', id: 1, questions: [{ type: 'A', name } as packet.Question] }), 53, server);
  });
}

async function once(runtime: string | undefined): Promise<Record<string, number>> {
  if (runtime) process.env.SIFKUBE_NODE_RUNTIME = runtime;
  else delete process.env.SIFKUBE_NODE_RUNTIME;
  const name = `bl-${randomBytes(3).toString('hex')}`;
  const kubeconfig = join(work, `${name}.kubeconfig`);
  try {
    let state = await initCluster({ config: defaultClusterConfig(name, 2), kubeBinDir: set, waitMs: 180_000, kubeconfig });
    await loadImage(state, sif, 'bench.local/web:v1');
    spawnSync(process.execPath, [BIN, 'kubectl', '--name', name, '--', 'apply', '-f', manifest], { stdio: 'ignore' });
    const worker = state.plan.nodes[1].address;
    const serves = () => fetch(`http://${worker}:30090/motd`, { signal: AbortSignal.timeout(500) }).then((r) => r.ok, () => false);
    await until(serves);

    const api = await clusterApi(state);
    const cp = state.plan.nodes[0].address;
    const svc = `s${randomBytes(3).toString('hex')}`;
    const t0 = performance.now();
    await api.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: svc }, spec: { ports: [{ port: 80 }], selector: { app: 'web' } } } });
    await until(() => resolves(cp, `${svc}.default.svc.cluster.local`));
    const dns = performance.now() - t0;

    const t1 = performance.now();
    await addKubeWorkers(state, [undefined], 180_000);
    const add = performance.now() - t1;

    state = readClusterState(name);
    const t2 = performance.now();
    await stopCluster(state);
    await startCluster(readClusterState(name), 180_000);
    await until(serves);
    const restart = performance.now() - t2;
    return { 'service to DNS answer': dns, 'node add to Ready': add, 'stop+start to serving': restart };
  } finally {
    await deleteCluster(name, kubeconfig).catch(() => undefined);
  }
}

const results: Record<string, Record<string, number[]>> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const [label, runtime] of [['sifkube-oci', undefined], ['runc', 'runc']] as const) {
    const res = await once(runtime);
    results[label] ??= {};
    for (const [k, v] of Object.entries(res)) (results[label][k] ??= []).push(v);
    console.log(`round ${r + 1}, nodes run by ${label}: ${Object.entries(res).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}`);
  }
}
rmSync(work, { recursive: true, force: true });
console.log(`\n${basename(set)}, 2-node cluster, medians of ${ROUNDS} rounds (ms):`);
for (const [label, m] of Object.entries(results)) console.log(`nodes run by ${label}: ${Object.entries(m).map(([k, v]) => `${k} ${median(v).toFixed(0)}`).join(', ')}`);
for (const k of Object.keys(results['sifkube-oci'])) console.log(`${k}: ${(median(results['sifkube-oci'][k]) / median(results.runc[k])).toFixed(2)}x runc`);
