import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELPER_PATH } from '../../src/runtime/native.js';
import { baseSpec, busyboxBundle, oci, uniqueId } from '../helpers/bundle.js';

const cli = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;
const hash = () => createHash('sha256').update(readFileSync(HELPER_PATH)).digest('hex');

/** PTRACE_SEIZE (then detach) of PID by a root process without CAP_SYS_PTRACE: "ok" or the error. */
function seize(pid: number): string {
  const py = `import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.ptrace(0x4206, ${pid}, 0, 0) == 0:\n  libc.ptrace(17, ${pid}, 0, 0)\n  print('ok')\nelse:\n  print(os.strerror(ctypes.get_errno()))`;
  return spawnSync('setpriv', ['--bounding-set', '-sys_ptrace', 'python3', '-c', py], { encoding: 'utf8' }).stdout.trim();
}

/*
 * The runc CVE-2019-5736 attack on the helper. The image's program is `#!/proc/self/exe crilog`:
 * the helper's init execs it, so the kernel runs the helper's own binary as the container's process
 * (its crilog subcommand, which waits on the two FIFOs passed with --preserve-fds). Then an exec'd
 * shell opens that process's /proc/PID/exe, tries to write it while it runs, kills it and writes
 * through the fd it kept: with the host binary, the second write would replace it for every later
 * container. No pid namespace, so the shell outlives the process it killed.
 */
test('a container cannot rewrite the helper through /proc/PID/exe of a process running it (CVE-2019-5736)', () => {
  const spec = baseSpec(['/evil']);
  spec.root.readonly = false;
  spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
  const b = busyboxBundle(spec);
  const id = uniqueId('cve');
  const before = hash();
  const fifos: number[] = [];
  try {
    writeFileSync(join(b.dir, 'rootfs', 'evil'), '#!/proc/self/exe crilog\n');
    chmodSync(join(b.dir, 'rootfs', 'evil'), 0o755);
    for (const name of ['out', 'err']) {
      spawnSync('mkfifo', [join(b.dir, name)]);
      fifos.push(openSync(join(b.dir, name), constants.O_RDWR)); // never at end of file: crilog waits
    }
    // Files, not pipes, for the CLI's output: the container inherits them and lives on.
    const errFd = openSync(join(b.dir, 'run.err'), 'w');
    const run = spawnSync(process.execPath, [cli, '--root', b.root, 'run', '-d', '--preserve-fds', '2', '--bundle', b.dir, id], { encoding: 'utf8', stdio: ['ignore', 'ignore', errFd, ...fifos], timeout: 30_000 });
    closeSync(errFd);
    assert.is(run.status, 0, readFileSync(join(b.dir, 'run.err'), 'utf8'));
    const pid = JSON.parse(oci(b, ['state', id]).stdout).pid as number;
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^\/proc\/self\/exe\0crilog\0\/evil\0/, 'the container process runs the helper binary');
    const attack = [
      `exec 3</proc/${pid}/exe && echo opened`,
      `(echo pwned >> /proc/${pid}/exe) 2>&1 | sed 's/.*: //'`,
      `kill -9 ${pid}; while [ -e /proc/${pid}/exe ]; do sleep 0.05; done`,
      '(echo pwned > /proc/self/fd/3) 2>&1 | sed "s/.*: //"',
    ].join('\n');
    const r = oci(b, ['exec', id, 'sh', '-c', attack]);
    assert.is(r.stdout, 'opened\nText file busy\nRead-only file system\n', r.stderr);
    assert.is(hash(), before, 'the host helper binary is unchanged');
  } finally {
    fifos.forEach((fd) => closeSync(fd));
    oci(b, ['delete', '-f', id]);
    b.remove();
  }
});

test('the helper runs containers from a read-only view of its binary, not dumpable', async () => {
  const b = busyboxBundle(baseSpec(['true']));
  const id = uniqueId('ro');
  try {
    assert.is(oci(b, ['create', '--bundle', b.dir, id]).status, 0);
    // Before start, the container's process is still the helper (a clone of the monitor).
    const pid = JSON.parse(oci(b, ['state', id]).stdout).pid as number;
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Name:\tsifkube-helper$/m);
    const probe = spawnSync('python3', ['-c', `import os\nfd = os.open('/proc/${pid}/exe', os.O_PATH)\nprint(os.statvfs(f'/proc/self/fd/{fd}').f_flag & os.ST_RDONLY != 0)`], { encoding: 'utf8' });
    assert.is(probe.stdout.trim(), 'True', probe.stderr);
    // Non-dumpable: a root process without CAP_SYS_PTRACE may not attach to it, though its
    // capabilities (the container's three) are a subset of the caller's; a dumpable process with
    // such capabilities (a sleep) it may attach to.
    const sleeper = spawn('setpriv', ['--bounding-set', '-all,+kill', 'sleep', '10'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      assert.is(seize(sleeper.pid!), 'ok');
      assert.is(seize(pid), 'Operation not permitted');
    } finally {
      sleeper.kill('SIGKILL');
    }
  } finally {
    oci(b, ['delete', '-f', id]);
    b.remove();
  }
});

test('where the kernel refuses the read-only view (no CAP_SYS_ADMIN over the mount namespace), the helper runs from a sealed memfd', async () => {
  // In a new user namespace open_tree(OPEN_TREE_CLONE) is refused (EPERM); the helper then waits for
  // its plan on fd 3, so its exe can be looked at.
  const child = spawn('unshare', ['--user', '--map-root-user', HELPER_PATH, 'container', '3'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  try {
    let exe = '';
    for (let i = 0; i < 200 && !exe.startsWith('/memfd:'); i++) {
      await new Promise((r) => setTimeout(r, 10));
      exe = readlinkSync(`/proc/${child.pid}/exe`);
    }
    assert.match(exe, /^\/memfd:sifkube-helper/);
    // F_GET_SEALS (1034): seal, shrink, grow and write.
    const seals = spawnSync('python3', ['-c', `import fcntl, os\nprint(fcntl.fcntl(os.open('/proc/${child.pid}/exe', os.O_RDONLY), 1034))`], { encoding: 'utf8' });
    assert.is(seals.stdout.trim(), '15', seals.stderr);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
});

test.run();
