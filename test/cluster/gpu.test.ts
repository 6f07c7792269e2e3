import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { clusterLeftovers, deleteCluster, nodeLayout, readClusterState } from '../../src/cluster/index.js';
import { buildSif } from '../../src/sif/index.js';
import { FAKE_GPUS, fakeNvidiaTree, LIB_DIR } from '../helpers/fake-nvidia.js';
import { kubeSets, missing } from '../helpers/kube-sets.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { BIN, makeRootfs } from '../helpers/sif.js';

// The GPU device plugin driven by the real kubelet of every shared set, on a fake NVIDIA tree (two
// GPUs): node capacity, allocation into pods, a pod that must wait, a kubelet restart.
const sets = kubeSets();
const title = (v: string) => `gpu ${v}: a gpu: true node on a fake NVIDIA tree → capacity nvidia.com/gpu 2 → two pods get one GPU each (one device node, the driver files read-only, NVIDIA_VISIBLE_DEVICES) → a third stays Pending → kubelet restart → the plugin registers again and the third gets the freed GPU → delete, host as before`;

if (sets.length === 0) {
  const why = missing('SIFKUBE_KUBE_SETS');
  console.log(`skipped: ${title('(no set)')}: ${why}`);
  test.skip(title('(no set)'), () => undefined);
}

const pod = (name: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: example.org/gpu:v1
    imagePullPolicy: Never
    command: [sleep, '3600']
    resources: {limits: {nvidia.com/gpu: 1}}
`;

const PROBE = `ls /dev | grep nvidia | tr "\\n" " "; echo; echo "env $NVIDIA_VISIBLE_DEVICES"; ls ${LIB_DIR} | tr "\\n" " "; echo; nvidia-smi -L | head -1; (echo x > ${LIB_DIR}/libcuda.so.1) 2>/dev/null && echo WROTE || echo refused`;

for (const dir of sets) {
  test(title(basename(dir)), async () => {
    const name = `t-gpu-${randomBytes(3).toString('hex')}`;
    const node = `${name}-control-plane`;
    const work = mkdtempSync(join(tmpdir(), 'sk-gpu-'));
    // Not under /tmp: the tree must be where a node can see it too (a node has its own /tmp).
    const tree = fakeNvidiaTree('/var/tmp');
    const kubeconfig = join(work, 'kubeconfig');
    const sifkube = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
    const k = (...args: string[]) => sifkube(['kubectl', '--name', name, '--', ...args]);
    const ok = (r: ReturnType<typeof sifkube>) => {
      assert.is(r.status, 0, `exit ${r.status}\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    const until = async (what: string, fn: () => boolean, tries = 240) => {
      for (let i = 0; i < tries; i++) {
        if (fn()) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.unreachable(`timed out waiting for ${what}`);
    };
    const phase = (p: string) => k('get', 'pod', p, '-o', 'jsonpath={.status.phase}').stdout;
    const before = hostSnapshot();
    try {
      writeFileSync(join(work, 'cluster.yaml'), `apiVersion: sifkube.io/v1alpha1\nkind: Cluster\ngpuRoot: ${tree.root}\nnodes: [{role: control-plane, gpu: true}]\n`);
      ok(sifkube(['init', '--name', name, '--config', join(work, 'cluster.yaml'), '--kube-bin-dir', dir, '--wait', '3m', '--kubeconfig', kubeconfig]));
      const capacity = () => k('get', 'node', node, '-o', 'jsonpath={.status.capacity.nvidia\\.com/gpu}/{.status.allocatable.nvidia\\.com/gpu}').stdout;
      await until('capacity nvidia.com/gpu 2', () => capacity() === '2/2');
      assert.match(ok(sifkube(['status', '--name', name])), /gpu-device-plugin\s+running healthy/);

      const sif = join(work, 'gpu.sif');
      const rootfs = makeRootfs(work);
      for (const app of ['sleep', 'grep', 'tr', 'head']) symlinkSync('busybox', join(rootfs, 'bin', app));
      buildSif({ rootfs, out: sif, deterministic: true, imageConfig: { cmd: ['sh'] } });
      ok(sifkube(['image', 'load', '--name', name, sif, '--tag', 'example.org/gpu:v1']));
      for (const p of ['gpu-a', 'gpu-b']) writeFileSync(join(work, `${p}.yaml`), pod(p));
      ok(k('apply', '-f', join(work, 'gpu-a.yaml'), '-f', join(work, 'gpu-b.yaml')));
      await until('gpu-a and gpu-b Running', () => phase('gpu-a') === 'Running' && phase('gpu-b') === 'Running');

      const seen = ['gpu-a', 'gpu-b'].map((p) => ok(k('exec', p, '--', 'sh', '-c', PROBE)).split('\n'));
      for (const lines of seen) {
        const devs = lines[0].trim().split(' ');
        assert.is(devs.filter((d) => /^nvidia\d+$/.test(d)).length, 1, `one GPU node: ${lines[0]}`);
        assert.equal(devs.filter((d) => !/^nvidia\d+$/.test(d)).sort(), ['nvidia-uvm', 'nvidia-uvm-tools', 'nvidiactl']);
        const gpu = FAKE_GPUS.find((g) => devs.includes(`nvidia${g.index}`))!;
        assert.is(lines[1], `env ${gpu.uuid}`);
        assert.is(lines[2].trim(), 'libcuda.so.1 libnvidia-ml.so.1 libnvidia-ptxjitcompiler.so.1');
        assert.match(lines[3], /^GPU 0: NVIDIA Fake T4 \(UUID: GPU-/);
        assert.is(lines[4], 'refused');
      }
      assert.not.equal(seen[0][0], seen[1][0], 'the two pods have different GPUs');

      writeFileSync(join(work, 'gpu-c.yaml'), pod('gpu-c'));
      ok(k('apply', '-f', join(work, 'gpu-c.yaml')));
      await until('gpu-c unschedulable', () => /Insufficient nvidia\.com\/gpu/.test(k('get', 'pod', 'gpu-c', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}').stdout));
      assert.is(phase('gpu-c'), 'Pending');

      // A kubelet restart: the supervisor starts a new one, which empties device-plugins/; the plugin registers again.
      const layout = nodeLayout(readClusterState(name).plan, readClusterState(name).plan.nodes[0]);
      const kubeletPid = readdirSync('/proc').find((p) => /^\d+$/.test(p) && existsSync(`/proc/${p}/cmdline`) && readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(`--config=${layout.kubeletConfig}`));
      assert.ok(kubeletPid, 'the node kubelet runs');
      process.kill(Number(kubeletPid), 'SIGKILL');
      const pluginLog = join(layout.logs, 'gpu-device-plugin.log');
      await until('the plugin registers again', () => existsSync(pluginLog) && /registration 2\)/.test(readFileSync(pluginLog, 'utf8')));
      await until('capacity nvidia.com/gpu 2 again', () => capacity() === '2/2');
      ok(k('delete', 'pod', 'gpu-a', '--wait=true'));
      await until('gpu-c Running on the freed GPU', () => phase('gpu-c') === 'Running');
      const c = ok(k('exec', 'gpu-c', '--', 'sh', '-c', 'ls /dev | grep "nvidia[0-9]"')).trim();
      assert.is(c, seen[0][0].trim().split(' ').find((d) => /^nvidia\d+$/.test(d)));
      ok(sifkube(['delete', '--name', name, '--kubeconfig', kubeconfig]));
    } finally {
      await deleteCluster(name, kubeconfig).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
      tree.remove();
    }
    assert.equal(clusterLeftovers(name), []);
    assert.equal(diffSnapshots(before, hostSnapshot()), []);
  });
}

test.run();
