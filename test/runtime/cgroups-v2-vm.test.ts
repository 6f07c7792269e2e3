import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

// This host may be hybrid or v1; most users run pure cgroup v2. scripts/vm/run.sh boots a throwaway
// QEMU VM whose root is this host's filesystem (read-only) and whose only cgroup mount is cgroup2,
// and runs the same cgroups test file there.
const root = new URL('../../../', import.meta.url).pathname;
const runVm = `${root}scripts/vm/run.sh`;
const kernel = existsSync('/boot') && readdirSync('/boot').some((f) => f.startsWith('vmlinuz-'));
const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).status === 0;
const missing = !kernel ? 'no kernel in /boot (apt-get install -y linux-image-amd64)' : !qemu ? 'qemu-system-x86_64 is missing (apt-get install -y qemu-system-x86)' : undefined;
if (missing) console.log(`cgroups-v2-vm: skipped: ${missing}`);

const vmJobs = () => new Set(readdirSync('/tmp').filter((f) => f.startsWith('sk-vm-')));
const qemus = () =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return spawnSync('cat', [`/proc/${d}/cmdline`], { encoding: 'utf8' }).stdout.includes('qemu-system') && spawnSync('cat', [`/proc/${d}/cmdline`], { encoding: 'utf8' }).stdout.includes('sifkube.job=');
      } catch {
        return false;
      }
    });

/** Each test file's uvu summary, in the order they ran: [total, passed, skipped]. */
function summaries(out: string): [number, number, number][] {
  return [...out.matchAll(/Total:\s+(\d+)\s+Passed:\s+(\d+)\s+Skipped:\s+(\d+)/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
}

// The cgroup module's tests, then the runtime's own integration (real containers, compared with runc
// and crun) in the same boot: the VM costs seconds to boot and every Node start is slow under emulation.
// spec-conformance compares rules runc 1.1 gets wrong with crun, which only runs on pure v2.
const FILES = ['dist/test/runtime/cgroups.test.js', 'dist/test/runtime/cgroups-seccomp-integration.test.js', 'dist/test/runtime/spec-conformance.test.js'];

(missing ? test.skip : test)('the cgroups tests and the runtime\'s cgroup integration pass in a pure cgroup v2 VM, and the VM leaves nothing behind', () => {
  const jobsBefore = vmJobs();
  const qemusBefore = new Set(qemus());
  const script = [
    'echo "cgroup mounts: $(grep -E " - cgroup2? " /proc/self/mountinfo | cut -d" " -f5,9 | tr "\\n" " ")"',
    'echo "v2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"',
    'rc=0',
    ...FILES.map((f) => `node --enable-source-maps ${f} || rc=1`),
    'exit $rc',
  ].join('; ');
  const t0 = Date.now();
  const r = spawnSync(runVm, ['--timeout', '400', '--', 'sh', '-c', script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  // The serial console ends lines with CRLF; uvu colours its summary even when told not to.
  const out = `${r.stdout}${r.stderr}`.replace(/\r/g, '').replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  console.log(`cgroups-v2-vm: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  assert.is(r.status, 0, out);
  assert.match(out, /cgroup mounts: \/sys\/fs\/cgroup cgroup2 \n/, 'only cgroup2 is mounted');
  for (const c of ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids']) assert.match(out, new RegExp(`v2 controllers: .*\\b${c}\\b`));
  const sums = summaries(out);
  assert.is(sums.length, FILES.length, out);
  const [[total], [integration], [conformance]] = sums;
  assert.ok(total >= 16 && integration >= 8 && conformance >= 5, out);
  for (const [t, passed, skipped] of sums) {
    assert.is(passed, t, out);
    assert.is(skipped, 0, out);
  }
  assert.equal([...vmJobs()].filter((j) => !jobsBefore.has(j)), [], 'the job folder is removed');
  assert.equal(qemus().filter((p) => !qemusBefore.has(p)), [], 'QEMU has exited');
});

test('run.sh refuses to run without a command', () => {
  const r = spawnSync(runVm, [], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /usage: scripts\/vm\/run.sh \[--timeout SECONDS\] \[--modules "MODULE..."\] -- COMMAND/);
});

test.run();
