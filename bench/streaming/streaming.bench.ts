// Streaming benchmark: exec round trip of `true` (URL request -> SPDY upgrade -> streams -> exit
// status) and port-forward throughput into a pod network namespace, each next to a peer measured in
// the same run: spawning `true` directly (the floor under any exec) and, for throughput, the same
// namespace reached by the helper's relay alone and host loopback TCP (the floor under any forward).
// Run: npm run build && node dist/bench/streaming/streaming.bench.js
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { HostStreamingBackend, StreamingServer } from '../../src/cri/streaming/index.js';
import { forwardInNetns } from '../../src/runtime/index.js';
import { NetnsPod } from '../../test/helpers/netns-pod.js';
import { collect, spdyRemoteCommand, spdyUpgrade } from '../../test/helpers/spdy-client.js';

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

/** Sends `bytes` through an echo connection made by `open` and resolves when all came back. */
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

async function main() {
  const backend = new HostStreamingBackend();
  const server = new StreamingServer(backend);
  const pod = new NetnsPod();
  await server.start();
  await pod.start();
  backend.addSandbox('bench', pod.path);
  try {
    const execMs: number[] = [];
    const spawnMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      execMs.push(await time(() => spdyRemoteCommand(server.getExecUrl({ containerId: 'c', cmd: ['true'], tty: false, stdin: false, stdout: true, stderr: true }), { stderr: true })));
      spawnMs.push(await time(spawnTrue));
    }

    const viaSpdy = await echoThroughput(async (data) => {
      const { conn } = await spdyUpgrade(server.getPortForwardUrl({ podSandboxId: 'bench', ports: [] }), ['portforward.k8s.io']);
      const error = await conn.openStream({ streamtype: 'error', port: '9090', requestid: '0' });
      const stream = await conn.openStream({ streamtype: 'data', port: '9090', requestid: '0' });
      error.end();
      data.pipe(stream);
      stream.pipe(data);
      await collect(stream);
      conn.socket.destroy();
    });
    const viaRelay = await echoThroughput((data) => forwardInNetns(pod.path, 9090, data));
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const viaLoopback = await echoThroughput(async (data) => {
      const s = connect((echo.address() as AddressInfo).port, '127.0.0.1');
      data.pipe(s);
      s.pipe(data);
      await new Promise((r) => data.once('finish', r));
      s.destroy();
    });
    echo.close();

    const e = median(execMs);
    const p = median(spawnMs);
    console.log(`machine: ${process.arch}, Node ${process.version}, ${new Date().toISOString()}`);
    console.log('| measure | sifkube | peer | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| exec round trip of \`true\`, median of ${ROUNDS} (ms) | ${e.toFixed(2)} | ${p.toFixed(2)} (spawn \`true\` directly) | ${(e / p).toFixed(2)}x |`);
    console.log(`| port-forward echo throughput, ${MB} MiB each way (MiB/s) | ${viaSpdy.toFixed(0)} | ${viaRelay.toFixed(0)} (netns relay alone) | ${(viaSpdy / viaRelay).toFixed(2)}x |`);
    console.log(`| port-forward echo throughput vs host loopback TCP (MiB/s) | ${viaSpdy.toFixed(0)} | ${viaLoopback.toFixed(0)} (loopback, no namespace) | ${(viaSpdy / viaLoopback).toFixed(2)}x |`);
  } finally {
    await pod.stop();
    await server.stop();
  }
}

await main();
