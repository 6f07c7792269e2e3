import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough, Readable } from 'node:stream';
import { Attach, Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { WebSocket } from 'ws';
import { HostStreamingBackend, StreamingServer } from '../../src/cri/streaming/index.js';
import { FakeApiServer, streamsFromQuery } from '../helpers/fake-apiserver.js';

// @kubernetes/client-node's Exec and Attach (WebSocket, v5.channel.k8s.io) against the server.
const backend = new HostStreamingBackend();
const server = new StreamingServer(backend);
const api = new FakeApiServer((kind, q) =>
  kind === 'exec'
    ? server.getExecUrl({ containerId: 'c1', cmd: q.getAll('command'), ...streamsFromQuery(q) })
    : server.getAttachUrl({ containerId: q.get('container') ?? '', ...streamsFromQuery(q) }),
);
const kc = new KubeConfig();

test.before(async () => {
  await server.start();
  await api.start();
  kc.loadFromFile(api.kubeconfig);
});
test.after(async () => {
  await api.stop();
  await server.stop();
});

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

async function clientExec(cmd: string[], stdin: Readable | null, tty = false) {
  const out = sink();
  const err = sink();
  let resolveStatus!: (s: V1Status) => void;
  const status = new Promise<V1Status>((r) => (resolveStatus = r));
  const ws = (await new Exec(kc).exec('x', 'p', 'c1', cmd, out.stream, tty ? null : err.stream, stdin, tty, resolveStatus)) as unknown as WebSocket;
  const s = await status;
  await new Promise((r) => (ws.readyState === ws.CLOSED ? r(0) : ws.once('close', r)));
  return { status: s, stdout: out.text(), stderr: err.text(), protocol: ws.protocol };
}

test('client-node exec: v5 protocol, stdout, stderr, Success status', async () => {
  const r = await clientExec(['sh', '-c', 'echo out; echo err >&2'], null);
  assert.is(r.protocol, 'v5.channel.k8s.io');
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'err\n');
  assert.is(r.status.status, 'Success');
});

test('client-node exec: exit 3 is NonZeroExitCode with ExitCode 3', async () => {
  const r = await clientExec(['sh', '-c', 'exit 3'], null);
  assert.is(r.status.status, 'Failure');
  assert.is(r.status.reason, 'NonZeroExitCode');
  assert.equal(r.status.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('client-node exec: stdin is echoed back and v5 close ends it', async () => {
  const r = await clientExec(['cat'], Readable.from([Buffer.from('hello '), Buffer.from('websocket\n')]));
  assert.is(r.stdout, 'hello websocket\n');
  assert.is(r.status.status, 'Success');
});

test('client-node exec with tty: a real terminal', async () => {
  const r = await clientExec(['sh', '-c', 'tty; exit 2'], null, true);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
  assert.equal(r.status.details?.causes, [{ reason: 'ExitCode', message: '2' }]);
});

test('raw v4.channel.k8s.io client: tty resize on channel 4 reaches the terminal', async () => {
  const url = server.getExecUrl({ containerId: 'c1', cmd: ['sh', '-c', 'read x; stty size'], tty: true, stdin: true, stdout: true, stderr: false }).replace('http', 'ws');
  const ws = new WebSocket(url, ['v4.channel.k8s.io']);
  let out = '';
  let status = '';
  ws.on('message', (d: Buffer) => {
    if (d[0] === 1) out += d.subarray(1).toString();
    if (d[0] === 3) status += d.subarray(1).toString();
  });
  await new Promise((r) => ws.once('open', r));
  ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 77, Height: 22 }))]));
  setTimeout(() => ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('go\n')])), 300);
  await new Promise((r) => ws.once('close', r));
  assert.match(out, /22 77/);
  assert.is(JSON.parse(status).status, 'Success');
});

test('base64.channel.k8s.io: text frames with a digit channel and base64 data', async () => {
  const url = server.getExecUrl({ containerId: 'c1', cmd: ['sh', '-c', 'echo b64; exit 1'], tty: false, stdin: false, stdout: true, stderr: true }).replace('http', 'ws');
  const ws = new WebSocket(url, ['v4.base64.channel.k8s.io']);
  const frames: string[] = [];
  ws.on('message', (d: Buffer) => frames.push(d.toString()));
  await new Promise((r) => ws.once('close', r));
  const stdout = frames.filter((f) => f[0] === '1').map((f) => Buffer.from(f.slice(1), 'base64').toString()).join('');
  const status = JSON.parse(frames.filter((f) => f[0] === '3').map((f) => Buffer.from(f.slice(1), 'base64').toString()).join(''));
  assert.is(stdout, 'b64\n');
  assert.is(status.reason, 'NonZeroExitCode');
});

test('client-node attach: output of a running container and stdin with stdinOnce', async () => {
  const exited = backend.startContainer('web-attach', ['sh', '-c', 'read x; echo attached $x'], { tty: false, stdin: true, stdinOnce: true });
  try {
    const out = sink();
    const ws = (await new Attach(kc).attach('x', 'p', 'web-attach', out.stream, null, Readable.from([Buffer.from('yes\n')]), false)) as unknown as WebSocket;
    await new Promise((r) => ws.once('close', r));
    assert.is(out.text(), 'attached yes\n');
    assert.is(await exited, 0);
  } finally {
    await backend.removeContainer('web-attach');
  }
});

test('an unsupported WebSocket subprotocol is refused with 400 naming the supported ones', async () => {
  const url = server.getExecUrl({ containerId: 'c1', cmd: ['true'], tty: false, stdin: false, stdout: true, stderr: false }).replace('http', 'ws');
  const ws = new WebSocket(url, ['v9.nothing']);
  ws.on('error', () => {});
  const res = await new Promise<{ statusCode?: number }>((resolve) => ws.once('unexpected-response', (_req, r) => resolve(r)));
  assert.is(res.statusCode, 400);
  ws.terminate();
});

test.run();
