import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { HostStreamingBackend, StreamingAddressError, StreamingRequestError, StreamingServer } from '../../src/cri/streaming/index.js';
import { WebSocket } from 'ws';
import { spdyRemoteCommand, spdyUpgrade } from '../helpers/spdy-client.js';

const backend = new HostStreamingBackend();
const server = new StreamingServer(backend, { tokenTtlMs: 300 });

test.before(() => server.start());
test.after(() => server.stop());

const execUrl = (cmd: string[], stdin = false) => server.getExecUrl({ containerId: 'c1', cmd, tty: false, stdin, stdout: true, stderr: true });

/** Processes whose command line contains `marker` (the test's own sleepers). */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (cond()) return true;
  return cond();
}

test('20 concurrent exec sessions each get their own output and exit code', async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => spdyRemoteCommand(execUrl(['sh', '-c', `cat; echo session ${i}; exit ${i % 4}`], true), { stdin: `in ${i}\n`, stderr: true })),
  );
  results.forEach((r, i) => {
    assert.is(r.stdout, `in ${i}\nsession ${i}\n`);
    const status = JSON.parse(r.error);
    if (i % 4 === 0) assert.is(status.status, 'Success');
    else assert.equal(status.details.causes, [{ reason: 'ExitCode', message: String(i % 4) }]);
  });
});

for (const tty of [false, true]) {
  test(`a client that disconnects mid-stream leaves no process behind (tty: ${tty})`, async () => {
    const marker = `sifkube-stream-gone-${tty}-${process.pid}`;
    const url = server.getExecUrl({ containerId: 'c1', cmd: ['sh', '-c', `echo started; sh -c 'sleep 300; : ${marker}'; :`], tty, stdin: true, stdout: true, stderr: !tty });
    const { conn } = await spdyUpgrade(url, ['v4.channel.k8s.io']);
    await conn.openStream({ streamtype: 'error' });
    if (tty) await conn.openStream({ streamtype: 'resize' });
    await conn.openStream({ streamtype: 'stdin' });
    const stdout = await conn.openStream({ streamtype: 'stdout' });
    if (!tty) await conn.openStream({ streamtype: 'stderr' });
    await new Promise((r) => stdout.once('data', r));
    assert.ok(processesWith(marker).length > 0, 'the command runs');
    conn.socket.destroy();
    // The marker names the command's child shell too: none may survive its parent.
    assert.ok(await waitFor(() => processesWith(marker).length === 0), 'the command and its children are gone');
  });
}

test('a WebSocket client that disconnects mid-stream leaves no process behind', async () => {
  const marker = `sifkube-stream-ws-gone-${process.pid}`;
  const url = server.getExecUrl({ containerId: 'c1', cmd: ['sh', '-c', `echo started; sh -c 'sleep 300; : ${marker}'; :`], tty: false, stdin: false, stdout: true, stderr: true });
  const ws = new WebSocket(url.replace('http', 'ws'), ['v5.channel.k8s.io']);
  await new Promise((r) => ws.on('message', (d: Buffer) => d.toString().includes('started') && r(0)));
  assert.ok(processesWith(marker).length > 0, 'the command runs');
  ws.terminate();
  assert.ok(await waitFor(() => processesWith(marker).length === 0), 'the command and its children are gone');
});

test('attach to a container the backend does not have: an InternalError status naming it', async () => {
  const url = server.getAttachUrl({ containerId: 'no-such', tty: false, stdin: false, stdout: true, stderr: true });
  const r = await spdyRemoteCommand(url, { stderr: true });
  const status = JSON.parse(r.error);
  assert.is(status.reason, 'InternalError');
  assert.match(status.message, /no container no-such here/);
});

test('a client that opens too few streams is cut off after the stream creation timeout', async () => {
  const quick = new StreamingServer(backend, { streamCreationTimeoutMs: 200 });
  await quick.start();
  try {
    const url = quick.getExecUrl({ containerId: 'c1', cmd: ['true'], tty: false, stdin: true, stdout: true, stderr: true });
    const { conn } = await spdyUpgrade(url, ['v4.channel.k8s.io']);
    await conn.openStream({ streamtype: 'error' });
    await new Promise((r) => conn.once('close', r));
  } finally {
    await quick.stop();
  }
});

test('a client sending garbage after the upgrade is disconnected; the server keeps serving', async () => {
  const { conn } = await spdyUpgrade(execUrl(['true']), ['v4.channel.k8s.io']);
  conn.socket.write(Buffer.from([0x80, 0x09, 0x00, 0x01, 0, 0, 0, 0]));
  await new Promise((r) => conn.once('close', r));
  const r = await spdyRemoteCommand(execUrl(['sh', '-c', 'echo fine']), { stderr: true });
  assert.is(r.stdout, 'fine\n');
});

test('an idle connection is closed after the idle timeout and its command stopped', async () => {
  const idle = new StreamingServer(backend, { streamIdleTimeoutMs: 300 });
  await idle.start();
  try {
    const marker = `sifkube-stream-idle-${process.pid}`;
    const url = idle.getExecUrl({ containerId: 'c1', cmd: ['sh', '-c', `sh -c 'sleep 300; : ${marker}'; :`], tty: false, stdin: false, stdout: true, stderr: false });
    const { conn } = await spdyUpgrade(url, ['v4.channel.k8s.io']);
    await conn.openStream({ streamtype: 'error' });
    await conn.openStream({ streamtype: 'stdout' });
    assert.ok(await waitFor(() => processesWith(marker).length > 0), 'the command runs');
    await new Promise((r) => conn.once('close', r));
    assert.ok(await waitFor(() => processesWith(marker).length === 0), 'the command is gone');
  } finally {
    await idle.stop();
  }
});

test('a used token is refused (single use) with 404 and a message naming the fix', async () => {
  const url = execUrl(['true']);
  await spdyRemoteCommand(url, { stderr: true });
  const again = await spdyUpgrade(url, ['v4.channel.k8s.io']);
  assert.is(again.status, 404);
  assert.match(again.body, /already used or expired.*ask the CRI for a new one/);
});

test('an expired token is refused', async () => {
  const url = execUrl(['true']);
  await new Promise((r) => setTimeout(r, 400));
  const r = await spdyUpgrade(url, ['v4.channel.k8s.io']);
  assert.is(r.status, 404);
});

test('an unknown token, or an exec token on the attach path, is refused', async () => {
  const url = execUrl(['true']);
  const r = await spdyUpgrade(url.replace('/exec/', '/attach/'), ['v4.channel.k8s.io']);
  assert.is(r.status, 404);
  assert.is((await spdyUpgrade(`${server.url}/exec/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, ['v4.channel.k8s.io'])).status, 404);
});

test('tokens are unguessable: 256 random bits, URL-safe', () => {
  const tokens = Array.from({ length: 50 }, () => execUrl(['true']).split('/').pop()!);
  assert.is(new Set(tokens).size, 50);
  for (const t of tokens) assert.match(t, /^[A-Za-z0-9_-]{43}$/);
});

test('a client without a protocol the server speaks gets 403 naming the accepted ones', async () => {
  const r = await spdyUpgrade(execUrl(['true']), ['v9.channel.k8s.io']);
  assert.is(r.status, 403);
  assert.match(r.body, /unable to negotiate protocol.*v4\.channel\.k8s\.io/);
});

test('a plain request (no upgrade) gets 400 saying what to use', async () => {
  const url = new URL(execUrl(['true']));
  const res = await new Promise<{ status?: number; body: string }>((resolve) => {
    request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => resolve({ status: r.statusCode, body }));
    }).end();
  });
  assert.is(res.status, 400);
  assert.match(res.body, /missing upgrade headers.*SPDY\/3\.1 or WebSocket/);
});

test('bad requests are refused when the URL is asked for, naming the field and the fix', () => {
  const base = { containerId: 'c1', cmd: ['true'], tty: false, stdin: false, stdout: true, stderr: false };
  assert.throws(() => server.getExecUrl({ ...base, containerId: '' }), (e: Error) => e instanceof StreamingRequestError && /missing container_id/.test(e.message));
  assert.throws(() => server.getExecUrl({ ...base, cmd: [] }), /empty cmd: give the command/);
  assert.throws(() => server.getExecUrl({ ...base, stdout: false }), /none of stdin, stdout, stderr/);
  assert.throws(() => server.getExecUrl({ ...base, tty: true, stderr: true }), /tty and stderr cannot both be set/);
  assert.throws(() => server.getPortForwardUrl({ podSandboxId: '', port: [] }), /missing pod_sandbox_id/);
  assert.throws(() => server.getPortForwardUrl({ podSandboxId: 's', port: [70000] }), /bad port 70000: ports are 1\.\.65535/);
});

test('a streaming server on a bad or busy address says so', async () => {
  assert.throws(() => new StreamingServer(backend, { address: 'nonsense' }), (e: Error) => e instanceof StreamingAddressError && /nonsense: not a host:port/.test(e.message));
  const busy = new StreamingServer(backend, { address: server.url.replace('http://', '') });
  try {
    await busy.start();
    assert.unreachable('listening twice on one port');
  } catch (e) {
    assert.instance(e, StreamingAddressError);
    assert.match((e as Error).message, /the address is in use: give a free host:port/);
  }
});

test.run();
