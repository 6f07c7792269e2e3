import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bootNodes,
  cgroupMounts,
  clusterLeftovers,
  clusterNames,
  cniConfList,
  criAnswers,
  defaultClusterConfig,
  deleteCluster,
  etcdArgs,
  nodeLayout,
  nodeProcessCgroup,
  prepareCluster,
  readSupervisorStatus,
  resolveEtcd,
  until,
} from '../../src/cluster/index.js';
import { criClient } from '../../src/cri/index.js';
import { buildSif } from '../../src/sif/index.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { BIN, makeRootfs } from '../helpers/sif.js';

// DESIGN.md: a node's containers outlive a restart of its supervisor and CRI server. The node's
// `sifkube node boot` is killed; node-init starts it again; the pod's container still runs.
const tag = randomBytes(3).toString('hex');
const name = `t-rst-${tag}`;

function bootPid(cgroup: string): number | undefined {
  const pids = readFileSync(join(cgroupMounts().find((m) => m.endsWith('/pids'))!, cgroup, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
  return pids.find((p) => {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      return cmd.includes('\0node\0boot\0') && !cmd.includes('\0node-init\0');
    } catch {
      return false;
    }
  });
}

test('a pod container survives the node supervisor and CRI server being killed; both come back', async () => {
  const before = hostSnapshot();
  const work = mkdtempSync(join(tmpdir(), 'sk-rst-'));
  const { state } = await prepareCluster(defaultClusterConfig(name, 1));
  const plan = state.plan;
  const node = plan.nodes[0];
  const layout = nodeLayout(plan, node);
  try {
    await bootNodes(plan, [node], () => [{ name: 'etcd', command: resolveEtcd(), args: etcdArgs(node.name, layout.etcdData), health: { url: 'http://127.0.0.1:2379/health' } }]);
    const sif = join(work, 'app.sif');
    buildSif({ rootfs: makeRootfs(work), out: sif, deterministic: true, imageConfig: { cmd: ['sh'] } });
    assert.is(spawnSync(process.execPath, [BIN, 'image', 'load', '--name', name, sif, '--tag', 'example.org/app:v1']).status, 0);

    // The node's CNI network as init writes it (bridge + host-local on the node's pod CIDR).
    mkdirSync(layout.cniConfDir, { recursive: true });
    writeFileSync(layout.cniConfFile, JSON.stringify(cniConfList(node, layout)));
    let c = criClient(layout.criSocket);
    const pod = { metadata: { name: 'p', namespace: 'default', uid: `uid-${tag}`, attempt: 0 }, hostname: 'p', logDirectory: join(layout.dir, 'pods'), linux: { cgroupParent: `${node.cgroupRoot}/pod-${tag}` } };
    const { podSandboxId } = await c.runtime.RunPodSandbox({ config: pod });
    // With resources, as the kubelet always sends them, the container's cgroup is under the pod's parent.
    const { containerId } = await c.runtime.CreateContainer({ podSandboxId, config: { metadata: { name: 'sleeper', attempt: 0 }, image: { image: 'example.org/app:v1' }, command: ['busybox', 'sleep', '3600'], logPath: 'sleeper.log', linux: { resources: { cpuShares: 2 } } }, sandboxConfig: pod });
    await c.runtime.StartContainer({ containerId });
    c.close();

    const boot = bootPid(nodeProcessCgroup(node));
    assert.ok(boot, 'node boot process');
    process.kill(boot!, 'SIGKILL');
    await until('node boot started again', 20_000, 'see node.log', () => {
      const now = bootPid(nodeProcessCgroup(node));
      return now !== undefined && now !== boot;
    });
    await until('CRI answering again', 20_000, 'see cri.log', () => criAnswers(layout.criSocket));
    await until('etcd healthy again', 30_000, 'see etcd.log', () => existsSync(layout.supervisorStatus) && readSupervisorStatus(layout.supervisorStatus).components[0]?.healthy === true);

    c = criClient(layout.criSocket);
    try {
      const st = (await c.runtime.ContainerStatus({ containerId, verbose: true })).status;
      assert.is(st.state, 'CONTAINER_RUNNING');
      const exec = await c.runtime.ExecSync({ containerId, cmd: ['busybox', 'echo', 'still here'], timeout: 10 });
      assert.is(Buffer.from(exec.stdout).toString(), 'still here\n');
    } finally {
      c.close();
    }
    assert.match(readFileSync(join(layout.logs, 'node.log'), 'utf8'), /node-init: .* exited on its own .*: starting it again/);
  } finally {
    await deleteCluster(name, `/tmp/${name}-kubeconfig`);
    rmSync(work, { recursive: true, force: true });
  }
  assert.equal(clusterLeftovers(name), []);
  assert.equal(diffSnapshots(before, hostSnapshot()).filter((l) => l.includes(name) || l.includes(clusterNames(name).id) || l.includes(tag)), []);
});

test('init --persistent refuses a bad folder before resolving binaries or touching the host', () => {
  const pname = `t-per-${tag}`;
  const before = hostSnapshot();
  const full = mkdtempSync('/var/tmp/sk-per-full-');
  writeFileSync(join(full, 'mine'), '');
  try {
    for (const [dir, re] of [
      ['var/tmp/x', /^sifkube: --persistent var\/tmp\/x: not an absolute path: pass an absolute folder path$/m],
      [full, /^sifkube: --persistent .*: not empty and not a sifkube state: pass an empty or new folder$/m],
    ] as const) {
      const r = spawnSync(process.execPath, [BIN, 'init', '--name', pname, '--persistent', dir, '--kube-bin-dir', full], { encoding: 'utf8' });
      assert.is(r.status, 98, r.stderr);
      assert.match(r.stderr, re);
    }
  } finally {
    rmSync(full, { recursive: true, force: true });
  }
  assert.equal(clusterLeftovers(pname), []);
  assert.equal(diffSnapshots(before, hostSnapshot()).filter((l) => l.includes(pname) || l.includes(clusterNames(pname).id)), []);
});

test.run();
