import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { criClient, type CriClient } from '../../src/cri/index.js';
import { buildSif } from '../../src/sif/index.js';
import { deleteLink, podConfig, suffix } from '../helpers/cri.js';
import { busyboxRootfs } from '../helpers/registry.js';

const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const RACING = 20;
const work = mkdtempSync(join(tmpdir(), 'sk-cri-recover-'));
const runDir = `/run/sifkube/test-recover-${suffix()}`;
const stateDir = join(work, 'state');
const socket = join(runDir, 'cri.sock');
const bridge = `skr${suffix()}`;
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
let server: ChildProcess | undefined;
let client: CriClient | undefined;

/** The standalone `sifkube cri serve`, as a node runs it; resolves once it answers. */
async function serve(): Promise<void> {
  server = spawn(process.execPath, [bin, 'cri', 'serve', '--socket', socket, '--config', join(work, 'cri.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    if (existsSync(socket)) {
      client = criClient(socket);
      try {
        await client.runtime.Version({});
        return;
      } catch {
        client.close();
      }
    }
    if (server.exitCode !== null) throw new Error(`cri serve exited with ${server.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('cri serve did not answer within 10 s');
}

async function killServer(): Promise<void> {
  client?.close();
  if (!server) return;
  const exited = new Promise((r) => server!.once('exit', r));
  if (server.exitCode === null && server.signalCode === null) {
    process.kill(server.pid!, 'SIGKILL');
    await exited;
  }
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m?.startsWith(`${dir}/`));
}

function ls(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** The server's sandbox records (a record being replaced at that instant is skipped). */
function sandboxRecords(): { state: string; creating?: boolean }[] {
  const dir = join(stateDir, 'sandboxes');
  return ls(dir)
    .filter((n) => n.endsWith('.json'))
    .flatMap((n) => {
      try {
        return [JSON.parse(readFileSync(join(dir, n), 'utf8')) as { state: string; creating?: boolean }];
      } catch {
        return [];
      }
    });
}

/** The veths attached to the test's bridge: one per pod network. */
function bridgePorts(): number {
  return execFileSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
}

test.after(async () => {
  try {
    // A test that failed between the kill and the restart still leaves the clean-up to the server.
    if (server && (server.exitCode !== null || server.signalCode !== null)) await serve();
    if (client) {
      for (const s of (await client.runtime.ListPodSandbox({})).items) {
        await client.runtime.StopPodSandbox({ podSandboxId: s.id });
        await client.runtime.RemovePodSandbox({ podSandboxId: s.id });
      }
    }
  } finally {
    await killServer();
    deleteLink(bridge);
    writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
    rmSync(work, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('kill -9 during concurrent creates: after a restart every pod exists fully or not at all, and nothing is left', async () => {
  writeFileSync(join(work, 'cri.yaml'), `stateDir: ${stateDir}\nrunDir: ${runDir}\nimageDir: ${work}/images\ncni:\n  confDir: ${work}/net.d\n  binDir: /usr/lib/cni\nlogLevel: error\n`);
  execFileSync('mkdir', ['-p', join(work, 'net.d')]);
  const subnet = `10.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}.0/24`;
  const conf = {
    cniVersion: '1.0.0',
    name: `skrecover-${bridge}`,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: join(stateDir, 'ipam') } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  writeFileSync(join(work, 'net.d', '10-test.conflist'), JSON.stringify(conf));
  const rootfs = join(work, 'rootfs');
  busyboxRootfs(rootfs);
  const sif = join(work, 'busybox.sif');
  buildSif({ rootfs, out: sif, deterministic: true, imageConfig: { cmd: ['sleep', '3600'], env: ['PATH=/bin'] } });

  await serve();
  const image = (await client!.image.PullImage({ image: { image: `local.file${sif}` } })).imageRef;
  const c = client!.runtime;
  const racing = Array.from({ length: RACING }, async (_, i) => {
    const { podSandboxId } = await c.RunPodSandbox({ config: podConfig(`rec${i}`, { logDirectory: join(work, 'logs', String(i)) }) });
    await c.CreateContainer({ podSandboxId, config: { metadata: { name: 'sleep', attempt: 0 }, image: { image }, logPath: 'sleep/0.log' }, sandboxConfig: {} });
  });
  // The kill comes once some pods are made while others are still being made (as the server's records say).
  for (let i = 0; i < 5000; i++) {
    const records = sandboxRecords();
    if (records.filter((r) => r.state === 'SANDBOX_READY').length >= RACING / 4 && records.some((r) => r.creating)) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  process.kill(server!.pid!, 'SIGKILL');
  const results = await Promise.allSettled(racing);
  await killServer();
  assert.ok(results.some((r) => r.status === 'rejected'), 'the kill cut some creates short');
  assert.ok(sandboxRecords().some((r) => r.creating), 'the kill left half-made pods for the restart to roll back');

  await serve();
  const sandboxes = (await client!.runtime.ListPodSandbox({})).items as { id: string; state: string }[];
  const containers = (await client!.runtime.ListContainers({})).containers as { id: string; state: string; podSandboxId: string }[];
  for (const s of sandboxes) {
    assert.is(s.state, 'SANDBOX_READY', `listed sandbox ${s.id} is complete (its network passed CNI CHECK)`);
    const st = (await client!.runtime.PodSandboxStatus({ podSandboxId: s.id })).status;
    const netns = join(runDir, 'netns', s.id);
    assert.ok(mountsUnder(join(runDir, 'netns')).includes(netns), `sandbox ${s.id} holds its network namespace`);
    const addr = execFileSync('nsenter', [`--net=${netns}`, 'ip', '-4', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8' });
    assert.ok(addr.includes(`${st.network.ip}/`), `sandbox ${s.id} has its address ${st.network.ip} on eth0`);
  }
  for (const x of containers) {
    assert.ok(sandboxes.some((s) => s.id === x.podSandboxId));
    assert.is(x.state, 'CONTAINER_CREATED', `listed container ${x.id} is complete`);
    assert.ok(existsSync(join(runDir, 'containers', x.id, 'bundle', 'config.json')));
    await client!.runtime.StartContainer({ containerId: x.id });
    assert.is((await client!.runtime.ContainerStatus({ containerId: x.id })).status.state, 'CONTAINER_RUNNING');
  }
  // Nothing unlisted is left: namespaces, pod folders, records, container folders, runtime state, veths, addresses.
  const ids = sandboxes.map((s) => s.id).sort();
  const cids = containers.map((x) => x.id).sort();
  for (const k of ['net', 'ipc', 'uts']) assert.equal(ls(join(runDir, `${k}ns`)), ids, `${k} namespaces are the listed pods'`);
  assert.equal(mountsUnder(join(runDir, 'netns')).length, ids.length);
  assert.equal(ls(join(stateDir, 'pods')), ids);
  assert.equal(ls(join(stateDir, 'sandboxes')), ids.map((id) => `${id}.json`));
  assert.equal(ls(join(stateDir, 'containers')), cids.map((id) => `${id}.json`));
  assert.equal(ls(join(runDir, 'containers')), cids);
  assert.equal(ls(join(runDir, 'runtime')), cids);
  assert.is(bridgePorts(), ids.length, 'one veth on the bridge per listed pod');
  const leases = ls(join(stateDir, 'ipam', conf.name)).filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n));
  assert.is(leases.length, ids.length, 'one address lease per listed pod');

  await Promise.all(
    sandboxes.map(async (s) => {
      await client!.runtime.StopPodSandbox({ podSandboxId: s.id });
      await client!.runtime.RemovePodSandbox({ podSandboxId: s.id });
    }),
  );
  assert.equal(ls(join(stateDir, 'sandboxes')), []);
  assert.equal(ls(join(stateDir, 'containers')), []);
  assert.equal(mountsUnder(runDir), []);
  assert.is(bridgePorts(), 0);
});

test.run();
