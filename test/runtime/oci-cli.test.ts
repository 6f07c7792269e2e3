import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseSpec, busyboxBundle, oci, uniqueId } from '../helpers/bundle.js';
import { parseFlags } from '../../src/runtime/cli/args.js';
import { validateSpec } from '../../src/runtime/index.js';

test('flags parse as runc\'s: --name value, --name=value, short forms, lists, and stop at the first argument', () => {
  const specs = { bundle: { kind: 'string', short: 'b' }, detach: { kind: 'bool', short: 'd' }, env: { kind: 'list', short: 'e' } } as const;
  const r = parseFlags(['-b', '/x', '--detach', '--env=A=1', '-e', 'B=2', 'ID', '--not-a-flag'], specs, 'run');
  assert.equal(r.flags, { bundle: '/x', detach: true, env: ['A=1', 'B=2'] });
  assert.equal(r.rest, ['ID', '--not-a-flag']);
  assert.throws(() => parseFlags(['--nope'], specs, 'run'), /run: unknown flag --nope/);
  assert.throws(() => parseFlags(['--bundle'], specs, 'run'), /flag --bundle needs a value/);
});

test('validation names the field of every kind of mistake', () => {
  const ok = baseSpec(['true']);
  assert.ok(validateSpec(ok));
  const bad = (edit: (s: ReturnType<typeof baseSpec>) => void, re: RegExp) => {
    const s = baseSpec(['true']);
    edit(s);
    assert.throws(() => validateSpec(s), re);
  };
  bad((s) => delete s.root, /config.json: root: must be an object/);
  bad((s) => (s.process.env = ['NOEQUALS']), /process.env\[0\]: "NOEQUALS" must look like KEY=value/);
  bad((s) => (s.process.user.uid = -1), /process.user.uid: must be an integer/);
  bad((s) => (s.mounts[1].type = undefined), /mounts\[1\].type: a mount that is not a bind needs a filesystem type/);
  bad((s) => (s.hooks = { prestart: [{ path: 'relative' }] }), /hooks.prestart\[0\].path: "relative" must be an absolute path/);
  bad((s) => (s.hooks = { later: [] }), /hooks.later: is not a hook kind/);
  bad((s) => s.linux.namespaces.push({ type: 'nope' }), /linux.namespaces\[5\].type: nope is not a namespace type/);
  bad((s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1, size: 1 }]), /linux.uidMappings: id mappings need a user namespace/);
  bad((s) => (s.linux.sysctl = { 'bad/../x': '1' }), /linux.sysctl.bad\/..\/x: is not a sysctl name/);
  bad((s) => (s.linux.timeOffsets = { boottime: { secs: 1 } }), /linux.timeOffsets: time offsets need a time namespace/);
  bad((s) => (s.mounts[0].options = ['idmap']), /mounts\[0\].options: an idmapped mount \(idmap, ridmap or uidMappings\) must be a bind mount/);
});

test('--log --log-format json gets warnings as JSON lines; --pid-file gets the init pid; usage errors exit 1', () => {
  const spec = baseSpec(['sleep', '30']);
  spec.process.oomScoreAdj = -1000;
  const b = busyboxBundle(spec);
  const id = uniqueId('cli');
  try {
    const log = join(b.dir, 'runtime.log');
    const pidFile = join(b.dir, 'init.pid');
    const r = oci(b, ['--log', log, '--log-format', 'json', 'create', '--bundle', b.dir, '--pid-file', pidFile, '--no-new-keyring', id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '', 'warnings went to the log');
    const line = JSON.parse(readFileSync(log, 'utf8').trim().split('\n')[0]);
    assert.is(line.level, 'warning');
    assert.match(line.msg, /oomScoreAdj -1000/);
    assert.ok(line.time);
    assert.is(Number(readFileSync(pidFile, 'utf8')), JSON.parse(oci(b, ['state', id]).stdout).pid);
    const bad = oci(b, ['--log', log, '--log-format', 'json', 'start', 'no-such-id']);
    assert.is(bad.status, 1);
    assert.match(readFileSync(log, 'utf8'), /"level":"error","msg":"container no-such-id does not exist/);
    const debugLog = join(b.dir, 'debug.log');
    oci(b, ['--debug', '--log', debugLog, 'exec', id, 'true']);
    assert.match(readFileSync(debugLog, 'utf8'), /level=debug msg="helper plan:\\n.*exec \| true \| true/, '--debug logs the plan');
    assert.match(oci(b, ['frobnicate']).stderr, /unknown command frobnicate/);
    assert.match(oci(b, ['kill']).stderr, /kill: kill \[--all\] ID \[SIGNAL\]/);
    assert.match(oci(b, ['--version']).stdout, /^sifkube-oci version \d+\.\d+\.\d+\nspec: 1.2.0\n$/);
    assert.match(oci(b, ['--help']).stdout, /create \[--bundle DIR\]/);
    assert.match(oci(b, ['--systemd-cgroup', 'list']).stderr, /not supported yet: --systemd-cgroup/);
  } finally {
    oci(b, ['delete', '-f', id]);
    assert.not.ok(existsSync(join(b.root, id)));
    b.remove();
  }
});

test.run();
