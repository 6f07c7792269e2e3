import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HostStreamingBackend, StreamingServer } from '../../src/cri/streaming/index.js';
import { spdyRemoteCommand } from '../helpers/spdy-client.js';

const backend = new HostStreamingBackend();
const server = new StreamingServer(backend);

test.before(() => server.start());
test.after(() => server.stop());

const exec = (cmd: string[], o: { tty?: boolean; stdin?: boolean; stderr?: boolean } = {}) =>
  server.getExecUrl({ containerId: 'c1', cmd, tty: !!o.tty, stdin: !!o.stdin, stdout: true, stderr: o.stderr ?? !o.tty });

test('exec without tty: stdout, stderr and exit code 0 as a v4 Status', async () => {
  const r = await spdyRemoteCommand(exec(['sh', '-c', 'echo out; echo err >&2']), { stderr: true });
  assert.is(r.protocol, 'v4.channel.k8s.io');
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'err\n');
  assert.equal(JSON.parse(r.error), { metadata: {}, status: 'Success' });
});

test('exec: a non-zero exit is Failure/NonZeroExitCode with the code as the ExitCode cause', async () => {
  const r = await spdyRemoteCommand(exec(['sh', '-c', 'exit 3']), { stderr: true });
  const status = JSON.parse(r.error);
  assert.is(status.status, 'Failure');
  assert.is(status.reason, 'NonZeroExitCode');
  assert.equal(status.details.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('exec: stdin is echoed back and its end reaches the command', async () => {
  const r = await spdyRemoteCommand(exec(['cat'], { stdin: true }), { stdin: 'hello sifkube\n', stderr: true });
  assert.is(r.stdout, 'hello sifkube\n');
  assert.equal(JSON.parse(r.error).status, 'Success');
});

test('exec with tty: a real terminal, resized by the client', async () => {
  const r = await spdyRemoteCommand(exec(['sh', '-c', 'read line; stty size; tty'], { tty: true, stdin: true }), {
    tty: true,
    resize: (s) => s.write(`${JSON.stringify({ Width: 123, Height: 45 })}\n`),
    stdin: (s) => setTimeout(() => s.write('go\n'), 200),
  });
  assert.match(r.stdout, /45 123\r\n/);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
  assert.equal(JSON.parse(r.error).status, 'Success');
});

test('exec: a command killed by a signal reports 128+signal', async () => {
  const r = await spdyRemoteCommand(exec(['sh', '-c', 'kill -TERM $$']), { stderr: true });
  assert.equal(JSON.parse(r.error).details.causes, [{ reason: 'ExitCode', message: '143' }]);
});

test('exec of a program that does not exist: an InternalError status naming it', async () => {
  const r = await spdyRemoteCommand(exec(['/no/such/program']), { stderr: true });
  const status = JSON.parse(r.error);
  assert.is(status.reason, 'InternalError');
  assert.match(status.message, /cannot run \/no\/such\/program/);
});

test('older protocols: v1 error stream carries the bare message', async () => {
  const r = await spdyRemoteCommand(exec(['sh', '-c', 'exit 5']), { stderr: true, protocols: ['channel.k8s.io'] });
  assert.is(r.protocol, 'channel.k8s.io');
  assert.match(r.error, /non-zero exit code: error executing command \[sh -c exit 5\], exit code 5/);
});

test('attach with tty: the container\'s terminal, resized by the attached client, its stdin closed once (stdinOnce)', async () => {
  const exited = backend.startContainer('tty-box', ['sh', '-c', 'read x; stty size; echo got $x; read y || echo stdin closed'], { tty: true, stdin: true, stdinOnce: true });
  try {
    const url = server.getAttachUrl({ containerId: 'tty-box', tty: true, stdin: true, stdout: true, stderr: false });
    const r = await spdyRemoteCommand(url, {
      tty: true,
      resize: (s) => s.write(`${JSON.stringify({ Width: 66, Height: 11 })}\n`),
      stdin: (s) => setTimeout(() => s.end('hi\n'), 200),
    });
    assert.match(r.stdout, /11 66\r\n/);
    assert.match(r.stdout, /got hi/);
    assert.match(r.stdout, /stdin closed/);
    assert.is(JSON.parse(r.error).status, 'Success');
    assert.is(await exited, 0);
  } finally {
    await backend.removeContainer('tty-box');
  }
});

test.run();
