import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseSpec, busyboxBundle, oci, runc, uniqueId, type Bundle } from '../helpers/bundle.js';

const cli = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Both runtimes' commands, for `sh -c` with fds 3 and 4 opened on two files of the bundle. */
function withTwoFds(b: Bundle, args: (root: string) => string[]) {
  writeFileSync(join(b.dir, 'f3'), 'three\n');
  writeFileSync(join(b.dir, 'f4'), 'four\n');
  const sh = (cmd: string[]) => spawnSync('sh', ['-c', `exec 3<f3 4<f4; exec ${cmd.map(q).join(' ')}`], { cwd: b.dir, encoding: 'utf8', timeout: 60_000 });
  return { ours: sh([process.execPath, cli, ...args(b.root)]), theirs: sh(['runc', ...args(b.runcRoot)]) };
}

// Reads both fds, shows where they point, and lists the fds the process has (ls's own directory fd included).
const SHOW = 'cat <&3; cat <&4; readlink /proc/self/fd/3; readlink /proc/self/fd/4; ls /proc/self/fd | tr "\\n" " "';

test('run --preserve-fds 2 hands the caller\'s fds 3 and 4 to the container as 3 and 4, as runc', () => {
  const b = busyboxBundle(baseSpec(['sh', '-c', SHOW]));
  try {
    const { ours, theirs } = withTwoFds(b, (root) => ['--root', root, 'run', '--preserve-fds', '2', '--bundle', b.dir, uniqueId('pf')]);
    assert.is(ours.status, 0, ours.stderr);
    assert.is(ours.stdout, `three\nfour\n${b.dir}/f3\n${b.dir}/f4\n0 1 2 3 4 5 `);
    assert.is(ours.stdout, theirs.stdout);
    assert.is(ours.stderr, theirs.stderr);
  } finally {
    b.remove();
  }
});

test('without --preserve-fds the caller\'s fds stay out of the container, as runc', () => {
  const b = busyboxBundle(baseSpec(['sh', '-c', 'ls /proc/self/fd | tr "\\n" " "']));
  try {
    const { ours, theirs } = withTwoFds(b, (root) => ['--root', root, 'run', '--preserve-fds', '1', '--bundle', b.dir, uniqueId('pf')]);
    assert.is(ours.stdout, '0 1 2 3 4 ');
    assert.is(ours.stdout, theirs.stdout);
    const none = withTwoFds(b, (root) => ['--root', root, 'run', '--bundle', b.dir, uniqueId('pf')]);
    assert.is(none.ours.stdout, '0 1 2 3 ');
    assert.is(none.ours.stdout, none.theirs.stdout);
  } finally {
    b.remove();
  }
});

test('exec --preserve-fds 2 hands the caller\'s fds to the new process, as runc', () => {
  const b = busyboxBundle(baseSpec(['sleep', '60']));
  const id = uniqueId('pf');
  try {
    assert.is(oci(b, ['run', '-d', '--bundle', b.dir, id]).status, 0);
    assert.is(runc(b, ['run', '-d', '--bundle', b.dir, id]).status, 0);
    const { ours, theirs } = withTwoFds(b, (root) => ['--root', root, 'exec', '--preserve-fds', '2', id, 'sh', '-c', SHOW]);
    assert.is(ours.status, 0, ours.stderr);
    assert.is(ours.stdout, `three\nfour\n${b.dir}/f3\n${b.dir}/f4\n0 1 2 3 4 5 `);
    assert.is(ours.stdout, theirs.stdout);
  } finally {
    oci(b, ['delete', '--force', id]);
    runc(b, ['delete', '--force', id]);
    b.remove();
  }
});

test('--preserve-fds naming a closed fd or not a count is refused with the fix, and leaves no container', () => {
  const b = busyboxBundle(baseSpec(['true']));
  try {
    // Node's own fds follow the caller's: fd 300 is one no process here has open.
    const closed = spawnSync('sh', ['-c', `exec 3</dev/null; exec ${q(process.execPath)} ${q(cli)} --root ${q(b.root)} run --preserve-fds 298 --bundle ${q(b.dir)} ${uniqueId('pf')}`], { encoding: 'utf8' });
    assert.is(closed.status, 1, closed.stderr);
    assert.match(closed.stderr, /^sifkube-oci: --preserve-fds 298: fd \d+ is not open: open fds 3..300 before running \(e.g. exec \d+<FILE\) or pass a smaller count\n$/);
    assert.equal(readdirSync(b.root), [], 'no container is left');
    const word = oci(b, ['exec', '--preserve-fds', 'two', 'x', 'true']);
    assert.is(word.status, 1);
    assert.match(word.stderr, /--preserve-fds two: use a count of fds \(0 or more\) after fd 2/);
  } finally {
    b.remove();
  }
});

test.run();
