import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseSpec, busyboxBundle, uniqueId } from '../helpers/bundle.js';

const runtime = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('containerd-shim-runc-v2 drives sifkube-oci: run with exit status, exec, kill, delete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skrt-ctd-'));
  const sock = join(dir, 'ctd.sock');
  writeFileSync(join(dir, 'config.toml'), `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\n  address = "${sock}"\n[plugins."io.containerd.grpc.v1.cri"]\n  disable_tcp_service = true\n`);
  const ctd = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore' });
  const b = busyboxBundle(baseSpec(['true']));
  const ids: string[] = [];
  const ctr = (args: string[]) => spawnSync('ctr', ['-a', sock, ...args], { encoding: 'utf8', timeout: 30_000 });
  // No cgroup path from ctr: the runtime makes (and removes) its own per container.
  const run = (...flags: string[]) => ['run', '--runc-binary', runtime, '--runc-root', join(dir, 'runc'), '--cgroup', '', ...flags, '--rootfs', join(b.dir, 'rootfs')];
  try {
    for (let i = 0; i < 500 && !existsSync(sock); i++) await sleep(10);
    const id = uniqueId('ctd');
    ids.push(id);
    const r = ctr([...run('--rm'), id, '/bin/sh', '-c', 'echo hello from the shim; exit 3']);
    assert.is(r.stdout, 'hello from the shim\n', r.stderr);
    assert.is(r.status, 3, 'the exit status travels through the shim');

    const id2 = uniqueId('ctd');
    ids.push(id2);
    assert.is(ctr([...run('-d'), id2, '/bin/sleep', '60']).status, 0);
    const e = ctr(['task', 'exec', '--exec-id', 'e1', id2, '/bin/sh', '-c', 'echo in pid $$; exit 4']);
    assert.match(e.stdout, /^in pid \d+\n$/, e.stderr);
    assert.is(e.status, 4);
    assert.match(ctr(['task', 'ls']).stdout, new RegExp(`${id2}\\s+\\d+\\s+RUNNING`));
    assert.is(ctr(['task', 'kill', '-s', 'SIGKILL', id2]).status, 0);
    for (let i = 0; i < 200 && !/STOPPED/.test(ctr(['task', 'ls']).stdout); i++) await sleep(20);
    assert.match(ctr(['task', 'ls']).stdout, new RegExp(`${id2}\\s+\\d+\\s+STOPPED`));
    assert.is(ctr(['task', 'delete', id2]).status, 0);
    assert.is(ctr(['container', 'delete', id2]).status, 0);
    assert.equal(readdirSync('/sys/fs/cgroup/pids').filter((d) => d.includes(id2)), [], 'the container cgroup is gone');
  } finally {
    for (const id of ids) {
      ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      ctr(['task', 'delete', '-f', id]);
      ctr(['container', 'delete', id]);
    }
    ctd.kill('SIGTERM');
    await new Promise((r) => ctd.once('exit', r));
    b.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
