import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Duplex, PassThrough } from 'node:stream';
import { forwardInNetns, helperPath, PortNotListeningError, spawnInPty } from '../../src/runtime/index.js';
import { NetnsPod } from '../helpers/netns-pod.js';
import { run } from '../helpers/run.js';

const pod = new NetnsPod();
test.before(() => pod.start());
test.after(() => pod.stop());

test('pty-exec: the command gets a terminal of the asked size, resizes and its exit status', async () => {
  const p = spawnInPty(['sh', '-c', 'stty size; read x; stty size; exit 6'], { width: 90, height: 20 });
  let out = '';
  p.output.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 100 && !/20 90/.test(out); i++) await new Promise((r) => setTimeout(r, 20));
  p.resize(132, 43);
  await new Promise((r) => setTimeout(r, 50));
  p.input.write('\n');
  assert.is(await p.exited, 6);
  assert.match(out, /20 90\r\n[\s\S]*43 132\r\n/);
});

test('pty-exec: kill() ends the command and everything it started', async () => {
  const p = spawnInPty(['sh', '-c', 'sleep 300 & sleep 300']);
  await new Promise((r) => setTimeout(r, 200));
  p.kill();
  assert.is(await p.exited, 137);
});

test('pty-exec: usage and a missing program are clear', async () => {
  const usage = await run(helperPath(), ['pty-exec', '-1']);
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /usage: sifkube-helper pty-exec RESIZE_FD COLS ROWS CMD/);
  const missing = await run(helperPath(), ['pty-exec', '-1', '0', '0', '/no/such/program']);
  assert.is(missing.status, 127);
  assert.match(missing.stdout, /cannot run \/no\/such\/program/);
});

test('netns-connect: reaches a server only listening inside the namespace, both directions', async () => {
  const stream = new PassThrough();
  const back = new PassThrough();
  let got = '';
  back.on('data', (d: Buffer) => (got += d.toString()));
  const duplex = passThroughDuplex(stream, back);
  const done = forwardInNetns(pod.path, 9090, duplex);
  stream.end('round trip');
  await done;
  assert.is(got, 'round trip');
});

test('netns-connect: a closed port, a bad port and a bad namespace are clear errors', async () => {
  const duplex = passThroughDuplex(new PassThrough(), new PassThrough());
  try {
    await forwardInNetns(pod.path, 7, duplex);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, PortNotListeningError);
    assert.match((e as Error).message, /cannot connect to 127\.0\.0\.1:7 .*nothing listens on port 7/);
  }
  const bad = await run(helperPath(), ['netns-connect', pod.path, '0']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /bad port 0: give 1\.\.65535/);
  const ns = await run(helperPath(), ['netns-connect', '/run/netns/sk-no-such-ns', '80']);
  assert.is(ns.status, 1);
  assert.match(ns.stderr, /cannot enter network namespace \/run\/netns\/sk-no-such-ns/);
});

/** A duplex whose readable side is `input` and writable side is `output`. */
function passThroughDuplex(input: PassThrough, output: PassThrough) {
  return Duplex.from({ readable: input, writable: output });
}

test.run();
