import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { KubeConfig, PortForward } from '@kubernetes/client-node';
import { HostStreamingBackend, StreamingServer } from '../../src/cri/streaming/index.js';
import { FakeApiServer } from '../helpers/fake-apiserver.js';
import { NetnsPod } from '../helpers/netns-pod.js';
import { collect, spdyUpgrade } from '../helpers/spdy-client.js';

const backend = new HostStreamingBackend();
const server = new StreamingServer(backend);
const pod = new NetnsPod();
const api = new FakeApiServer((_kind, q) => server.getPortForwardUrl({ podSandboxId: 'sandbox', port: q.getAll('ports').map(Number) }));

test.before(async () => {
  await server.start();
  await api.start();
  await pod.start();
  backend.addSandbox('sandbox', pod.path);
});
test.after(async () => {
  await pod.stop();
  await api.stop();
  await server.stop();
});

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test('SPDY port-forward: concurrent connections to two ports of the pod, each a (data, error) pair', async () => {
  const { conn, protocol } = await spdyUpgrade(server.getPortForwardUrl({ podSandboxId: 'sandbox', port: [] }), ['portforward.k8s.io']);
  assert.is(protocol, 'portforward.k8s.io');
  try {
    const one = async (requestId: number, port: number, send: string) => {
      const error = await conn.openStream({ streamtype: 'error', port: String(port), requestid: String(requestId) });
      const data = await conn.openStream({ streamtype: 'data', port: String(port), requestid: String(requestId) });
      error.end();
      const errText = collect(error);
      const got = collect(data);
      data.end(send);
      return { data: await got, error: await errText };
    };
    const results = await Promise.all([
      one(0, 8080, 'GET /a HTTP/1.0\r\n\r\n'),
      one(1, 8080, 'GET /b HTTP/1.0\r\n\r\n'),
      one(2, 9090, 'echo me'),
      one(3, 9090, 'x'.repeat(1 << 20)),
    ]);
    assert.match(results[0].data, /hello from the pod \/a$/);
    assert.match(results[1].data, /hello from the pod \/b$/);
    assert.is(results[2].data, 'echo me');
    assert.is(results[3].data.length, 1 << 20);
    for (const r of results) assert.is(r.error, '');
  } finally {
    conn.socket.destroy();
  }
});

test('SPDY port-forward: a closed port is reported on the error stream, the connection stays usable', async () => {
  const { conn } = await spdyUpgrade(server.getPortForwardUrl({ podSandboxId: 'sandbox', port: [] }), ['portforward.k8s.io']);
  try {
    const error = await conn.openStream({ streamtype: 'error', port: '7', requestid: '0' });
    const data = await conn.openStream({ streamtype: 'data', port: '7', requestid: '0' });
    error.end();
    data.end();
    assert.match(await collect(error), /^error forwarding port 7 to pod sandbox, uid : cannot connect to 127\.0\.0\.1:7 .*nothing listens on port 7/);
    const e2 = await conn.openStream({ streamtype: 'error', port: '9090', requestid: '1' });
    const d2 = await conn.openStream({ streamtype: 'data', port: '9090', requestid: '1' });
    e2.end();
    const got = collect(d2);
    d2.end('still here');
    assert.is(await got, 'still here');
  } finally {
    conn.socket.destroy();
  }
});

test('kubectl port-forward (SPDY): HTTP through a local port into the pod, several connections', async () => {
  const child = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'port-forward', 'pod/p', ':8080', ':9090'], {
    env: { ...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' },
  });
  try {
    let out = '';
    const ports = await new Promise<number[]>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const found = [...out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)].map((m) => Number(m[1]));
        if (found.length === 2) resolve(found);
      });
      child.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}: ${out}`)));
    });
    const bodies = await Promise.all([1, 2, 3, 4, 5].map((i) => httpGet(ports[0], `/n${i}`)));
    assert.equal(bodies, [1, 2, 3, 4, 5].map((i) => `hello from the pod /n${i}`));
  } finally {
    child.kill('SIGKILL');
  }
});

test('kubectl port-forward to a closed port: kubectl shows our error message as is', async () => {
  const child = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'port-forward', 'pod/p', ':7'], { env: { ...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    for (let i = 0; i < 250 && !/127\.0\.0\.1:(\d+)/.test(out); i++) await new Promise((r) => setTimeout(r, 20));
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const local = connect(port, '127.0.0.1');
    local.on('error', () => {});
    await exited;
    assert.match(out, /an error occurred forwarding \d+ -> 7: error forwarding port 7 to pod sandbox, uid : cannot connect to 127\.0\.0\.1:7/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('@kubernetes/client-node PortForward (WebSocket v4): echo through the pod', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfig);
  const input = new PassThrough();
  const output = new PassThrough();
  let received = '';
  output.on('data', (d: Buffer) => (received += d.toString()));
  const ws = (await new PortForward(kc).portForward('x', 'p', [9090], output, null, input)) as unknown as { close(): void; protocol: string };
  try {
    assert.is(ws.protocol, 'v4.channel.k8s.io');
    input.write('ping over websocket');
    for (let i = 0; i < 100 && received.length < 19; i++) await new Promise((r) => setTimeout(r, 20));
    assert.is(received, 'ping over websocket');
  } finally {
    ws.close();
  }
});

test('port-forward URLs are refused for an unknown sandbox with a clear error', async () => {
  const { conn } = await spdyUpgrade(server.getPortForwardUrl({ podSandboxId: 'nope', port: [] }), ['portforward.k8s.io']);
  try {
    const error = await conn.openStream({ streamtype: 'error', port: '80', requestid: '0' });
    const data = await conn.openStream({ streamtype: 'data', port: '80', requestid: '0' });
    error.end();
    data.end();
    assert.match(await collect(error), /no pod sandbox nope here/);
  } finally {
    conn.socket.destroy();
  }
});

test.run();
