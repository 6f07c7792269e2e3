import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseSpec, busyboxBundle, uniqueId } from '../helpers/bundle.js';

const cli = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;

// Each namespace type given the file of another type. Oracle: runc, which joins with the type too
// (crun, which does the same, refuses this hybrid-cgroup host).
const MISMATCH: [type: string, file: string, is: string][] = [
  ['mount', 'net', 'network'], ['network', 'ipc', 'ipc'], ['ipc', 'mnt', 'mount'], ['uts', 'ipc', 'ipc'],
  ['pid', 'net', 'network'], ['user', 'net', 'network'], ['cgroup', 'ipc', 'ipc'], ['time', 'uts', 'uts'],
];

test('a namespace path of the wrong type fails create, names the field, path and types, and leaves the caller\'s root alone', () => {
  const b = busyboxBundle();
  try {
    // One bundle per case, all on the same root filesystem (root.path is absolute).
    const script = MISMATCH.map(([type, file], i) => {
      const spec = baseSpec(['true']);
      spec.root.path = join(b.dir, 'rootfs');
      const others = (spec.linux.namespaces as { type: string }[]).filter((n) => n.type !== type);
      spec.linux.namespaces = [...others, { type, path: `/proc/self/ns/${file}` }];
      const dir = join(b.dir, `case-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
      // The root's device:inode and the mount count before and after both runtimes, in one private
      // mount namespace: a mount namespace left unjoined would pivot this shell's root.
      return [
        'r0=$(stat -c %d:%i /):$(wc -l < /proc/self/mountinfo)',
        `${process.execPath} ${cli} --root ${b.root} run --bundle ${dir} ${uniqueId('ns')} 2>${dir}/ours; o=$?`,
        `runc --root ${b.runcRoot} run --bundle ${dir} ${uniqueId('ns')} >/dev/null 2>&1; t=$?`,
        `echo "${i} $o $t $([ "$r0" = "$(stat -c %d:%i /):$(wc -l < /proc/self/mountinfo)" ] && echo intact || echo CHANGED) $(head -1 ${dir}/ours)"`,
      ].join('\n');
    }).join('\n');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.is(lines.length, MISMATCH.length, r.stdout);
    lines.forEach((line, i) => {
      const [type, file, is] = MISMATCH[i];
      const [, ours, theirs, root, ...msg] = line.split(' ');
      assert.is(root, 'intact', `${type}: ${line}`);
      assert.is(ours, '1', `${type}: ${line}`);
      assert.ok(theirs !== '0', `runc refuses the ${type} case too`);
      // The mismatched namespace is listed last: after baseSpec's other four, or all five.
      const index = ['pid', 'network', 'ipc', 'uts', 'mount'].includes(type) ? 4 : 5;
      assert.match(msg.join(' '), `: linux.namespaces[${index}].path: /proc/self/ns/${file} is a ${is} namespace, not a ${type} namespace: give the path of a ${type} namespace`);
    });
  } finally {
    b.remove();
  }
});

test.run();
