import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { HostStreamingBackend, StreamingServer } from '../../src/cri/streaming/index.js';
import { helperPath, spawnInPty } from '../../src/runtime/index.js';
import { FakeApiServer, streamsFromQuery } from '../helpers/fake-apiserver.js';
import { run } from '../helpers/run.js';

// kubectl (Go client-go, moby/spdystream, gorilla websocket) is the independent client: SPDY with
// KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, WebSocket v5 by default.
const backend = new HostStreamingBackend();
const server = new StreamingServer(backend);
const api = new FakeApiServer((kind, q) => {
  if (kind === 'exec') return server.getExecUrl({ containerId: 'c1', cmd: q.getAll('command'), ...streamsFromQuery(q) });
  if (kind === 'attach') return server.getAttachUrl({ containerId: 'attached', ...streamsFromQuery(q) });
  return server.getPortForwardUrl({ podSandboxId: 'sandbox', port: [] });
});

test.before(async () => {
  await server.start();
  await api.start();
});
test.after(async () => {
  await api.stop();
  await server.stop();
});

function kubectl(args: string[], opts: { input?: string; websockets: boolean }) {
  const env = { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: String(opts.websockets) };
  return run('kubectl', ['--kubeconfig', api.kubeconfig, ...args], { input: opts.input, env });
}

for (const websockets of [false, true]) {
  const via = websockets ? 'WebSocket' : 'SPDY';

  test(`kubectl exec over ${via}: output and exit code 0`, async () => {
    const r = await kubectl(['exec', 'p', '--', 'sh', '-c', 'echo out; echo err >&2'], { websockets });
    assert.is(r.stdout, 'out\n', r.stderr);
    assert.match(r.stderr, /^err$/m);
    assert.is(r.status, 0);
  });

  test(`kubectl exec over ${via}: exit code 3 reaches kubectl`, async () => {
    const r = await kubectl(['exec', 'p', '--', 'sh', '-c', 'exit 3'], { websockets });
    assert.is(r.status, 3, r.stderr);
    assert.match(r.stderr, /command terminated with exit code 3/);
  });

  test(`kubectl exec -i over ${via}: stdin echoed back, a large output intact`, async () => {
    const input = 'line\n'.repeat(50_000);
    const r = await kubectl(['exec', '-i', 'p', '--', 'cat'], { websockets, input });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.length, input.length);
    assert.ok(r.stdout === input);
  });

  test(`kubectl exec -it over ${via}: terminal size from kubectl's own terminal`, async () => {
    // kubectl needs a terminal of its own for -t: run it on one (the helper's pty), 101x37.
    const env = { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: String(websockets) };
    const r = await run(helperPath(), ['pty-exec', '-1', '101', '37', 'kubectl', '--kubeconfig', api.kubeconfig, 'exec', '-it', 'p', '--', 'sh', '-c', 'stty size; tty; exit 4'], { env });
    assert.match(r.stdout, /37 101/, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.is(r.status, 4);
  });

  test(`kubectl exec -it over ${via}: resizing kubectl's terminal mid-session resizes the command's`, async () => {
    const env = { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: String(websockets) };
    const p = spawnInPty(['kubectl', '--kubeconfig', api.kubeconfig, 'exec', '-it', 'p', '--', 'sh', '-c', 'stty size; read x; stty size'], { width: 80, height: 24 }, { env });
    let out = '';
    p.output.on('data', (d: Buffer) => (out += d.toString()));
    try {
      assert.ok(await until(() => /24 80/.test(out)), out);
      p.resize(120, 50);
      await new Promise((r) => setTimeout(r, 300));
      p.input.write('\n');
      assert.is(await p.exited, 0);
      assert.match(out, /24 80[\s\S]*50 120/);
    } finally {
      p.kill();
    }
  });
}

async function until(cond: () => boolean, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end && !cond(); ) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

test('kubectl attach over SPDY: output of a running container, stdin with stdinOnce', async () => {
  const exited = backend.startContainer('attached', ['sh', '-c', 'echo started; read x; echo got $x; exit 0'], { tty: false, stdin: true, stdinOnce: true });
  try {
    const child = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'attach', '-i', 'p'], { env: { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end('hello\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.match(out, /got hello/);
    assert.is(code, 0);
    assert.is(await exited, 0);
  } finally {
    await backend.removeContainer('attached');
  }
});

test.run();
