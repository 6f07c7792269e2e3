import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectLayout } from '../../src/runtime/cgroups/index.js';
import { createContainer, deleteContainer, runContainer, setLogSink, startContainer } from '../../src/runtime/index.js';
import { baseSpec, busyboxBundle, uniqueId, type Bundle, type SpecJson } from '../helpers/bundle.js';

/*
 * Spec rules where runc 1.1 and sifkube used to differ, checked against the peer that follows the
 * spec: crun where it runs (pure cgroup v2: the VM of cgroups-v2-vm.test.ts runs this file; Debian's
 * crun refuses this hybrid host), runc where it is right, and the spec's own expectations otherwise.
 */
const v2 = detectLayout().mode === 'v2';
const warnings: string[] = [];
setLogSink((level, message) => {
  if (level === 'warning') warnings.push(message);
});

/** Runs the bundle with our runtime in this process (a CLI call costs a Node start: seconds in the VM). */
async function runOurs(b: Bundle): Promise<{ status: number; stdout: string; stderr: string }> {
  const files = [join(b.dir, '.ours-out'), join(b.dir, '.ours-err')];
  const fds = files.map((f) => openSync(f, 'w'));
  try {
    const { exitCode } = await runContainer(uniqueId('sk'), { root: b.root, bundle: b.dir, stdio: ['ignore', fds[0], fds[1]] });
    return { status: exitCode ?? -1, stdout: readFileSync(files[0], 'utf8'), stderr: readFileSync(files[1], 'utf8') };
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
}

/** A peer's foreground run of the bundle, in a private mount namespace (runc mounts into a shared one). */
function runPeer(b: Bundle, peer: 'runc' | 'crun'): { status: number | null; stdout: string; stderr: string } {
  const args = ['--mount', '--propagation', 'private', peer, '--root', join(b.dir, `state-${peer}`), 'run', '--bundle', b.dir, uniqueId(peer.slice(0, 2))];
  return spawnSync('unshare', args, { cwd: b.dir, encoding: 'utf8', timeout: 60_000 });
}

// The root, /proc and /dev mounts' propagation, as mountinfo's optional fields without peer numbers.
const PROPAGATION_SCRIPT = `awk '$5=="/"||$5=="/proc"||$5=="/dev" { o=""; for (i=7; $i!="-"; i++) { sub(/:[0-9]+/, "", $i); o=o" "$i }; printf "%s%s;", $5, o }' /proc/self/mountinfo`;
const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'];
// What the spec asks for: the flag on the container's root ("r" forms on every mount below it too).
// runc 1.1.5 ignores shared and fails unbindable; crun 1.8.1 agrees with all but runbindable (VM).
const EXPECTED: Record<string, string> = {
  private: '/;/proc;/dev;', rprivate: '/;/proc;/dev;', slave: '/;/proc;/dev;', rslave: '/;/proc;/dev;',
  shared: '/ shared;/proc;/dev;', rshared: '/ shared;/proc shared;/dev shared;',
  unbindable: '/ unbindable;/proc;/dev;', runbindable: '/ unbindable;/proc unbindable;/dev unbindable;',
};

test('every linux.rootfsPropagation value works, as crun applies it', async () => {
  // The VM is slow: there, only the values runc gets wrong and crun can run (runc checks the rest).
  for (const value of v2 ? ['shared', 'rshared', 'unbindable'] : PROPAGATIONS) {
    const spec = baseSpec(['sh', '-c', PROPAGATION_SCRIPT]);
    spec.linux.rootfsPropagation = value;
    const b = busyboxBundle(spec);
    try {
      const ours = await runOurs(b);
      assert.is(ours.status, 0, `${value}: ${ours.stderr}`);
      assert.is(ours.stdout, EXPECTED[value], value);
      const peer = runPeer(b, v2 ? 'crun' : 'runc');
      // crun 1.8.1 fails runbindable (it binds /dev/null over masked paths from the unbindable /dev).
      if (v2) assert.is(peer.stdout, ours.stdout, `${value}: crun agrees (${peer.stderr})`);
      else if (!/shared|unbindable/.test(value)) assert.is(peer.stdout, ours.stdout, `${value}: runc agrees`);
    } finally {
      b.remove();
    }
  }
});

test('rootfsPropagation is fixed at create: a config changed before start does not change the container', async () => {
  const spec = baseSpec(['sh', '-c', PROPAGATION_SCRIPT]);
  spec.linux.rootfsPropagation = 'rshared';
  const b = busyboxBundle(spec);
  const id = uniqueId('pr');
  const out = openSync(join(b.dir, '.out'), 'w');
  try {
    const { monitor } = await createContainer(id, { root: b.root, bundle: b.dir, stdio: ['ignore', out, 'ignore'] });
    monitor.ref();
    const exited = new Promise((done) => monitor.once('exit', done));
    b.writeSpec({ ...spec, linux: { ...spec.linux, rootfsPropagation: 'private' } });
    await startContainer(id, { root: b.root });
    await exited;
    assert.is(readFileSync(join(b.dir, '.out'), 'utf8'), EXPECTED.rshared);
  } finally {
    closeSync(out);
    await deleteContainer(id, { root: b.root, force: true }).catch(() => {});
    b.remove();
  }
});

test('hooks get the state of their phase; a failing poststart or poststop hook is a warning and the next ones run', async () => {
  const spec = baseSpec(['true']);
  const b = busyboxBundle(spec);
  try {
    // The log folder is bound into the container at the same path, so every hook (on the host or in
    // the container, before or after pivot_root) writes the same file.
    const logDir = join(b.dir, 'log');
    mkdirSync(logDir);
    const log = join(logDir, 'hooks');
    spec.mounts.push({ destination: logDir, type: 'bind', source: logDir, options: ['rbind', 'rw'] });
    const hook = (kind: string) => ({ path: '/bin/sh', args: ['sh', '-c', `echo "${kind} $(grep -o '"status":"[a-z]*"' | cut -d'"' -f4)" >> ${log}`] });
    const fail = { path: '/bin/sh', args: ['sh', '-c', 'exit 3'] };
    spec.hooks = {
      prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], createContainer: [hook('createContainer')],
      startContainer: [hook('startContainer')], poststart: [fail, hook('poststart')], poststop: [fail, hook('poststop')],
    };
    b.writeSpec(spec);
    warnings.length = 0;
    const ours = await runOurs(b);
    assert.is(ours.status, 0, ours.stderr);
    const lines = readFileSync(log, 'utf8');
    // runtime-spec: prestart, createRuntime and createContainer run after the environment is created
    // ("created"); startContainer before the program runs (still "created").
    assert.is(lines, 'prestart created\ncreateRuntime created\ncreateContainer created\nstartContainer created\npoststart running\npoststop stopped\n');
    assert.equal(warnings.filter((w) => /hook \/bin\/sh failed \(exit 3\)/.test(w)).map((w) => w.split(' ')[0]), ['poststart', 'poststop']);
    if (v2) {
      writeFileSync(log, '');
      const peer = runPeer(b, 'crun');
      assert.is(peer.status, 0, peer.stderr);
      // crun reports "starting" to startContainer hooks, a status the spec does not list.
      assert.is(readFileSync(log, 'utf8'), lines.replace('startContainer created', 'startContainer starting'));
    }
  } finally {
    b.remove();
  }
});

test('without a mount namespace the container shares the runtime\'s: it sees its root filesystem, and the caller\'s mounts are unchanged after', async () => {
  // runc also binds the root filesystem onto itself (in the shared namespace, where it stays): "/"
  // is a mount point there and not here, so the root's own line is left out.
  const spec = baseSpec(['sh', '-c', 'ls /; awk \'$5 != "/" { print $5 }\' /proc/self/mountinfo | sort; readlink /proc/self/root']);
  spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
  spec.mounts = spec.mounts.filter((m: { type: string }) => m.type !== 'cgroup');
  delete spec.linux.maskedPaths;
  delete spec.linux.readonlyPaths;
  spec.root.readonly = false;
  const b = busyboxBundle(spec);
  // Only mounts under the bundle: other engineers' tests mount and unmount on this host meanwhile.
  const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(b.dir));
  try {
    const before = mounts();
    const ours = await runOurs(b);
    assert.is(ours.status, 0, ours.stderr);
    assert.match(ours.stdout, /^bin\ndev\netc\nproc\nsys\ntmp\n\/dev\n\/dev\/mqueue\n\/dev\/pts\n\/dev\/shm\n\/proc\n\/sys\n\/\n$/);
    assert.equal(mounts(), before, 'the caller\'s mount table is the same after delete');
    const peer = runPeer(b, v2 ? 'crun' : 'runc');
    assert.is(peer.stdout, ours.stdout, `${v2 ? 'crun' : 'runc'} agrees: ${peer.stderr}`);
    // What would change the caller's mounts is refused, naming the field.
    for (const [field, edit] of [['linux.maskedPaths', (s: SpecJson) => (s.linux.maskedPaths = ['/proc/kcore'])], ['root.readonly', (s: SpecJson) => (s.root.readonly = true)]] as const) {
      const bad = structuredClone(spec);
      edit(bad);
      b.writeSpec(bad);
      await runOurs(b).then(
        () => assert.unreachable(`${field} without a mount namespace`),
        (err: Error) => assert.match(err.message, `${field}: needs a mount namespace of its own`),
      );
    }
    assert.equal(mounts(), before);
  } finally {
    b.remove();
  }
});

test('linux.resources.devices apply in the configured order: the last matching rule wins', async () => {
  const script = 'echo x > /dev/null && echo null-ok; head -c 1 /dev/zero | wc -c' + (v2 ? '' : '; cat /sys/fs/cgroup/devices/devices.list');
  const spec = baseSpec(['sh', '-c', script]);
  // Devices outside the default list (/dev/fuse, ttys, /dev/kmsg), so that these rules decide.
  spec.linux.resources = {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      { allow: true, type: 'c', major: 1, minor: 11, access: 'r' },
      { allow: true, type: 'c', major: 4, access: 'rw' },
      { allow: false, type: 'c', major: 1, minor: 11, access: 'r' },
    ],
  };
  const b = busyboxBundle(spec);
  try {
    const ours = await runOurs(b);
    const [nul, zero, ...list] = ours.stdout.trim().split('\n');
    assert.equal([nul, zero], ['null-ok', '1'], ours.stderr);
    const peer = runPeer(b, v2 ? 'crun' : 'runc');
    if (v2) {
      assert.is(peer.stdout, ours.stdout, `crun agrees: ${peer.stderr}`);
    } else {
      // v1: the rules in the order written (crun's way; /dev/kmsg's allow undone by the last rule),
      // then the default devices; runc sorts them by device number.
      assert.equal(list.slice(0, 4), ['c 10:229 rw', 'c 4:* rw', 'c *:* m', 'b *:* m']);
      const theirs = peer.stdout.trim().split('\n');
      assert.equal(theirs.slice(0, 2), [nul, zero], 'the same access as under runc');
      assert.equal([...theirs.slice(2)].sort(), [...list].sort(), 'the same rules, in another order');
      assert.not.equal(theirs.slice(2), list);
    }
  } finally {
    b.remove();
  }
});

test.run();
