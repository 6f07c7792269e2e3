import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status as S } from '@grpc/grpc-js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSif } from '../../src/sif/index.js';
import { codeOf, deleteLink, removeAllPods, podConfig, startTestCri, writeBridgeConflist, type TestCri } from '../helpers/cri.js';
import { busyboxRootfs } from '../helpers/registry.js';
import { collect, spdyRemoteCommand, spdyUpgrade } from '../helpers/spdy-client.js';
import type { SpdyStream } from '../../src/cri/streaming/spdy/connection.js';

let cri: TestCri;
let net: { bridge: string; subnet: string; gateway: string };
let image = '';
let sandboxId = '';
const work = mkdtempSync(join(tmpdir(), 'sk-cri-ctr-'));
const logDir = join(work, 'logs');
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

test.before(async () => {
  cri = await startTestCri();
  net = writeBridgeConflist(cri);
  const rootfs = join(work, 'rootfs');
  busyboxRootfs(rootfs);
  for (const app of ['hostname', 'cat', 'id', 'pwd', 'env', 'touch', 'trap', 'printf', 'ps', 'nc', 'tty', 'stty', 'grep', 'tr']) {
    try {
      (await import('node:fs')).symlinkSync('busybox', join(rootfs, 'bin', app));
    } catch {
      // already linked
    }
  }
  mkdirSync(join(rootfs, 'work'));
  const sif = join(work, 'busybox.sif');
  buildSif({ rootfs, out: sif, deterministic: true, imageConfig: { cmd: ['sh', '-c', 'echo from the image'], env: ['FROM_IMAGE=1', 'PATH=/bin'], user: 'app', workingDir: '/work' } });
  image = (await cri.client.image.PullImage({ image: { image: `local.file${sif}` } })).imageRef;
  sandboxId = (await cri.client.runtime.RunPodSandbox({ config: podConfig('ctrpod', { logDirectory: logDir, dnsConfig: { servers: ['10.96.0.10'], searches: [], options: [] } }) })).podSandboxId;
});

test.after(async () => {
  try {
    await removeAllPods(cri);
  } finally {
    await cri.dispose();
    deleteLink(net.bridge);
    writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
    rmSync(work, { recursive: true, force: true });
  }
});

let n = 0;
function ctr(extra: Record<string, unknown> = {}): Record<string, unknown> {
  n += 1;
  return { metadata: { name: `c${n}`, attempt: 0 }, image: { image }, logPath: `c${n}/0.log`, labels: { n: String(n) }, annotations: { a: 'b' }, ...extra };
}

async function run(extra: Record<string, unknown> = {}): Promise<string> {
  const { containerId } = await cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config: ctr(extra), sandboxConfig: {} });
  await cri.client.runtime.StartContainer({ containerId });
  return containerId;
}

async function waitExited(id: string): Promise<Record<string, unknown> & { exitCode: number; reason: string; state: string; logPath: string; startedAt: string; finishedAt: string }> {
  for (let i = 0; i < 200; i++) {
    const { status } = await cri.client.runtime.ContainerStatus({ containerId: id });
    if (status.state === 'CONTAINER_EXITED') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`container ${id} did not exit`);
}

function logLines(path: string): { stream: string; tag: string; text: string }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$/.exec(l);
      assert.ok(m, `CRI log line: ${l}`);
      return { stream: m![2], tag: m![3], text: m![4] };
    });
}

test('a container runs the image command with the image env, workdir and user; its output is in the CRI log format', async () => {
  const id = await run({ command: ['sh', '-c', 'echo "$FROM_IMAGE $EXTRA $(pwd) $(id -u):$(id -g) $(hostname)"; echo oops >&2; printf partial'], envs: [{ key: 'EXTRA', value: 'x y' }] });
  const st = await waitExited(id);
  assert.is(st.exitCode, 0);
  assert.is(st.reason, 'Completed');
  assert.ok(BigInt(st.finishedAt) >= BigInt(st.startedAt) / 1_000_000_000n * 1_000_000_000n);
  assert.is(st.logPath, join(logDir, `c${n}/0.log`));
  await new Promise((r) => setTimeout(r, 100));
  const lines = logLines(st.logPath);
  assert.equal(lines.filter((l) => l.stream === 'stdout'), [{ stream: 'stdout', tag: 'F', text: '1 x y /work 1000:1000 ctrpod' }, { stream: 'stdout', tag: 'P', text: 'partial' }]);
  assert.equal(lines.filter((l) => l.stream === 'stderr'), [{ stream: 'stderr', tag: 'F', text: 'oops' }]);
  await cri.client.runtime.RemoveContainer({ containerId: id });
});

test('exit codes and reasons; the image CMD runs when no command is given', async () => {
  const failing = await run({ command: ['sh', '-c', 'exit 3'] });
  const st = await waitExited(failing);
  assert.is(st.exitCode, 3);
  assert.is(st.reason, 'Error');
  const dflt = await run();
  const st2 = await waitExited(dflt);
  assert.is(st2.exitCode, 0);
  assert.equal(logLines(st2.logPath).map((l) => l.text), ['from the image']);
  for (const id of [failing, dflt]) await cri.client.runtime.RemoveContainer({ containerId: id });
});

test('security context: run_as_user overrides the image user, an unknown user name is refused', async () => {
  const id = await run({ command: ['sh', '-c', 'id -u; id -G'], linux: { securityContext: { runAsUser: { value: 0 }, supplementalGroups: [5, 7] } } });
  const st = await waitExited(id);
  assert.equal(logLines(st.logPath).map((l) => l.text), ['0', '0 5 7']);
  await cri.client.runtime.RemoveContainer({ containerId: id });
  const e = await codeOf(cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config: ctr({ linux: { securityContext: { runAsUsername: 'nobody-here' } } }) }));
  assert.is(e.code, S.INVALID_ARGUMENT);
  assert.match(e.details, /run_as_username nobody-here is not in the image's \/etc\/passwd/);
});

test('pod files and mounts: hostname, resolv.conf, a read-only host folder', async () => {
  const hostDir = join(work, 'host-data');
  mkdirSync(hostDir, { recursive: true });
  writeFileSync(join(hostDir, 'f'), 'from the host\n');
  const id = await run({
    command: ['sh', '-c', 'hostname; cat /etc/resolv.conf; cat /data/f; touch /data/g 2>/dev/null && echo writable || echo read-only; grep -c eth0 /proc/net/dev'],
    mounts: [{ containerPath: '/data', hostPath: hostDir, readonly: true }],
  });
  const st = await waitExited(id);
  assert.equal(logLines(st.logPath).map((l) => l.text), ['ctrpod', 'nameserver 10.96.0.10', 'from the host', 'read-only', '1']);
  await cri.client.runtime.RemoveContainer({ containerId: id });
});

test('StopContainer: SIGTERM, then SIGKILL after the timeout; stop and remove are idempotent', async () => {
  const trapped = await run({ command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'] });
  const stubborn = await run({ command: ['sleep', '1000'] });
  assert.is((await cri.client.runtime.ContainerStatus({ containerId: trapped })).status.state, 'CONTAINER_RUNNING');
  await cri.client.runtime.StopContainer({ containerId: trapped, timeout: 5 });
  const a = await waitExited(trapped);
  assert.is(a.exitCode, 0);
  const t0 = Date.now();
  await cri.client.runtime.StopContainer({ containerId: stubborn, timeout: 1 });
  assert.ok(Date.now() - t0 >= 900, 'waited for the timeout');
  const b = await waitExited(stubborn);
  assert.is(b.exitCode, 137);
  assert.is(b.reason, 'Error');
  await cri.client.runtime.StopContainer({ containerId: stubborn, timeout: 1 });
  for (const id of [trapped, stubborn]) {
    await cri.client.runtime.RemoveContainer({ containerId: id });
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
  assert.is((await codeOf(cri.client.runtime.ContainerStatus({ containerId: stubborn }))).code, S.NOT_FOUND);
});

test('ExecSync: output, exit code, timeout', async () => {
  const id = await run({ command: ['sleep', '1000'] });
  const r = await cri.client.runtime.ExecSync({ containerId: id, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 7'], timeout: 5 });
  assert.is(Buffer.from(r.stdout).toString(), 'out\n');
  assert.is(Buffer.from(r.stderr).toString(), 'err\n');
  assert.is(r.exitCode, 7);
  const e = await codeOf(cri.client.runtime.ExecSync({ containerId: id, cmd: ['sleep', '10'], timeout: 1 }));
  assert.is(e.code, S.DEADLINE_EXCEEDED);
  const bad = await codeOf(cri.client.runtime.ExecSync({ containerId: id, cmd: [], timeout: 1 }));
  assert.is(bad.code, S.INVALID_ARGUMENT);
  await cri.client.runtime.RemoveContainer({ containerId: id });
});

test('Exec through the streaming server: stdin, stdout, stderr and the exit status reach the client', async () => {
  const id = await run({ command: ['sleep', '1000'] });
  try {
    const { url } = await cri.client.runtime.Exec({ containerId: id, cmd: ['sh', '-c', 'cat; echo err >&2; exit 3'], stdin: true, stdout: true, stderr: true });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\//);
    const r = await spdyRemoteCommand(url, { stdin: 'hello\n', stdout: true, stderr: true });
    assert.is(r.stdout, 'hello\n');
    assert.is(r.stderr, 'err\n');
    assert.match(r.error, /exit code 3/);
    const none = await codeOf(cri.client.runtime.Exec({ containerId: id, cmd: ['sh'] }));
    assert.is(none.code, S.INVALID_ARGUMENT);
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
});

test('Exec with a terminal (-t): the process gets a pty in the container, sized and resized by the client, its exit code', async () => {
  const id = await run({ command: ['sleep', '1000'] });
  try {
    const { url } = await cri.client.runtime.Exec({ containerId: id, cmd: ['sh', '-c', 'tty; stty size; read line; stty size; echo "got $line"; exit 5'], tty: true, stdin: true, stdout: true });
    const r = await spdyRemoteCommand(url, {
      tty: true,
      resize: (s) => {
        s.write(`${JSON.stringify({ Width: 100, Height: 30 })}\n`);
        setTimeout(() => s.write(`${JSON.stringify({ Width: 123, Height: 45 })}\n`), 300);
      },
      stdin: (s) => setTimeout(() => s.write('go\n'), 600),
    });
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r\n30 100\r\n/);
    assert.match(r.stdout, /go\r\n45 123\r\ngot go\r\n$/);
    assert.match(r.error, /exit code 5/);
    const { url: eofUrl } = await cri.client.runtime.Exec({ containerId: id, cmd: ['cat'], tty: true, stdin: true, stdout: true });
    const eof = await spdyRemoteCommand(eofUrl, { tty: true, stdin: 'typed\n' });
    assert.match(eof.stdout, /typed\r\ntyped\r\n/);
    assert.equal(JSON.parse(eof.error).status, 'Success');
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
});

test('a tty container runs on a terminal of its own; its output goes to the CRI log as stdout', async () => {
  const id = await run({ tty: true, command: ['sh', '-c', 'tty; test -t 0 && test -t 1 && test -t 2 && echo all-terminal; echo to-stderr >&2'] });
  const st = await waitExited(id);
  assert.is(st.exitCode, 0);
  await new Promise((r) => setTimeout(r, 200));
  const lines = logLines(st.logPath);
  assert.ok(lines.every((l) => l.stream === 'stdout'), JSON.stringify(lines));
  assert.equal(lines.map((l) => l.text.replace(/\r$/, '')), ['/dev/pts/0', 'all-terminal', 'to-stderr']);
  await cri.client.runtime.RemoveContainer({ containerId: id });
});

test('Attach: stdin into the container (stdinOnce closes it when the client ends it), output from the container, until it exits', async () => {
  const id = await run({ stdin: true, stdinOnce: true, command: ['sh', '-c', 'read x; echo "got $x"; cat; echo err >&2; echo stdin-closed'] });
  const { url } = await cri.client.runtime.Attach({ containerId: id, stdin: true, stdout: true, stderr: true });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/attach\//);
  const r = await spdyRemoteCommand(url, { stdin: (s) => setTimeout(() => s.end('hi\nmore\n'), 200), stdout: true, stderr: true });
  assert.is(r.stdout, 'got hi\nmore\nstin-closed\n'.replace('stin', 'stdin'));
  assert.is(r.stderr, 'err\n');
  assert.is((await waitExited(id)).exitCode, 0);
  const noStdin = await run({ command: ['sleep', '1000'] });
  const e = await codeOf(cri.client.runtime.Attach({ containerId: noStdin, stdin: true, stdout: true }));
  assert.is(e.code, S.FAILED_PRECONDITION);
  assert.match(e.details, /created without stdin/);
  for (const c of [id, noStdin]) await cri.client.runtime.RemoveContainer({ containerId: c });
});

test('Attach to a tty container: its terminal echoes and answers; stdin stays open without stdinOnce', async () => {
  const id = await run({ tty: true, stdin: true, command: ['sh', '-c', 'read x; echo "got $x"; read y; echo "then $y"'] });
  try {
    const size = (s: SpdyStream) => s.write(`${JSON.stringify({ Width: 80, Height: 24 })}\n`);
    const first = await spdyRemoteCommand((await cri.client.runtime.Attach({ containerId: id, tty: true, stdin: true, stdout: true })).url, {
      tty: true,
      resize: size,
      stdin: (s, conn) => {
        setTimeout(() => s.end('one\n'), 200);
        setTimeout(() => conn.socket.destroy(), 1000);
      },
    });
    // The log keeps lines, not the terminal's carriage returns: attach replays what the log records.
    assert.match(first.stdout, /one\ngot one\n/, JSON.stringify(first.stdout));
    assert.is((await cri.client.runtime.ContainerStatus({ containerId: id })).status.state, 'CONTAINER_RUNNING', 'the end of one client\'s input is not the container\'s');
    const second = await spdyRemoteCommand((await cri.client.runtime.Attach({ containerId: id, tty: true, stdin: true, stdout: true })).url, { tty: true, resize: size, stdin: (s) => setTimeout(() => s.end('two\n'), 200) });
    assert.match(second.stdout, /two\nthen two\n/, JSON.stringify(second.stdout));
    assert.is((await waitExited(id)).exitCode, 0);
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
});

test('PortForward through the streaming server reaches a port inside the pod network namespace', async () => {
  const id = await run({ command: ['nc', '-l', '-p', '8080', '-e', 'cat'] });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const { url } = await cri.client.runtime.PortForward({ podSandboxId: sandboxId, port: [8080] });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/portforward\//);
    const { conn } = await spdyUpgrade(url, ['portforward.k8s.io']);
    try {
      const error = await conn.openStream({ streamtype: 'error', port: '8080', requestid: '0' });
      const data = await conn.openStream({ streamtype: 'data', port: '8080', requestid: '0' });
      error.end();
      const got = collect(data);
      data.end('ping through the pod\n');
      assert.is(await got, 'ping through the pod\n');
      assert.is(await collect(error), '');
    } finally {
      conn.socket.destroy();
    }
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
});

test('ListContainers filters, events, stats, RemoveImage refuses an image in use', async () => {
  const events: { containerId: string; containerEventType: string }[] = [];
  const pkg = (await import('../../src/cri/proto.js')).criPackage();
  const raw = new pkg.RuntimeService(`unix://${cri.socket}`, (await import('@grpc/grpc-js')).credentials.createInsecure()) as unknown as { GetContainerEvents(req: object): NodeJS.EventEmitter & { cancel(): void } };
  const stream = raw.GetContainerEvents({});
  stream.on('data', (e: { containerId: string; containerEventType: string }) => events.push(e));
  stream.on('error', () => undefined);
  let running = '';
  let done = '';
  try {
  await new Promise((r) => setTimeout(r, 100));
  running = await run({ command: ['sleep', '1000'] });
  done = await run({ command: ['true'] });
  await waitExited(done);
  const ids = async (filter: Record<string, unknown>) => (await cri.client.runtime.ListContainers({ filter })).containers.map((c: { id: string }) => c.id);
  assert.equal(await ids({ state: { state: 'CONTAINER_RUNNING' } }), [running]);
  assert.equal(await ids({ state: { state: 'CONTAINER_EXITED' } }), [done]);
  assert.equal(await ids({ podSandboxId: sandboxId.slice(0, 10), labelSelector: { n: String(n) } }), [done]);
  const listed = (await cri.client.runtime.ListContainers({ filter: { id: running } })).containers[0];
  assert.is(listed.imageRef, image);
  assert.is(listed.podSandboxId, sandboxId);
  const stats = await cri.client.runtime.ContainerStats({ containerId: running });
  assert.is(stats.stats.attributes.id, running);
  assert.ok(Number(stats.stats.writableLayer.usedBytes.value) >= 0);
  const podStats = await cri.client.runtime.PodSandboxStats({ podSandboxId: sandboxId });
  assert.equal(podStats.stats.linux.containers.map((c: { attributes: { id: string } }) => c.attributes.id), [running]);
  const inUse = await codeOf(cri.client.image.RemoveImage({ image: { image } }));
  assert.is(inUse.code, S.FAILED_PRECONDITION);
  assert.match(inUse.details, /is used by container/);
  await cri.client.runtime.RemoveContainer({ containerId: running });
  await cri.client.runtime.RemoveContainer({ containerId: done });
  await new Promise((r) => setTimeout(r, 700));
  } finally {
    stream.cancel();
  }
  const seen = (id: string) => events.filter((e) => e.containerId === id).map((e) => e.containerEventType);
  assert.equal(seen(running), ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT']);
  assert.equal(seen(done), ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT']);
});

test('containers outlive a restart of the CRI server, their logs continue, ReopenContainerLog follows a rotation', async () => {
  const id = await run({ command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo line $i; sleep 0.1; done'] });
  const logPath = (await cri.client.runtime.ContainerStatus({ containerId: id })).status.logPath;
  for (let i = 0; i < 100 && logLines(logPath).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  await cri.restart();
  const st = (await cri.client.runtime.ContainerStatus({ containerId: id })).status;
  assert.is(st.state, 'CONTAINER_RUNNING');
  renameSync(st.logPath, `${st.logPath}.1`);
  await cri.client.runtime.ReopenContainerLog({ containerId: id });
  assert.ok(existsSync(st.logPath), 'the new log file exists when ReopenContainerLog returns');
  for (let i = 0; i < 100 && logLines(st.logPath).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  const rotated = logLines(`${st.logPath}.1`).map((l) => Number(l.text.split(' ')[1]));
  const fresh = logLines(st.logPath).map((l) => Number(l.text.split(' ')[1]));
  assert.ok(rotated.length >= 3 && fresh.length >= 2, `${rotated.length} then ${fresh.length} lines`);
  assert.is(fresh[0], rotated[rotated.length - 1] + 1, 'no line lost or repeated across the rotation');
  await cri.client.runtime.StopContainer({ containerId: id, timeout: 0 });
  assert.is((await waitExited(id)).exitCode, 137);
  await cri.client.runtime.RemoveContainer({ containerId: id });
});

test('a tty container with stdin outlives a restart of the server: attach still reaches its terminal and resizes it', async () => {
  const id = await run({ tty: true, stdin: true, command: ['sh', '-c', 'read x; stty size; echo "after restart $x"'] });
  try {
    await new Promise((r) => setTimeout(r, 200));
    await cri.restart();
    const { url } = await cri.client.runtime.Attach({ containerId: id, tty: true, stdin: true, stdout: true });
    const r = await spdyRemoteCommand(url, { tty: true, resize: (s) => s.write(`${JSON.stringify({ Width: 77, Height: 19 })}\n`), stdin: (s) => setTimeout(() => s.end('yes\n'), 200) });
    assert.match(r.stdout, /19 77\nafter restart yes\n/, JSON.stringify(r.stdout));
    assert.is((await waitExited(id)).exitCode, 0);
  } finally {
    await cri.client.runtime.RemoveContainer({ containerId: id });
  }
});

test('bad container requests: clear errors, nothing left', async () => {
  const cases: [Record<string, unknown>, number, RegExp][] = [
    [{ podSandboxId: sandboxId }, S.INVALID_ARGUMENT, /^config is missing/],
    [{ podSandboxId: 'nope', config: ctr() }, S.NOT_FOUND, /pod sandbox nope not found/],
    [{ podSandboxId: sandboxId, config: ctr({ image: { image: 'docker.io/library/absent:1' } }) }, S.NOT_FOUND, /is not in the image store: pull it first/],
    [{ podSandboxId: sandboxId, config: ctr({ mounts: [{ containerPath: '/x', hostPath: '/nonexistent/dir' }] }) }, S.INVALID_ARGUMENT, /host_path \/nonexistent\/dir does not exist/],
    [{ podSandboxId: sandboxId, config: ctr({ logPath: '../escape.log' }) }, S.INVALID_ARGUMENT, /log_path/],
    [{ podSandboxId: sandboxId, config: ctr({ linux: { securityContext: { capabilities: { addCapabilities: ['NOT_A_CAP'] } } } }) }, S.INVALID_ARGUMENT, /NOT_A_CAP is not a capability/],
    [{ podSandboxId: sandboxId, config: ctr({ linux: { securityContext: { seccomp: { profileType: 'Localhost', localhostRef: '/nonexistent/profile.json' } } } }) }, S.INVALID_ARGUMENT, /localhost_ref \/nonexistent\/profile.json cannot be read/],
    [{ podSandboxId: sandboxId, config: ctr({ linux: { securityContext: { seccomp: { profileType: 'Localhost', localhostRef: 'relative.json' } } } }) }, S.INVALID_ARGUMENT, /must be an absolute path/],
  ];
  for (const [req, code, msg] of cases) {
    const e = await codeOf(cri.client.runtime.CreateContainer(req));
    assert.is(e.code, code, JSON.stringify(req));
    assert.match(e.details, msg);
  }
  assert.equal((await cri.client.runtime.ListContainers({})).containers, []);
  assert.ok(!existsSync(join(cri.config.runDir, 'containers')) || (await import('node:fs')).readdirSync(join(cri.config.runDir, 'containers')).length === 0);
});

test('a pod-wide PID namespace (shareProcessNamespace): containers see each other, PID 1 is the pod init, gone with the pod', async () => {
  const podPid = { securityContext: { namespaceOptions: { pid: 'POD' } } };
  const { podSandboxId } = await cri.client.runtime.RunPodSandbox({ config: podConfig('pidpod', { logDirectory: logDir, linux: podPid }) });
  const create = async (name: string, command: string[]) => {
    const { containerId } = await cri.client.runtime.CreateContainer({ podSandboxId, config: { metadata: { name, attempt: 0 }, image: { image }, command, logPath: `${name}.log`, linux: podPid }, sandboxConfig: {} });
    await cri.client.runtime.StartContainer({ containerId });
    return containerId;
  };
  try {
    await create('sleeper', ['sleep', '1000']);
    const looker = await create('looker', ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; ps -o comm | grep -c sleep']);
    const st = await waitExited(looker);
    const lines = logLines(st.logPath).map((l) => l.text);
    assert.match(lines[0], /sifkube-helper pod-init $/);
    assert.is(lines[1], '1');
    const other = await codeOf(cri.client.runtime.CreateContainer({ podSandboxId: sandboxId, config: ctr({ linux: podPid }), sandboxConfig: {} }));
    assert.is(other.code, S.INVALID_ARGUMENT);
    assert.match(other.details, /has no pod PID namespace/);
  } finally {
    // The pod init goes with the pod (a pod-init left running fails this file's leak check).
    await cri.client.runtime.StopPodSandbox({ podSandboxId });
    await cri.client.runtime.RemovePodSandbox({ podSandboxId });
  }
});

test('RemovePodSandbox stops and removes its containers', async () => {
  const id = await run({ command: ['sleep', '1000'] });
  await cri.client.runtime.StopPodSandbox({ podSandboxId: sandboxId });
  assert.is((await cri.client.runtime.ContainerStatus({ containerId: id })).status.state, 'CONTAINER_EXITED');
  await cri.client.runtime.RemovePodSandbox({ podSandboxId: sandboxId });
  assert.is((await codeOf(cri.client.runtime.ContainerStatus({ containerId: id }))).code, S.NOT_FOUND);
});

test.run();
