// Streaming benchmark against containerd's CRI streaming server (kubelet's Go streaming code), the
// peer, with the same SPDY client: exec round trip of `true` (exec URL -> SPDY upgrade -> streams
// -> exit status) and port-forward echo throughput. The floors under both (spawning `true`, the bare
// netns relay) are printed too.
// Run: npm run build && node dist/bench/streaming/streaming.bench.js
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { HostStreamingBackend, StreamingServer } from '../../src/cri/streaming/index.js';
import { forwardInNetns } from '../../src/runtime/index.js';
import { ContainerdPeer } from '../../test/helpers/containerd-peer.js';
import { NetnsPod } from '../../test/helpers/netns-pod.js';
import { spdyRemoteCommand, spdyUpgrade } from '../../test/helpers/spdy-client.js';

const ROUNDS = 40;
const MB = 64;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const spawnTrue = () => new Promise((resolve) => spawn('true').once('close', resolve));

/** MiB/s of an echo round trip of MB MiB through the connection `open` makes from `data`. */
async function echoThroughput(open: (data: Duplex) => Promise<unknown>): Promise<number> {
  const total = MB * 1024 * 1024;
  const chunk = Buffer.alloc(256 * 1024, 7);
  const input = new PassThrough();
  const output = new PassThrough();
  let received = 0;
  const done = new Promise<void>((resolve) =>
    output.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= total) resolve();
    }),
  );
  const ms = await time(async () => {
    const running = open(Duplex.from({ readable: input, writable: output }));
    for (let sent = 0; sent < total; sent += chunk.length) if (!input.write(chunk)) await new Promise((r) => input.once('drain', r));
    await done;
    input.end();
    await running;
  });
  return MB / (ms / 1000);
}

/** Forwards `data` through a SPDY port-forward URL to `port`. */
async function viaSpdy(url: string, port: number, data: Duplex): Promise<void> {
  const { conn } = await spdyUpgrade(url, ['portforward.k8s.io']);
  const error = await conn.openStream({ streamtype: 'error', port: String(port), requestid: '0' });
  const stream = await conn.openStream({ streamtype: 'data', port: String(port), requestid: '0' });
  error.end();
  data.pipe(stream);
  stream.pipe(data);
  await new Promise((r) => stream.once('end', r));
  conn.socket.destroy();
}

async function main() {
  const backend = new HostStreamingBackend();
  const server = new StreamingServer(backend);
  const pod = new NetnsPod();
  const peer = new ContainerdPeer();
  const echo = createServer((s) => s.pipe(s));
  await server.start();
  await pod.start();
  backend.addSandbox('bench', pod.path);
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  await peer.start();
  try {
    const opts = { tty: false, stdin: false, stdout: true, stderr: true };
    const ours: number[] = [];
    const theirs: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      ours.push(await time(() => spdyRemoteCommand(server.getExecUrl({ containerId: 'c', cmd: ['true'], ...opts }), { stderr: true })));
      theirs.push(await time(async () => spdyRemoteCommand(await peer.execUrl(['true'], opts), { stderr: true })));
      floor.push(await time(spawnTrue));
    }
    const ourPf = await echoThroughput((d) => viaSpdy(server.getPortForwardUrl({ podSandboxId: 'bench', port: [] }), 9090, d));
    const peerPf = await echoThroughput(async (d) => viaSpdy(await peer.portForwardUrl(), (echo.address() as AddressInfo).port, d));
    const relay = await echoThroughput((d) => forwardInNetns(pod.path, 9090, d));

    const [o, t, f] = [median(ours), median(theirs), median(floor)];
    console.log(`machine: ${process.arch}, Node ${process.version}, ${new Date().toISOString()}`);
    console.log('| measure | sifkube | containerd 1.6 (peer) | ratio | floor |');
    console.log('|---|---|---|---|---|');
    console.log(`| exec round trip of \`true\`, median of ${ROUNDS} (ms) | ${o.toFixed(2)} | ${t.toFixed(2)} | ${(o / t).toFixed(2)}x | ${f.toFixed(2)} (spawn \`true\`) |`);
    console.log(`| port-forward echo, ${MB} MiB each way (MiB/s) | ${ourPf.toFixed(0)} | ${peerPf.toFixed(0)} | ${(ourPf / peerPf).toFixed(2)}x | ${relay.toFixed(0)} (netns relay alone) |`);
  } finally {
    await peer.stop();
    echo.close();
    await pod.stop();
    await server.stop();
  }
}

await main();
