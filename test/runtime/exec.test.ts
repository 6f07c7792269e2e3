import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseSpec, busyboxBundle, oci, runc, uniqueId, type Bundle } from '../helpers/bundle.js';

/** Runs fn with the same long-running container on sifkube-oci and on runc. */
function withPair(fn: (b: Bundle, ours: string, theirs: string) => void | Promise<void>, edit: (s: ReturnType<typeof baseSpec>) => void = () => {}) {
  return async () => {
    const spec = baseSpec(['sleep', '60']);
    edit(spec);
    const b = busyboxBundle(spec);
    const ours = uniqueId('ex');
    const theirs = uniqueId('ex');
    try {
      assert.is(oci(b, ['run', '-d', '--bundle', b.dir, ours]).status, 0);
      assert.is(runc(b, ['run', '-d', '--bundle', b.dir, theirs]).status, 0);
      await fn(b, ours, theirs);
    } finally {
      oci(b, ['delete', '-f', ours]);
      runc(b, ['delete', '-f', theirs]);
      b.remove();
    }
  };
}

test('exec runs a command in the container with its identity and returns its exit status, as runc', withPair((b, ours, theirs) => {
  const script = 'echo $$ >/dev/null; id; pwd; hostname; grep -E "^(Cap|NoNewPrivs)" /proc/self/status; readlink /proc/1/exe; exit 3';
  const o = oci(b, ['exec', ours, 'sh', '-c', script]);
  const t = runc(b, ['exec', theirs, 'sh', '-c', script]);
  assert.is(o.status, 3, o.stderr);
  assert.is(t.status, 3);
  assert.match(o.stdout, /uid=0\(root\)/);
  assert.is(o.stdout, t.stdout);
}));

test('exec into a container with its own user namespace joins it and the namespaces it owns, as runc', withPair((b, ours, theirs) => {
  const script = 'id; hostname; cat /proc/self/uid_map /proc/self/gid_map; grep -E "^Cap(Eff|Bnd)" /proc/self/status; stat -c %u /bin/busybox';
  const o = oci(b, ['exec', ours, 'sh', '-c', script]);
  const t = runc(b, ['exec', theirs, 'sh', '-c', script]);
  assert.is(o.status, 0, o.stderr);
  assert.is(t.status, 0, t.stderr);
  assert.match(o.stdout, /0 +200000 +65536/);
  assert.is(o.stdout, t.stdout);
}, (s) => {
  s.linux.namespaces.push({ type: 'user' });
  s.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  s.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  s.mounts = s.mounts.filter((m: { type: string }) => m.type !== 'cgroup');
  s.root.readonly = false;
}));

test('exec flags --user --env --cwd --cap --additional-gids match runc', withPair((b, ours, theirs) => {
  const flags = ['--user', '1000:1000', '--env', 'A=1', '--env', 'TERM=dumb', '--cwd', '/tmp', '--cap', 'CAP_CHOWN', '--additional-gids', '44'];
  const script = 'id; pwd; echo $A $TERM; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status';
  const o = oci(b, ['exec', ...flags, ours, 'sh', '-c', script]);
  const t = runc(b, ['exec', ...flags, theirs, 'sh', '-c', script]);
  assert.is(o.status, 0, o.stderr);
  assert.match(o.stdout, /uid=1000 gid=1000 groups=44\n\/tmp\n1 dumb\n/);
  assert.is(o.stdout, t.stdout);
}));

test('exec --process reads a process.json; a bad one is refused naming the field', withPair((b, ours, theirs) => {
  const file = join(b.dir, 'process.json');
  writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'echo from-json; umask'], cwd: '/dev', user: { uid: 7, gid: 8, umask: 0o077 }, env: ['PATH=/bin'] }));
  const o = oci(b, ['exec', '--process', file, ours]);
  const t = runc(b, ['exec', '--process', file, theirs]);
  assert.is(o.status, 0, o.stderr);
  assert.is(o.stdout, 'from-json\n0077\n');
  // Documented difference: runc 1.1 ignores user.umask in exec (it prints 0022); the rest agrees.
  assert.is(o.stdout.replace('0077', '0022'), t.stdout);
  writeFileSync(file, JSON.stringify({ args: 'sh', cwd: '/', user: { uid: 0, gid: 0 } }));
  const bad = oci(b, ['exec', '--process', file, ours]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /process.json: process.args: must be an array of strings/);
}));

test('exec --detach --pid-file leaves the process running inside the container', withPair(async (b, ours) => {
  const pidFile = join(b.dir, 'exec.pid');
  const r = oci(b, ['exec', '--detach', '--pid-file', pidFile, ours, 'sleep', '30']);
  assert.is(r.status, 0, r.stderr);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const init = JSON.parse(oci(b, ['state', ours]).stdout).pid as number;
  assert.is(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync(`/proc/${init}/ns/pid`));
  assert.is(readlinkSync(`/proc/${pid}/ns/mnt`), readlinkSync(`/proc/${init}/ns/mnt`));
  assert.is(readlinkSync(`/proc/${pid}/root`), '/');
  const pids = JSON.parse(oci(b, ['ps', '--format', 'json', ours]).stdout) as number[];
  assert.ok(pids.includes(pid), 'ps lists the exec\'d process');
}));

test('exec in a stopped container fails clearly', withPair((b, ours) => {
  assert.is(oci(b, ['kill', ours, 'KILL']).status, 0);
  for (let i = 0; i < 100 && JSON.parse(oci(b, ['state', ours]).stdout).status !== 'stopped'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  const r = oci(b, ['exec', ours, 'true']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /is stopped: a process can only be executed in a created or running container/);
}));

/** Receives the pty master from a console socket and prints everything read from it (python3). */
const RECEIVER = `
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 64, 1)
out = b""
while True:
    try:
        d = os.read(fds[0], 4096)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(msg.decode() + "|" + out.decode())
`;

/** Runs `args` (given the socket path) with a console receiver listening; returns what it read. */
async function withConsole(b: Bundle, run: (sock: string) => void): Promise<string> {
  const sock = join(b.dir, `console-${uniqueId('c')}.sock`);
  const rx = spawn('python3', ['-c', RECEIVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  rx.stdout.setEncoding('utf8');
  rx.stdout.on('data', (d: string) => (out += d));
  while (!out.startsWith('ready')) await new Promise((r) => setTimeout(r, 10));
  run(sock);
  await new Promise((r2) => rx.once('exit', r2));
  return out.slice('ready\n'.length);
}

async function consoleRun(b: Bundle, cmd: typeof oci): Promise<string> {
  const id = uniqueId('tty');
  const out = await withConsole(b, (sock) => assert.is(cmd(b, ['run', '-d', '--console-socket', sock, '--bundle', b.dir, id]).status, 0));
  cmd(b, ['delete', '-f', id]);
  return out;
}

test('exec --tty --detach --console-socket gives the new process a terminal, as runc', withPair(async (b, ours, theirs) => {
  const script = 'tty; echo done';
  const o = await withConsole(b, (sock) => assert.is(oci(b, ['exec', '-t', '-d', '--console-socket', sock, ours, 'sh', '-c', script]).status, 0));
  const t = await withConsole(b, (sock) => assert.is(runc(b, ['exec', '-t', '-d', '--console-socket', sock, theirs, 'sh', '-c', script]).status, 0));
  assert.match(o, /^\/dev\/ptmx\|\/dev\/pts\/\d+\r\ndone\r\n$/);
  assert.is(o, t);
}));

test('a terminal: the pty master goes over --console-socket, the process has a sized controlling tty, as runc', async () => {
  const spec = baseSpec(['sh', '-c', 'tty; stty size; ls -l /dev/console | cut -c1; echo done']);
  spec.process.terminal = true;
  spec.process.consoleSize = { height: 30, width: 100 };
  const b = busyboxBundle(spec);
  try {
    const ours = await consoleRun(b, oci);
    const theirs = await consoleRun(b, runc);
    assert.match(ours, /^\/dev\/ptmx\|\/dev\/pts\/0\r\n30 100\r\nc\r\ndone\r\n$/);
    assert.is(ours, theirs);
    assert.not.ok(existsSync(join(b.root, 'x')));
  } finally {
    b.remove();
  }
});

/** Runs a command line with a terminal on its stdio (util-linux `script`), feeding `input` after a pause. */
function underTerminal(cmdline: string, input: string): string {
  const r = spawnSync('sh', ['-c', `(sleep 2; echo ${input}) | script -qec '${cmdline}' /dev/null`], { encoding: 'utf8', timeout: 30_000 });
  return r.stdout;
}

test('a foreground run or exec with a terminal and no console socket runs the caller\'s terminal through the pty, as runc', withPair((b, ours, theirs) => {
  const cli = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;
  const spec = baseSpec(['sh', '-c', 'tty; read x; echo got $x']);
  spec.process.terminal = true;
  b.writeSpec(spec);
  const o = underTerminal(`${cli} --root ${b.root} run --bundle ${b.dir} ${uniqueId('fg')}`, 'hello');
  const t = underTerminal(`runc --root ${b.runcRoot} run --bundle ${b.dir} ${uniqueId('fg')}`, 'hello');
  // Where the typed line's echo lands depends on timing (for runc too): compare without it.
  const settled = (out: string) => out.replace('hello\r\n', '');
  assert.is(settled(o), '/dev/pts/0\r\ngot hello\r\n');
  assert.is(settled(o), settled(t));
  const oe = underTerminal(`${cli} --root ${b.root} exec -t ${ours} sh -c "tty; read x; echo got \\$x"`, 'there');
  const te = underTerminal(`runc --root ${b.runcRoot} exec -t ${theirs} sh -c "tty; read x; echo got \\$x"`, 'there');
  const settledE = (out: string) => out.replace('there\r\n', '');
  assert.match(settledE(oe), /^\/dev\/pts\/\d+\r\ngot there\r\n$/);
  assert.is(settledE(oe), settledE(te));
}));

test.run();
