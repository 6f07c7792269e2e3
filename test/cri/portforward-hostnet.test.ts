import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSif } from '../../src/sif/index.js';
import { criClient, type CriClient } from '../../src/cri/index.js';
import { podConfig } from '../helpers/cri.js';
import { busyboxRootfs } from '../helpers/registry.js';
import { run } from '../helpers/run.js';

// The CRI server in a network namespace of its own, as in a node: a host-network pod is in that
// namespace, not in the one /proc/1 is in, and port-forward must reach it there.
const work = mkdtempSync(join(tmpdir(), 'sk-cri-pfhost-'));
const runDir = `/run/sifkube/test-pfhost-${randomBytes(3).toString('hex')}`;
const socket = join(runDir, 'cri.sock');
const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const spdyClient = new URL('../helpers/spdy-client.js', import.meta.url).pathname;
let server: ChildProcess | undefined;
let client: CriClient | undefined;

test.before(async () => {
  writeFileSync(join(work, 'cri.yaml'), `stateDir: ${work}/state\nrunDir: ${runDir}\nimageDir: ${work}/images\ncni:\n  confDir: ${work}/net.d\nlogLevel: warn\n`);
  server = spawn('unshare', ['--net', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" "${bin}" cri serve --socket "${socket}" --config "${work}/cri.yaml"`], { stdio: 'inherit' });
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  client = criClient(socket);
});

test.after(async () => {
  try {
    for (const s of (await client?.runtime.ListPodSandbox({}))?.items ?? []) {
      await client!.runtime.StopPodSandbox({ podSandboxId: s.id });
      await client!.runtime.RemovePodSandbox({ podSandboxId: s.id });
    }
  } finally {
    client?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(runDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
});

/** One port-forward connection made from inside the server's network namespace (where its streaming server listens). */
const CLIENT = `
const { spdyUpgrade, collect } = await import(process.argv[1]);
const { conn, status, body } = await spdyUpgrade(process.argv[2], ['portforward.k8s.io']);
if (status !== 101) throw new Error(\`upgrade: \${status} \${body}\`);
const error = await conn.openStream({ streamtype: 'error', port: process.argv[3], requestid: '0' });
const data = await conn.openStream({ streamtype: 'data', port: process.argv[3], requestid: '0' });
error.end();
const e = collect(error);
const d = collect(data);
data.once('data', () => data.end());
console.log(JSON.stringify({ data: await d, error: await e }));
conn.socket.destroy();
`;

test('port-forward to a host-network pod reaches 127.0.0.1 in the namespace the server and the pod share', async () => {
  const c = client!;
  busyboxRootfs(join(work, 'rootfs'));
  buildSif({ rootfs: join(work, 'rootfs'), out: join(work, 'bb.sif'), deterministic: true, imageConfig: { env: ['PATH=/bin'] } });
  const { imageRef: image } = await c.image.PullImage({ image: { image: `local.file${work}/bb.sif` } });
  const config = podConfig('pfhost', { linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } });
  const { podSandboxId } = await c.runtime.RunPodSandbox({ config });
  const { containerId } = await c.runtime.CreateContainer({ podSandboxId, config: { metadata: { name: 'srv', attempt: 0 }, image: { image }, command: ['sh', '-c', 'echo hello | busybox nc -l -p 8099'] }, sandboxConfig: config });
  await c.runtime.StartContainer({ containerId });
  let out = { data: '', error: 'not tried' };
  // Until nc listens; each try needs a new URL (they are single-use).
  for (let i = 0; i < 20 && out.data === ''; i++) {
    const { url } = await c.runtime.PortForward({ podSandboxId, port: [8099] });
    const r = await run('nsenter', [`--net=/proc/${server!.pid}/ns/net`, process.execPath, '--input-type=module', '-e', CLIENT, spdyClient, url, '8099'], { timeoutMs: 20_000 });
    out = r.status === 0 ? (JSON.parse(r.stdout) as typeof out) : { data: '', error: r.stderr };
    if (out.data === '') await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(out, { data: 'hello\n', error: '' });
});

test.run();
