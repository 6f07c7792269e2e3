import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor, etcdArgs, probe, readSupervisorStatus, resolveEtcd } from '../../src/cluster/index.js';

const work = mkdtempSync(join(tmpdir(), 'sk-sup-'));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function until(what: string, fn: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('etcd from Debian: started, healthy on /health, killed, restarted by the supervisor, stopped', async () => {
  const client = await freePort();
  const peer = await freePort();
  const statusFile = join(work, 'status.json');
  const sup = new Supervisor({ logDir: join(work, 'logs'), statusFile, initialBackoffMs: 200 });
  try {
    sup.start([{ name: 'etcd', command: resolveEtcd(), args: etcdArgs('sk-test', join(work, 'etcd'), { client, peer }), health: { url: `http://127.0.0.1:${client}/health` } }]);
    await sup.waitHealthy('etcd', 20_000);
    const first = sup.status()[0];
    assert.is(first.phase, 'running');
    assert.ok(first.pid && alive(first.pid));
    assert.ok(await probe({ url: `http://127.0.0.1:${client}/health` }));
    process.kill(first.pid!, 'SIGKILL');
    await until('etcd restarted', () => sup.status()[0].restarts === 1 && sup.status()[0].healthy);
    const second = sup.status()[0];
    assert.is.not(second.pid, first.pid);
    assert.equal(second.lastExit?.signal, 'SIGKILL');
    // The status file another process (`sifkube status`) reads says the same.
    const onDisk = readSupervisorStatus(statusFile).components[0];
    assert.is(onDisk.pid, second.pid);
    assert.is(onDisk.restarts, 1);
    const log = readFileSync(join(work, 'logs', 'etcd.log'), 'utf8');
    assert.match(log, /sifkube-supervisor: exited \(SIGKILL\); restarting in 200 ms/);
    assert.match(log, /ready to serve client requests|serving insecure client requests/);
    await sup.stop(5000);
    assert.not.ok(alive(second.pid!), 'etcd stopped');
    assert.is(sup.status()[0].phase, 'stopped');
    assert.not.ok(await probe({ url: `http://127.0.0.1:${client}/health` }));
  } finally {
    await sup.stop(1000);
  }
});

test('a component waits for the components it comes after to be healthy, so it never fails first', async () => {
  const client = await freePort();
  const peer = await freePort();
  const sup = new Supervisor({ logDir: join(work, 'logs-after'), initialBackoffMs: 100 });
  try {
    sup.start([
      // Fails at once unless etcd answers: started too early it would exit and be restarted.
      {
        name: 'client',
        command: process.execPath,
        args: ['-e', `fetch('http://127.0.0.1:${client}/health').then((r) => (r.ok ? setInterval(() => {}, 1e6) : process.exit(1)), () => process.exit(1))`],
        after: ['etcd'],
      },
      { name: 'etcd', command: resolveEtcd(), args: etcdArgs('sk-after', join(work, 'etcd-after'), { client, peer }), health: { url: `http://127.0.0.1:${client}/health` } },
    ]);
    assert.is(sup.status().find((c) => c.name === 'client')?.phase, 'waiting');
    await sup.waitHealthy('etcd', 20_000);
    await until('client running', () => sup.status().find((c) => c.name === 'client')?.phase === 'running');
    await new Promise((r) => setTimeout(r, 300));
    const c = sup.status().find((x) => x.name === 'client')!;
    assert.is(c.phase, 'running');
    assert.is(c.restarts, 0);
    assert.is(c.lastExit, undefined);
    assert.throws(() => sup.start([{ name: 'x', command: 'true', args: [], after: ['nope'] }]), /component x waits for unknown component\(s\) nope/);
  } finally {
    await sup.stop(2000);
  }
});

test('a crash loop backs off exponentially and stop cancels the pending restart', async () => {
  const sup = new Supervisor({ logDir: join(work, 'logs'), initialBackoffMs: 50, maxBackoffMs: 200 });
  try {
    sup.start([{ name: 'crasher', command: 'sh', args: ['-c', 'echo boom; exit 3'] }]);
    await until('three restarts', () => sup.status()[0].restarts >= 3);
    const s = sup.status()[0];
    assert.equal(s.lastExit?.code, 3);
    const log = readFileSync(s.logFile, 'utf8');
    assert.match(log, /restarting in 50 ms[\s\S]*restarting in 100 ms[\s\S]*restarting in 200 ms/);
    assert.match(log, /^boom$/m);
  } finally {
    await sup.stop(1000);
  }
  const restarts = sup.status()[0].restarts;
  await new Promise((r) => setTimeout(r, 400));
  assert.is(sup.status()[0].restarts, restarts, 'no restart after stop');
  assert.is(sup.status()[0].phase, 'stopped');
});

test('a program that cannot start is logged and retried, never crashes the supervisor', async () => {
  const sup = new Supervisor({ logDir: join(work, 'logs'), initialBackoffMs: 50 });
  try {
    sup.start([{ name: 'missing', command: join(work, 'no-such-binary'), args: [] }]);
    await until('a retry', () => sup.status()[0].restarts >= 1);
    assert.match(readFileSync(sup.status()[0].logFile, 'utf8'), /cannot start .*no-such-binary: spawn .* ENOENT/);
  } finally {
    await sup.stop(1000);
  }
  assert.ok(existsSync(join(work, 'logs', 'missing.log')));
});

test('a component that ignores SIGTERM is killed after the timeout', async () => {
  const sup = new Supervisor({ logDir: join(work, 'logs') });
  sup.start([{ name: 'stubborn', command: 'sh', args: ['-c', "trap '' TERM; echo ready; while :; do sleep 0.05; done"] }]);
  await until('running', () => readFileSync(join(work, 'logs', 'stubborn.log'), 'utf8').includes('ready'));
  const pid = sup.status()[0].pid!;
  const t0 = Date.now();
  await sup.stop(300);
  assert.ok(Date.now() - t0 >= 250);
  assert.not.ok(alive(pid));
  assert.is(sup.status()[0].lastExit?.signal, 'SIGKILL');
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
