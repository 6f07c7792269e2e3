import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status as S } from '@grpc/grpc-js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { criClient } from '../../src/cri/index.js';
import { codeOf, podConfig, startTestCri, suffix, writeBridgeConflist, type TestCri } from '../helpers/cri.js';

const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
let cri: TestCri;

test.before(async () => {
  cri = await startTestCri();
});
test.after(async () => {
  await cri.dispose();
});

test('Version names sifkube and runtime API v1', async () => {
  const v = await cri.client.runtime.Version({ version: '0.1.0' });
  assert.is(v.runtimeName, 'sifkube');
  assert.is(v.runtimeApiVersion, 'v1');
  assert.match(v.runtimeVersion, /^\d+\.\d+\.\d+/);
});

test('Status: NetworkReady follows the presence of a CNI configuration', async () => {
  const before = await cri.client.runtime.Status({});
  const cond = (r: { status: { conditions: { type: string; status: boolean; reason: string; message: string }[] } }, t: string) => r.status.conditions.find((c) => c.type === t)!;
  assert.is(cond(before, 'RuntimeReady').status, true);
  assert.is(cond(before, 'NetworkReady').status, false);
  assert.is(cond(before, 'NetworkReady').reason, 'NetworkPluginNotReady');
  assert.match(cond(before, 'NetworkReady').message, cri.config.cni.confDir);
  writeBridgeConflist(cri);
  const after = await cri.client.runtime.Status({ verbose: true });
  assert.is(cond(after, 'NetworkReady').status, true);
  assert.ok(after.info.cniConfig.includes('bridge'));
  rmSync(join(cri.config.cni.confDir, '10-test.conflist'));
});

test('RuntimeConfig reports the cgroupfs driver', async () => {
  const r = await cri.client.runtime.RuntimeConfig({});
  assert.is(r.linux.cgroupDriver, 'CGROUPFS');
});

test('bad requests get INVALID_ARGUMENT or NOT_FOUND naming the field, and the server keeps serving', async () => {
  let e = await codeOf(cri.client.runtime.RunPodSandbox({}));
  assert.is(e.code, S.INVALID_ARGUMENT);
  assert.match(e.details, /^config is missing/);
  e = await codeOf(cri.client.runtime.RunPodSandbox({ config: { metadata: { name: 'x', namespace: 'default' } } }));
  assert.is(e.code, S.INVALID_ARGUMENT);
  assert.match(e.details, /config\.metadata\.uid is empty/);
  e = await codeOf(cri.client.runtime.RunPodSandbox({ config: podConfig('p'), runtimeHandler: 'kata' }));
  assert.is(e.code, S.NOT_FOUND);
  assert.match(e.details, /runtime_handler kata is unknown/);
  e = await codeOf(cri.client.runtime.RunPodSandbox({ config: podConfig('p', { hostname: 'Not_A_Host' }) }));
  assert.is(e.code, S.INVALID_ARGUMENT);
  assert.match(e.details, /config\.hostname/);
  e = await codeOf(cri.client.runtime.PodSandboxStatus({ podSandboxId: '' }));
  assert.is(e.code, S.INVALID_ARGUMENT);
  assert.match(e.details, /pod_sandbox_id is empty/);
  e = await codeOf(cri.client.runtime.PodSandboxStatus({ podSandboxId: 'feedface' }));
  assert.is(e.code, S.NOT_FOUND);
  e = await codeOf(cri.client.runtime.StopPodSandbox({ podSandboxId: 'feedface' }));
  assert.is(e.code, S.NOT_FOUND);
  e = await codeOf(cri.client.runtime.ContainerStatus({ containerId: 'feedface' }));
  assert.is(e.code, S.NOT_FOUND);
  e = await codeOf(cri.client.runtime.UpdateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: 'nonsense' } } }));
  assert.is(e.code, S.INVALID_ARGUMENT);
  assert.match(e.details, /pod_cidr nonsense is not an IPv4 CIDR/);
  assert.is((await cri.client.runtime.Version({})).runtimeName, 'sifkube');
});

test('a pod without any CNI configuration is refused with the folder named, and nothing is left', async () => {
  const e = await codeOf(cri.client.runtime.RunPodSandbox({ config: podConfig('nonet') }));
  assert.is(e.code, S.UNIMPLEMENTED);
  assert.match(e.details, /no CNI network configuration in/);
  const list = await cri.client.runtime.ListPodSandbox({});
  assert.equal(list.items, []);
});

test('what sifkube does not do is UNIMPLEMENTED with the reason, never a fake success', async () => {
  for (const [method, req] of [
    ['CheckpointContainer', { containerId: 'x' }],
    ['UpdatePodSandboxResources', { podSandboxId: 'x' }],
  ] as const) {
    const e = await codeOf(cri.client.runtime[method](req));
    assert.is(e.code, S.UNIMPLEMENTED, method);
    assert.match(e.details, /not supported yet/);
  }
  for (const [method, req] of [
    ['Exec', { containerId: 'x', cmd: ['sh'], stdout: true }],
    ['Attach', { containerId: 'x', stdout: true }],
    ['PortForward', { podSandboxId: 'x', port: [80] }],
  ] as const) {
    assert.is((await codeOf(cri.client.runtime[method](req))).code, S.NOT_FOUND, method);
  }
});

test('ImageFsInfo reports the image store (empty here)', async () => {
  const r = await cri.client.image.ImageFsInfo({});
  assert.is(r.imageFilesystems.length, 1);
  assert.is(r.imageFilesystems[0].fsId.mountpoint, cri.config.imageDir);
  assert.is(r.imageFilesystems[0].usedBytes.value, '0');
  assert.ok(BigInt(r.imageFilesystems[0].timestamp) > 0n);
});

test('empty lists and streams answer without error', async () => {
  assert.equal((await cri.client.runtime.ListContainers({})).containers, []);
  assert.equal(await cri.client.runtime.StreamPodSandboxes({}), []);
  assert.equal((await cri.client.runtime.ListContainerStats({})).stats, []);
});

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

test('cri serve: a bad configuration file is a one-line startup error naming the file and the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-cri-conf-'));
  try {
    const file = join(dir, 'cri.yaml');
    writeFileSync(file, 'stateDir: /tmp/x\nlogLevl: debug\n');
    let r = cli(['cri', 'serve', '--socket', join(dir, 's.sock'), '--config', file]);
    assert.is(r.status, 71);
    assert.is(r.stderr.trim(), `sifkube: ${file}: unknown key logLevl: use one of stateDir, runDir, imageDir, cni, registry, streaming, seccompDefault, cgroupParent, logLevel, requireSigned, gpuRoot, gpus`);
    for (const [text, want] of [
      ['gpuRoot: relative\n', /gpuRoot must be an absolute path, not relative/],
      ['gpuRoot: /\ngpus: [0, -1]\n', /gpus must be a list of GPU indexes \(the N of \/dev\/nvidiaN\)/],
    ] as const) {
      writeFileSync(file, text);
      const bad = cli(['cri', 'serve', '--socket', join(dir, 's.sock'), '--config', file]);
      assert.is(bad.status, 71);
      assert.match(bad.stderr, want);
    }
    writeFileSync(file, 'cni: [1, 2\n');
    r = cli(['cri', 'serve', '--config', file]);
    assert.is(r.status, 71);
    assert.match(r.stderr, /is not valid YAML/);
    writeFileSync(file, 'stateDir: relative/dir\n');
    r = cli(['cri', 'serve', '--config', file]);
    assert.match(r.stderr, /stateDir must be an absolute path/);
    writeFileSync(file, 'registry:\n  mirrors:\n    docker.io: [ftp://x]\n');
    r = cli(['cri', 'serve', '--config', file]);
    assert.match(r.stderr, /registry\.mirrors\.docker\.io: ftp:\/\/x is not a URL/);
    r = cli(['cri', 'serve', '--config', join(dir, 'missing.yaml')]);
    assert.is(r.status, 71);
    assert.match(r.stderr, /cannot read the CRI configuration .*missing\.yaml/);
    assert.ok(!existsSync(join(dir, 's.sock')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cri serve listens on the socket, answers, and removes the socket on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-cri-serve-'));
  const run = `/run/sifkube/test-serve-${suffix()}`;
  const file = join(dir, 'cri.yaml');
  writeFileSync(file, `stateDir: ${dir}/state\nrunDir: ${run}\nimageDir: ${dir}/images\ncni:\n  confDir: ${dir}/net.d\nlogLevel: warn\n`);
  const socket = join(run, 'cri.sock');
  const child = spawn(process.execPath, [bin, 'cri', 'serve', '--socket', socket, '--config', file], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    const client = criClient(socket);
    const v = await client.runtime.Version({});
    assert.is(v.runtimeName, 'sifkube');
    client.close();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    assert.is(await exited, 0);
    assert.ok(!existsSync(socket));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    rmSync(run, { recursive: true, force: true });
  }
});

test.run();
