import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;

interface Report {
  ok: boolean;
  checks: { name: string; status: string; detail: string; fix?: string }[];
}

function doctor(env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [bin, 'doctor', '--json'], { encoding: 'utf8', env });
  return { status: r.status, report: JSON.parse(r.stdout) as Report };
}

test('doctor reports every requirement on this host and passes', () => {
  const { status, report } = doctor();
  const names = report.checks.map((c) => c.name);
  for (const n of ['root', 'net namespace', 'overlay filesystem', 'squashfs filesystem', 'bridge and veth links', 'cgroups', 'mksquashfs', 'CNI plugin bridge']) {
    assert.ok(names.includes(n), `row ${n}`);
  }
  const missing = report.checks.filter((c) => c.status === 'missing');
  assert.equal(missing, [], 'the test host has everything');
  assert.equal(status, 0);
  assert.ok(report.ok);
});

test('doctor names a missing program with its package and exits 1', () => {
  // Without PATH only the sbin folders are searched: mksquashfs (in /usr/bin) is then missing.
  const { status, report } = doctor({ ...process.env, PATH: '/nonexistent' });
  const row = report.checks.find((c) => c.name === 'mksquashfs');
  assert.is(row?.status, 'missing');
  assert.match(row?.fix ?? '', /apt-get install -y squashfs-tools/);
  assert.is(status, 1);
  assert.is(report.ok, false);
});

test('doctor text output has one row per check', () => {
  const r = spawnSync(process.execPath, [bin, 'doctor'], { encoding: 'utf8' });
  assert.is(r.status, 0);
  assert.match(r.stdout, /^ok {3}root/m);
  assert.match(r.stdout, /everything sifkube init needs is here/);
});

test.run();
