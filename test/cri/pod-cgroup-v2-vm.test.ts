import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

// The CRI's pod cgroups on pure cgroup v2: test/cri/pod-cgroup.test.ts in the VM of scripts/vm/run.sh,
// with the modules a pod needs (CNI bridge and veth, overlay root filesystems, SIF on loop devices).
const root = new URL('../../../', import.meta.url).pathname;
const kernel = existsSync('/boot') && readdirSync('/boot').some((f) => f.startsWith('vmlinuz-'));
const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).status === 0;
const missing = !kernel ? 'no kernel in /boot (apt-get install -y linux-image-amd64)' : !qemu ? 'qemu-system-x86_64 is missing (apt-get install -y qemu-system-x86)' : undefined;
if (missing) console.log(`pod-cgroup-v2-vm: skipped: ${missing}`);

(missing ? test.skip : test)('a pod container\'s cgroup through the CRI is right on pure cgroup v2', () => {
  const script = 'echo "cgroup mounts: $(grep -E " - cgroup2? " /proc/self/mountinfo | cut -d" " -f5,9 | tr "\\n" " ")"; exec node --enable-source-maps dist/test/cri/pod-cgroup.test.js';
  const t0 = Date.now();
  const r = spawnSync(`${root}scripts/vm/run.sh`, ['--timeout', '300', '--modules', 'bridge veth overlay squashfs loop', '--', 'sh', '-c', script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  // The serial console ends lines with CRLF; uvu colours its summary even when told not to.
  const out = `${r.stdout}${r.stderr}`.replace(/\r/g, '').replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  console.log(`pod-cgroup-v2-vm: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  assert.is(r.status, 0, out);
  assert.match(out, /cgroup mounts: \/sys\/fs\/cgroup cgroup2 \n/, 'only cgroup2 is mounted');
  assert.match(out, /Total:\s+1\s+Passed:\s+1\s+Skipped:\s+0/, out);
});

test.run();
