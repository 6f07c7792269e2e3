import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { WebSocket } from 'ws';
import { HostStreamingBackend, StreamingServer } from '../../src/cri/streaming/index.js';
import { ContainerdPeer } from '../helpers/containerd-peer.js';
import { NetnsPod } from '../helpers/netns-pod.js';
import { collect, spdyRemoteCommand, spdyUpgrade } from '../helpers/spdy-client.js';

// containerd's CRI streaming server (kubelet's Go code) is the oracle: the same client runs the same
// session against it and against ours, and the answers must agree.
const peer = new ContainerdPeer();
const backend = new HostStreamingBackend();
const ours = new StreamingServer(backend);
const pod = new NetnsPod();
let echo: Server;
let echoPort = 0;

test.before(async () => {
  await ours.start();
  await pod.start();
  backend.addSandbox('sandbox', pod.path);
  // The peer's pod shares the host network: its echo server is on the host's loopback.
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
  await peer.start();
});
test.after(async () => {
  await peer.stop();
  echo?.close();
  await pod.stop();
  await ours.stop();
});

type Opts = { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean };
const both = async (cmd: string[], o: Opts) => ({
  peer: await peer.execUrl(cmd, o),
  ours: ours.getExecUrl({ containerId: 'c1', cmd, ...o }),
});

test('exec with output and a non-zero exit: same streams, same v4 Status', async () => {
  const urls = await both(['sh', '-c', 'echo out; echo err >&2; exit 3'], { tty: false, stdin: false, stdout: true, stderr: true });
  const p = await spdyRemoteCommand(urls.peer, { stderr: true });
  const s = await spdyRemoteCommand(urls.ours, { stderr: true });
  assert.equal({ ...s, error: JSON.parse(s.error) }, { ...p, error: JSON.parse(p.error) });
});

test('exec success and stdin: same output and status', async () => {
  const urls = await both(['cat'], { tty: false, stdin: true, stdout: true, stderr: true });
  const p = await spdyRemoteCommand(urls.peer, { stderr: true, stdin: 'through stdin\n' });
  const s = await spdyRemoteCommand(urls.ours, { stderr: true, stdin: 'through stdin\n' });
  assert.equal(s, p);
  assert.is(s.stdout, 'through stdin\n');
});

test('exec killed by a signal: same exit code', async () => {
  const urls = await both(['sh', '-c', 'kill -TERM $$'], { tty: false, stdin: false, stdout: true, stderr: true });
  const p = JSON.parse((await spdyRemoteCommand(urls.peer, { stderr: true })).error);
  const s = JSON.parse((await spdyRemoteCommand(urls.ours, { stderr: true })).error);
  assert.equal(s.details, p.details);
});

test('tty exec with a resize: both terminals report the client size', async () => {
  const urls = await both(['sh', '-c', 'read x; stty size'], { tty: true, stdin: true, stdout: true, stderr: false });
  const run = (url: string) =>
    spdyRemoteCommand(url, { tty: true, resize: (r) => r.write(`${JSON.stringify({ Width: 91, Height: 19 })}\n`), stdin: (i) => setTimeout(() => i.write('\n'), 300) });
  const p = await run(urls.peer);
  const s = await run(urls.ours);
  assert.match(p.stdout, /19 91/);
  assert.match(s.stdout, /19 91/);
  assert.equal(JSON.parse(s.error), JSON.parse(p.error));
});

test('port-forward: both echo the bytes back, and both report a closed port on the error stream', async () => {
  const forward = async (url: string, port: number, payload: string) => {
    const { conn } = await spdyUpgrade(url, ['portforward.k8s.io']);
    const error = await conn.openStream({ streamtype: 'error', port: String(port), requestid: '0' });
    const data = await conn.openStream({ streamtype: 'data', port: String(port), requestid: '0' });
    error.end();
    const errText = collect(error);
    const got = collect(data);
    data.end(payload);
    const r = { data: await got, error: await errText };
    conn.socket.destroy();
    return r;
  };
  const payload = 'y'.repeat(300_000);
  const p = await forward(await peer.portForwardUrl(), echoPort, payload);
  const s = await forward(ours.getPortForwardUrl({ podSandboxId: 'sandbox', port: [] }), 9090, payload);
  assert.is(p.data, payload);
  assert.is(s.data, payload);
  assert.is(s.error, p.error);
  const pc = await forward(await peer.portForwardUrl(), 7, 'x');
  const sc = await forward(ours.getPortForwardUrl({ podSandboxId: 'sandbox', port: [] }), 7, 'x');
  assert.match(pc.error, /error forwarding port 7 to pod/);
  assert.match(sc.error, /error forwarding port 7 to pod/);
});

/** Every message of a WebSocket exec session, as [channel, text], until the server closes. */
async function wsSession(url: string, protocol: string): Promise<[number, string][]> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), [protocol]);
  const messages: [number, string][] = [];
  ws.on('message', (d: Buffer) => messages.push([d[0], d.subarray(1).toString()]));
  await new Promise((r) => ws.once('close', r));
  return messages;
}

test('WebSocket v4 exec: the same messages on the same channels, in order', async () => {
  const urls = await both(['sh', '-c', 'echo out; exit 3'], { tty: false, stdin: false, stdout: true, stderr: true });
  const p = await wsSession(urls.peer, 'v4.channel.k8s.io');
  const s = await wsSession(urls.ours, 'v4.channel.k8s.io');
  const norm = (m: [number, string][]) => m.map(([c, t]) => [c, c === 3 ? JSON.parse(t) : t]);
  assert.equal(norm(s), norm(p));
});

test('WebSocket v4 port-forward: the same port prefixes, then the bytes echoed', async () => {
  const session = async (url: string, port: number) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), ['v4.channel.k8s.io']);
    const messages: [number, string][] = [];
    ws.on('message', (d: Buffer) => {
      messages.push([d[0], d.subarray(1).toString('hex')]);
      if (messages.length === 2) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('over ws')]));
      if (messages.length === 3) ws.close();
    });
    await new Promise((r) => ws.once('close', r));
    const le = Buffer.alloc(2);
    le.writeUInt16LE(port);
    return messages.map(([c, hex]) => [c, hex === le.toString('hex') ? 'PORT' : Buffer.from(hex, 'hex').toString()]);
  };
  const p = await session(await peer.portForwardUrl([echoPort]), echoPort);
  const s = await session(ours.getPortForwardUrl({ podSandboxId: 'sandbox', port: [9090] }), 9090);
  assert.equal(s, p);
  assert.equal(s, [[0, 'PORT'], [1, 'PORT'], [0, 'over ws']]);
});

test('attach with stdinOnce: the same output and status from both', async () => {
  const cmd = ['sh', '-c', 'read x; echo got $x; echo bye >&2'];
  const o = { tty: false, stdin: true, stdout: true, stderr: true };
  const peerId = await peer.runContainer('attached', cmd, { stdin: true, stdinOnce: true });
  const exited = backend.startContainer('attached', cmd, { tty: false, stdin: true, stdinOnce: true });
  try {
    const p = await spdyRemoteCommand(await peer.attachUrl(peerId, o), { stderr: true, stdin: 'hi\n' });
    const s = await spdyRemoteCommand(ours.getAttachUrl({ containerId: 'attached', ...o }), { stderr: true, stdin: 'hi\n' });
    assert.equal(s, p);
    assert.is(s.stdout, 'got hi\n');
    assert.is(await exited, 0);
  } finally {
    await backend.removeContainer('attached');
  }
});

test('refusals agree: unknown protocol 403, used token 404', async () => {
  const urls = await both(['true'], { tty: false, stdin: false, stdout: true, stderr: false });
  assert.is((await spdyUpgrade(urls.ours, ['v9.channel.k8s.io'])).status, (await spdyUpgrade(urls.peer, ['v9.channel.k8s.io'])).status);
  assert.is((await spdyUpgrade(urls.ours, ['v4.channel.k8s.io'])).status, (await spdyUpgrade(urls.peer, ['v4.channel.k8s.io'])).status);
});

test.run();
