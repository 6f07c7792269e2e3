import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tmpdir } from 'node:os';
import { parseClusterConfig, planCluster } from '../../src/cluster/index.js';
import { nodeCriConfig } from '../../src/cluster/node/cri.js';
import { nodeGpuAccess } from '../../src/cluster/node/gpu.js';
import { nodeLayout } from '../../src/cluster/components/layout.js';
import { FAKE_GPUS, fakeNvidiaTree, LIB_DIR, NVIDIA_MAJOR, UVM_MAJOR } from '../helpers/fake-nvidia.js';

test("node containers: each GPU node gets its share's driver files read-only and the tree's root; every NVIDIA node not its own is denied to it; its CRI resolves CDI against its share only", () => {
  const tree = fakeNvidiaTree(tmpdir());
  try {
    const config = parseClusterConfig(`apiVersion: sifkube.io/v1alpha1\nkind: Cluster\nname: t-gpunode\ngpuRoot: ${tree.root}\nnodes: [{role: control-plane}, {role: worker, gpu: true}, {role: worker, gpu: true}]\n`, 'c.yaml');
    const plan = planCluster(config, []);
    const [cp, w1, w2] = plan.nodes.map((n) => nodeGpuAccess(plan, n));
    const deny = (major: number, minor: number) => ({ allow: false, type: 'c', major, minor, access: 'rwm' });
    assert.equal(cp.mounts, []);
    assert.equal(cp.env, []);
    assert.equal(cp.deviceRules, [deny(NVIDIA_MAJOR, 255), deny(UVM_MAJOR, 0), deny(UVM_MAJOR, 1), deny(NVIDIA_MAJOR, 0), deny(NVIDIA_MAJOR, 1)]);
    assert.equal(w1.deviceRules, [deny(NVIDIA_MAJOR, 1)], 'the other GPU node\'s GPU');
    assert.equal(w2.deviceRules, [deny(NVIDIA_MAJOR, 0)]);
    assert.equal(w1.env, [`NVIDIA_VISIBLE_DEVICES=${FAKE_GPUS[0].uuid}`]);
    assert.equal(w1.mounts[0], { destination: tree.root, type: 'bind', source: tree.root, options: ['rbind', 'ro'] });
    const files = w1.mounts.slice(1);
    assert.equal(files.map((m) => m.destination).sort(), ['/usr/bin/nvidia-smi', `${LIB_DIR}/libcuda.so.1`, `${LIB_DIR}/libnvidia-ml.so.1`, `${LIB_DIR}/libnvidia-ptxjitcompiler.so.1`]);
    assert.ok(files.every((m) => m.options.includes('ro') && m.source.startsWith(tree.root)));
    const cri = plan.nodes.map((n) => nodeCriConfig(plan, nodeLayout(plan, n), config.registry));
    assert.equal(cri.map((c) => [c.gpuRoot, c.gpus]), [[undefined, undefined], [tree.root, [0]], [tree.root, [1]]]);
  } finally {
    tree.remove();
  }
});

test.run();
