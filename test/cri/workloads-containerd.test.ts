import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CriClient } from '../../src/cri/index.js';
import { codeOf, deleteLink, podConfig, startTestCri, suffix, writeBridgeConflist, type TestCri } from '../helpers/cri.js';
import { startContainerd, type TestContainerd } from '../helpers/containerd.js';
import { busyboxRootfs, layerFrom, push, startRegistry, tagImage, type TestRegistry } from '../helpers/registry.js';
import { spdyRemoteCommand } from '../helpers/spdy-client.js';

// What real workloads met (issue 16), run the same way on sifkube and on containerd 1.6.
let cri: TestCri;
let ctd: TestContainerd;
let reg: TestRegistry;
let image = '';
let ourBridge = '';
const theirBridge = `skcw${suffix()}`;
const work = mkdtempSync(join(tmpdir(), 'sk-cri-ctdwl-'));
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
const INVALID_ARGUMENT = 3;

test.before(async () => {
  reg = await startRegistry();
  const layout = join(work, 'layout');
  busyboxRootfs(join(work, 'rootfs'));
  tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [layerFrom(layout, join(work, 'rootfs'))], config: { Entrypoint: ['sleep', '100000'], Env: ['PATH=/bin'] } }]);
  image = `${reg.host}/peer/busybox:v1`;
  push(layout, 'v1', image);
  cri = await startTestCri();
  ourBridge = writeBridgeConflist(cri).bridge;
  const ctdNet = join(work, 'net.d');
  mkdirSync(ctdNet);
  writeFileSync(join(ctdNet, '10-peer.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'peer', plugins: [{ type: 'bridge', bridge: theirBridge, isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.233.8.0/24' }]], dataDir: join(work, 'ipam') } }] }));
  ctd = await startContainerd({ registry: reg.host, pauseImage: image, cniConfDir: ctdNet });
  await cri.client.image.PullImage({ image: { image } });
  await ctd.client.image.PullImage({ image: { image } });
});

test.after(async () => {
  try {
    for (const c of [cri?.client, ctd?.client].filter(Boolean) as CriClient[]) {
      for (const s of (await c.runtime.ListPodSandbox({})).items) {
        await c.runtime.StopPodSandbox({ podSandboxId: s.id });
        await c.runtime.RemovePodSandbox({ podSandboxId: s.id });
      }
    }
  } finally {
    await ctd?.stop();
    await cri?.dispose();
    await reg?.stop();
    deleteLink(ourBridge);
    deleteLink(theirBridge);
    writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
    rmSync(work, { recursive: true, force: true });
  }
});

const peers = () => [['ours', cri.client], ['containerd', ctd.client]] as const;

interface Run {
  sandbox: string;
  id: string;
  logs: string;
}

async function pod(c: CriClient, name: string, extra: Record<string, unknown> = {}): Promise<{ sandbox: string; config: Record<string, unknown>; logs: string }> {
  const logs = join(work, `logs-${name}-${suffix()}`);
  const config = podConfig(name, { logDirectory: logs, ...extra });
  const { podSandboxId: sandbox } = await c.runtime.RunPodSandbox({ config });
  return { sandbox, config, logs };
}

async function runOn(c: CriClient, name: string, command: string[], container: Record<string, unknown> = {}, sandbox: Record<string, unknown> = {}, start = true): Promise<Run> {
  const p = await pod(c, name, sandbox);
  const { containerId: id } = await c.runtime.CreateContainer({
    podSandboxId: p.sandbox,
    config: { metadata: { name: 'main', attempt: 0 }, image: { image }, command, logPath: 'main/0.log', ...container },
    sandboxConfig: p.config,
  });
  if (start) await c.runtime.StartContainer({ containerId: id });
  return { sandbox: p.sandbox, id, logs: p.logs };
}

async function exited(c: CriClient, id: string) {
  for (let i = 0; i < 400; i++) {
    const { status } = await c.runtime.ContainerStatus({ containerId: id });
    if (status.state === 'CONTAINER_EXITED') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id} did not exit`);
}

/** The log's records without timestamps. */
function records(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').slice(1).join(' '));
}

/** Host pids whose command line is exactly ARGS. */
function processes(...args: string[]): number[] {
  const want = `${args.join('\0')}\0`;
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === want;
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('/dev/stdout and /dev/stderr open in plain, tty and stdin containers, as on containerd', async () => {
  const cmd = ['sh', '-c', 'echo x > /dev/stderr && echo y > /dev/stdout && echo done'];
  for (const io of [{}, { tty: true }, { stdin: true }, { stdin: true, stdinOnce: true, tty: true }]) {
    const out: Record<string, unknown> = {};
    for (const [who, c] of peers()) {
      const r = await runOn(c, `fds-${who}`, cmd, io);
      const st = await exited(c, r.id);
      await new Promise((res) => setTimeout(res, 200));
      out[who] = { exitCode: st.exitCode, log: records(join(r.logs, 'main/0.log')).sort() };
      await c.runtime.RemovePodSandbox({ podSandboxId: r.sandbox });
    }
    assert.equal(out.ours, out.containerd, JSON.stringify(io));
    assert.is((out.ours as { exitCode: number }).exitCode, 0, JSON.stringify(io));
  }
});

test('StopContainer right after StartContainer: the process gets the stop signal (no timeout kill)', async () => {
  const cmd = ['sh', '-c', 'trap "exit 3" TERM; while :; do sleep 0.05; done'];
  for (const [who, c] of peers()) {
    for (let i = 0; i < (who === 'ours' ? 4 : 1); i++) {
      const r = await runOn(c, `stop-${who}`, cmd);
      const t0 = Date.now();
      await c.runtime.StopContainer({ containerId: r.id, timeout: 5 });
      const took = Date.now() - t0;
      const st = await exited(c, r.id);
      assert.is(st.exitCode, 3, `${who}: exit ${st.exitCode} after ${took} ms`);
      assert.ok(took < 3000, `${who}: stop took ${took} ms`);
      await c.runtime.RemovePodSandbox({ podSandboxId: r.sandbox });
    }
  }
});

test('a container whose init exits in a shared PID namespace: its other processes are gone before it reads exited', async () => {
  const tag = String(900000 + Math.floor(Math.random() * 99999));
  const pidPod = { linux: { securityContext: { namespaceOptions: { pid: 'POD' } } } };
  for (const [who, c] of peers()) {
    const r = await runOn(c, `left-${who}`, ['sh', '-c', `sleep ${tag} & sleep 0.3; exit 0`], { linux: pidPod.linux }, pidPod);
    const st = await exited(c, r.id);
    assert.is(st.exitCode, 0);
    assert.equal(processes('sleep', tag), [], `${who}: the background sleep outlived the container`);
    await c.runtime.RemovePodSandbox({ podSandboxId: r.sandbox });
  }
});

test('no hostname and a pod name over 64 characters: the pod gets the node host name, as on containerd', async () => {
  const name = `web-0-${'a1b2c3d4'.repeat(8)}`;
  const out: string[] = [];
  for (const [who, c] of peers()) {
    const r = await runOn(c, `${name}-${who}`, ['busybox', 'hostname'], {}, { hostname: '' });
    await exited(c, r.id);
    await new Promise((res) => setTimeout(res, 200));
    out.push(records(join(r.logs, 'main/0.log')).join());
    await c.runtime.RemovePodSandbox({ podSandboxId: r.sandbox });
  }
  assert.equal(out, [`stdout F ${hostname()}`, `stdout F ${hostname()}`]);
  const e = await codeOf(cri.client.runtime.RunPodSandbox({ config: podConfig('long', { hostname: 'h'.repeat(70) }) }));
  assert.is(e.code, INVALID_ARGUMENT);
  assert.match(e.details, /config\.hostname h+ is not a valid host name/);
});

test('run_as_group without run_as_user: refused by both, INVALID_ARGUMENT naming the fields here', async () => {
  const linux = { securityContext: { runAsGroup: { value: '1000' } } };
  for (const [who, c] of peers()) {
    const p = await pod(c, `grp-${who}`);
    const req = { podSandboxId: p.sandbox, config: { metadata: { name: 'main', attempt: 0 }, image: { image }, command: ['true'], linux }, sandboxConfig: p.config };
    const e = await codeOf(c.runtime.CreateContainer(req));
    if (who === 'ours') {
      assert.is(e.code, INVALID_ARGUMENT);
      assert.match(e.details, /run_as_group 1000 is set without run_as_user or run_as_username/);
    }
    assert.equal((await c.runtime.ListContainers({})).containers.filter((x: { podSandboxId: string }) => x.podSandboxId === p.sandbox), []);
    await c.runtime.RemovePodSandbox({ podSandboxId: p.sandbox });
  }
});

test('attach to a container created without log_path: its live stdin, stdout and stderr, as on containerd', async () => {
  const out: Record<string, unknown> = {};
  for (const [who, c] of peers()) {
    const r = await runOn(c, `att-${who}`, ['sh', '-c', 'read x; echo got $x; echo err >&2; exit 0'], { logPath: '', stdin: true, stdinOnce: true });
    const { url } = await c.runtime.Attach({ containerId: r.id, stdin: true, stdout: true, stderr: true, tty: false });
    const res = await spdyRemoteCommand(url, { stdin: 'hello\n', stdout: true, stderr: true });
    out[who] = { stdout: res.stdout, stderr: res.stderr };
    await exited(c, r.id);
    await c.runtime.RemovePodSandbox({ podSandboxId: r.sandbox });
  }
  assert.equal(out.ours, out.containerd);
  assert.equal(out.ours, { stdout: 'got hello\n', stderr: 'err\n' });
});

/** Whether PATH is a mount point on the host. */
function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
}

test('mount propagation: bidirectional mounts made inside reach the host, host-to-container sees later host mounts, as on containerd', async () => {
  const privileged = { securityContext: { privileged: true, namespaceOptions: { pid: 'CONTAINER' } } };
  for (const [who, c] of peers()) {
    const dir = join(work, `prop-${who}`);
    mkdirSync(join(dir, 'later'), { recursive: true });
    execFileSync('mount', ['--bind', dir, dir]);
    execFileSync('mount', ['--make-shared', dir]);
    try {
      const mounts = [
        { containerPath: '/bidi', hostPath: dir, propagation: 'PROPAGATION_BIDIRECTIONAL' },
        { containerPath: '/h2c', hostPath: dir, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
      ];
      const cmd = ['sh', '-c', 'mkdir -p /bidi/inside && mount -t tmpfs tmpfs /bidi/inside && sleep 1000'];
      const r = await runOn(c, `prop-${who}`, cmd, { mounts, linux: privileged }, { linux: { securityContext: { privileged: true } } });
      for (let i = 0; i < 100 && !mounted(join(dir, 'inside')); i++) await new Promise((res) => setTimeout(res, 50));
      assert.ok(mounted(join(dir, 'inside')), `${who}: the mount made inside is on the host`);
      execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(dir, 'later')]);
      const seen = await c.runtime.ExecSync({ containerId: r.id, cmd: ['sh', '-c', 'grep -c " /h2c/later " /proc/self/mountinfo'], timeout: 10 });
      assert.is(seen.stdout.toString().trim(), '1', `${who}: a later host mount is seen inside`);
      await c.runtime.StopPodSandbox({ podSandboxId: r.sandbox });
      await c.runtime.RemovePodSandbox({ podSandboxId: r.sandbox });
    } finally {
      execFileSync('umount', ['-R', '-l', dir]);
    }
  }
  const priv = join(work, 'prop-private');
  mkdirSync(priv);
  execFileSync('mount', ['--bind', '--make-private', priv, priv]);
  try {
    const p = await pod(cri.client, 'prop-private');
    const e = await codeOf(cri.client.runtime.CreateContainer({ podSandboxId: p.sandbox, config: { metadata: { name: 'main', attempt: 0 }, image: { image }, command: ['true'], mounts: [{ containerPath: '/x', hostPath: priv, propagation: 'PROPAGATION_BIDIRECTIONAL' }] }, sandboxConfig: p.config }));
    assert.is(e.code, INVALID_ARGUMENT);
    assert.match(e.details, /config\.mounts\[0\]\.propagation PROPAGATION_BIDIRECTIONAL: host_path .* is not a shared mount: make it one/);
    await cri.client.runtime.RemovePodSandbox({ podSandboxId: p.sandbox });
  } finally {
    execFileSync('umount', [priv]);
  }
});

test.run();
