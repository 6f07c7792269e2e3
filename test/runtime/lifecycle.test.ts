import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { baseSpec, busyboxBundle, oci, runc, uniqueId, type Bundle } from '../helpers/bundle.js';
import * as rt from '../../src/runtime/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withBundle(args: string[], fn: (b: Bundle) => Promise<void> | void, edit: (s: ReturnType<typeof baseSpec>) => void = () => {}) {
  return async () => {
    const spec = baseSpec(args);
    edit(spec);
    const b = busyboxBundle(spec);
    try {
      await fn(b);
    } finally {
      for (const id of rt.listContainers({ root: b.root }).map((c) => c.id)) await rt.deleteContainer(id, { root: b.root, force: true });
      for (const id of runc(b, ['list', '-q']).stdout.split('\n').filter(Boolean)) runc(b, ['delete', '--force', id]);
      b.remove();
    }
  };
}

const stateOf = (r: ReturnType<typeof oci>) => JSON.parse(r.stdout) as Record<string, unknown>;

test('create, start, state, kill, delete walk the same statuses and state keys as runc', withBundle(['sleep', '30'], async (b) => {
  const seen: Record<string, string[]> = { ours: [], runc: [] };
  const keys: Record<string, string[]> = {};
  for (const [who, cmd] of [['ours', oci], ['runc', runc]] as const) {
    const id = uniqueId('lc');
    const step = (args: string[]) => {
      const r = cmd(b, args);
      assert.is(r.status, 0, `${who} ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    step(['create', '--bundle', b.dir, id]);
    const created = stateOf(step(['state', id]));
    keys[who] = Object.keys(created).sort();
    assert.ok((created.pid as number) > 0);
    // As after runc create, nothing of the runtime stays as the init's parent: the caller's
    // subreaper (a shim) or pid 1 adopts it and will see its exit.
    const stat = readFileSync(`/proc/${created.pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    assert.not.match(readFileSync(`/proc/${ppid}/cmdline`, 'utf8'), /sifkube|runc/, `${who}: init's parent`);
    seen[who].push(created.status as string);
    step(['start', id]);
    seen[who].push(stateOf(step(['state', id])).status as string);
    step(['kill', id, 'KILL']);
    await sleep(200);
    const stopped = stateOf(step(['state', id]));
    seen[who].push(stopped.status as string);
    assert.is(stopped.pid, 0);
    step(['delete', id]);
    const gone = cmd(b, ['state', id]);
    assert.is(gone.status, 1);
    assert.match(gone.stderr, /does not exist/);
  }
  assert.equal(seen.ours, ['created', 'running', 'stopped']);
  assert.equal(seen.ours, seen.runc);
  assert.equal(keys.ours, keys.runc);
}));

test('the library records the exit code and the killing signal', withBundle(['sh', '-c', 'exit 7'], async (b) => {
  const root = b.root;
  await rt.createContainer('exit7', { root, bundle: b.dir });
  await rt.startContainer('exit7', { root });
  for (let i = 0; i < 200 && rt.containerState('exit7', { root }).status !== 'stopped'; i++) await sleep(10);
  assert.is(rt.containerState('exit7', { root }).exit?.exitCode, 7);
  await rt.deleteContainer('exit7', { root });
  assert.not.ok(existsSync(join(root, 'exit7')));

  // A shell as pid 1 ignores TERM unless it traps it; sleep as pid 1 dies only of KILL.
  b.writeSpec(baseSpec(['sleep', '30']));
  await rt.createContainer('kill9', { root, bundle: b.dir });
  await rt.startContainer('kill9', { root });
  rt.killContainer('kill9', rt.parseSignal('KILL'), { root });
  for (let i = 0; i < 200 && rt.containerState('kill9', { root }).status !== 'stopped'; i++) await sleep(10);
  const st = rt.containerState('kill9', { root });
  assert.is(st.exit?.signal, 9);
  assert.is(st.exit?.exitCode, 137);
}));

test('while create runs, its container is "creating" to any reader, never "stopped" (a reader took it for exited and killed its init)', withBundle(['sleep', '30'], async (b) => {
  const root = b.root;
  const seen = new Set<string>();
  for (let i = 0; i < 10; i++) {
    const id = `creating${i}`;
    let done = false;
    const watch = (async () => {
      while (!done) {
        try {
          seen.add(rt.containerState(id, { root }).status);
        } catch {
          // not recorded yet
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await rt.createContainer(id, { root, bundle: b.dir }).finally(() => (done = true));
    await watch;
    assert.is(rt.containerState(id, { root }).status, 'created');
  }
  assert.ok(seen.has('creating'), [...seen].join(', '));
  assert.not.ok(seen.has('stopped'), [...seen].join(', '));
}));

test('wrong-status operations fail with runc-like messages and exit 1', withBundle(['sleep', '30'], (b) => {
  const id = uniqueId('st');
  assert.is(oci(b, ['run', '-d', '--bundle', b.dir, id]).status, 0);
  const start = oci(b, ['start', id]);
  assert.is(start.status, 1);
  assert.match(start.stderr, new RegExp(`container ${id} is running: only a created container can be started`));
  const del = oci(b, ['delete', id]);
  assert.is(del.status, 1);
  assert.match(del.stderr, /is running: stop it first, or delete it with --force/);
  assert.is(oci(b, ['state', id]).status, 0, 'still there');
  assert.is(oci(b, ['delete', '--force', id]).status, 0);

  const id2 = uniqueId('st');
  b.writeSpec(baseSpec(['true']));
  assert.is(oci(b, ['run', '-d', '--bundle', b.dir, id2]).status, 0);
  for (let i = 0; i < 100 && stateOf(oci(b, ['state', id2])).status !== 'stopped'; i++) execSleep(10);
  const kill = oci(b, ['kill', id2, 'TERM']);
  assert.is(kill.status, 1);
  assert.match(kill.stderr, /is stopped: only a created, running or paused container can be signalled/);
  const dup = oci(b, ['create', '--bundle', b.dir, id2]);
  assert.match(dup.stderr, /already exists/);
  assert.is(oci(b, ['delete', id2]).status, 0);
  assert.match(oci(b, ['kill', id2, 'NOPE']).stderr, /does not exist|unknown signal/);
  assert.match(oci(b, ['state', '../x']).stderr, /invalid container ID/);
}));

function execSleep(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('bad bundles are refused before anything is made: the message names the field', withBundle(['true'], (b) => {
  const cases: [(s: ReturnType<typeof baseSpec>) => void, RegExp][] = [
    [(s) => (s.process.args = []), /config.json: process.args: must name at least the program to run/],
    [(s) => (s.ociVersion = '2.0.0'), /ociVersion: 2.0.0 is not a runtime-spec version/],
    [(s) => (s.root.path = 'nowhere'), /root.path: .*nowhere is not a directory/],
    [(s) => (s.process.capabilities.bounding = ['CAP_NOPE']), /process.capabilities.bounding\[0\]: CAP_NOPE is not a Linux capability/],
    [(s) => (s.mounts[0].destination = 'proc'), /mounts\[0\].destination: "proc" must be an absolute path/],
    [(s) => s.linux.namespaces.push({ type: 'pid' }), /linux.namespaces\[5\].type: namespace pid is listed twice/],
    [(s) => (s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }]), /process.rlimits\[0\]: soft limit 10 is above hard limit 5/],
    [(s) => (s.process.apparmorProfile = 'x'), /not supported yet: process.apparmorProfile x: this host has no AppArmor/],
    [(s) => (s.process.args = ['no-such-program']), /exec: "no-such-program": executable file not found in \$PATH/],
    [(s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_NOPE' }), /linux.seccomp: defaultAction/],
    [(s) => (s.linux.resources = { memory: { limit: 'lots' } }), /linux.resources.memory.limit/],
  ];
  for (const [edit, re] of cases) {
    const spec = baseSpec(['true']);
    edit(spec);
    b.writeSpec(spec);
    const id = uniqueId('bad');
    const r = oci(b, ['create', '--bundle', b.dir, id]);
    assert.is(r.status, 1, `${re}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.is(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.not.ok(existsSync(join(b.root, id)), 'nothing left in the state root');
  }
  const r = oci(b, ['create', '--bundle', '/nonexistent-bundle', uniqueId('bad')]);
  assert.match(r.stderr, /\/nonexistent-bundle\/config.json: \(file\): cannot be read \(ENOENT\); is \/nonexistent-bundle an OCI bundle\?/);
}));

test('a runtime killed in the middle of create leaves a container that delete --force removes entirely', withBundle(['sleep', '30'], async (b) => {
  const id = uniqueId('half');
  const cli = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, '--root', b.root, 'create', '--bundle', b.dir, id], { stdio: 'ignore' });
  const stateFile = join(b.root, id, 'state.json');
  for (let i = 0; i < 500 && !(existsSync(stateFile) && JSON.parse(readFileSync(stateFile, 'utf8')).initPid); i++) await sleep(10);
  const rec = JSON.parse(readFileSync(stateFile, 'utf8'));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(['creating', 'stopped'].includes(stateOf(oci(b, ['state', id])).status as string));
  const del = oci(b, ['delete', '--force', id]);
  assert.is(del.status, 0, del.stderr);
  assert.not.ok(existsSync(join(b.root, id)));
  const gone = (pid: number) => !existsSync(`/proc/${pid}/stat`) || /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  assert.ok(gone(rec.initPid), 'the init is gone');
  assert.ok(gone(rec.monitorPid), 'the monitor is gone');
  await sleep(2000); // the orphaned createRuntime hook (sleep 2) ends by itself
}, (s) => {
  s.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '2'] }] };
}));

test('list and ps print runc\'s formats; kill --all reaches every process', withBundle(['sh', '-c', 'sleep 30 & sleep 30 & wait'], async (b) => {
  const id = uniqueId('ls');
  const rid = uniqueId('ls');
  assert.is(oci(b, ['run', '-d', '--bundle', b.dir, id]).status, 0);
  assert.is(runc(b, ['run', '-d', '--bundle', b.dir, rid]).status, 0);
  const ours = JSON.parse(oci(b, ['list', '--format', 'json']).stdout);
  const theirs = JSON.parse(runc(b, ['list', '--format', 'json']).stdout);
  assert.equal(Object.keys(ours[0]).sort(), Object.keys(theirs[0]).sort());
  assert.is(ours[0].status, 'running');
  const table = oci(b, ['list']).stdout.split('\n');
  const theirTable = runc(b, ['list']).stdout.split('\n');
  assert.is(table[0].split(/\s+/).join(' '), theirTable[0].split(/\s+/).join(' '));
  assert.match(table[1], new RegExp(`^${id}\\s+\\d+\\s+running\\s+${b.dir}\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+root$`));
  assert.is(ours[0].owner, theirs[0].owner);
  assert.is(oci(b, ['list', '-q']).stdout, `${id}\n`);
  await sleep(100);
  const pids = JSON.parse(oci(b, ['ps', '--format', 'json', id]).stdout) as number[];
  assert.is(pids.length, 3);
  assert.is(pids.length, (JSON.parse(runc(b, ['ps', '--format', 'json', rid]).stdout) as number[]).length);
  assert.match(oci(b, ['ps', id]).stdout, /^UID\s+PID\s+PPID/);
  assert.is(oci(b, ['kill', '--all', id, 'KILL']).status, 0);
  await sleep(200);
  for (const pid of pids) assert.not.ok(existsSync(`/proc/${pid}/stat`) && !/\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), `pid ${pid} is gone`);
  assert.is(stateOf(oci(b, ['state', id])).status, 'stopped');
  assert.is(oci(b, ['list', '--root', b.root]).status, 1, 'flags after the command are its own');
  assert.is(readdirSync(b.root).length, 1);
}));

test('run in the foreground forwards signals to the container and exits with its status', withBundle(['sh', '-c', 'trap "exit 5" TERM; echo ready; while :; do sleep 0.05; done'], async (b) => {
  const cli = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;
  const id = uniqueId('fg');
  const child = spawn(process.execPath, [cli, '--root', b.root, 'run', '--bundle', b.dir, id], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  for (let i = 0; i < 500 && !out.includes('ready'); i++) await sleep(10);
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('exit', r));
  assert.is(code, 5);
  assert.not.ok(existsSync(join(b.root, id)), 'run deletes the container after it exits');
}));

test('a second container joins the first one\'s pid, ipc, uts and network namespaces by path, as under runc', withBundle(['sleep', '60'], async (b) => {
  const results: string[] = [];
  for (const cmd of [oci, runc]) {
    b.writeSpec(baseSpec(['sleep', '60']));
    const first = uniqueId('ns');
    assert.is(cmd(b, ['run', '-d', '--bundle', b.dir, first]).status, 0);
    const pid = JSON.parse(cmd(b, ['state', first]).stdout).pid as number;
    const spec = baseSpec(['sh', '-c', 'hostname; ps -o comm | grep -c "^sleep"; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc']);
    spec.linux.namespaces = spec.linux.namespaces.map((n: { type: string }) =>
      ['pid', 'ipc', 'uts', 'network'].includes(n.type) ? { type: n.type, path: `/proc/${pid}/ns/${n.type === 'network' ? 'net' : n.type}` } : n);
    delete spec.hostname;
    b.writeSpec(spec);
    const r = cmd(b, ['run', '--bundle', b.dir, uniqueId('ns')]);
    assert.is(r.status, 0, r.stderr);
    const [host, procs, net, ipc] = r.stdout.trim().split('\n');
    assert.is(host, 'sktest');
    assert.is(net, readlinkSync(`/proc/${pid}/ns/net`));
    assert.is(ipc, readlinkSync(`/proc/${pid}/ns/ipc`));
    results.push(`${host} ${procs}`);
    assert.is(cmd(b, ['delete', '-f', first]).status, 0);
  }
  assert.is(results[0], 'sktest 1', "the first container's sleep is visible");
  assert.is(results[0], results[1]);
}));

test('features prints a runtime-spec features document', () => {
  const r = oci(busyboxStub(), ['features']);
  const f = JSON.parse(r.stdout);
  assert.is(f.ociVersionMax, '1.2.0');
  assert.ok(f.linux.namespaces.includes('time'));
  assert.ok(f.hooks.includes('createContainer'));
  assert.not.ok(f.linux.capabilities.includes('CAP_SYS_RESOURCE'), 'the runtime lacks it here');
});

function busyboxStub(): Bundle {
  return { dir: '/', root: '/nonexistent-root', runcRoot: '', writeSpec: () => {}, remove: () => {} };
}

test.run();
