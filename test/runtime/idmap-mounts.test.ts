import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseSpec, busyboxBundle, oci, runc, uniqueId, type SpecJson } from '../helpers/bundle.js';
import * as rt from '../../src/runtime/index.js';
import { createPlan } from '../../src/runtime/plan.js';

/*
 * Idmapped mounts (runtime-spec 1.1 mounts[].uidMappings/gidMappings, options idmap and ridmap),
 * checked from inside the container (stat) and from the host (who owns what it wrote). No peer is an
 * oracle: runc 1.1.5 silently ignores the mappings and the options (the first test shows it), and
 * Debian's crun 1.8 refuses to run at all on this hybrid-cgroup host. The expected ids follow runc
 * 1.2's tests/integration/idmap.bats: a mapping containerID -> hostID shows a file the disk says is
 * owned by containerID as owned by hostID.
 */

const OVERFLOW_UID = readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();

/** A host folder (its name says sifkube, so the leak check sees a mount left on it) with f owned 1000:1000. */
function hostSource(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sifkube-idmap-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'f'), 'x');
  chownSync(join(dir, 'f'), 1000, 1000);
  chownSync(dir, 1000, 1000);
  return dir;
}

const ownerOnHost = (path: string): string => `${statSync(path).uid}:${statSync(path).gid}`;

/** Runs the script in a busybox container with the edits; returns its stdout (and asserts success). */
function run(script: string, edit: (s: SpecJson) => void): string {
  const spec = baseSpec(['sh', '-c', script]);
  edit(spec);
  const b = busyboxBundle(spec);
  // Mount points exist in the image: a user namespace's root may not make them in a host-owned root.
  for (const d of ['mapped', 'plain']) mkdirSync(join(b.dir, 'rootfs', d));
  try {
    const r = oci(b, ['run', '--bundle', b.dir, uniqueId('im')]);
    assert.is(r.status, 0, r.stderr);
    return r.stdout;
  } finally {
    b.remove();
  }
}

const map = (containerID: number, hostID: number, size: number) => [{ containerID, hostID, size }];

test('no container user namespace: the mount\'s own mappings show owner 1000 as 2000, and writes land as 1000 on the host', () => {
  const src = hostSource();
  try {
    const edit = (s: SpecJson) => {
      s.process.user = { uid: 2000, gid: 3000 };
      s.mounts.push({ destination: '/mapped', type: 'bind', source: src, options: ['bind'], uidMappings: map(1000, 2000, 10), gidMappings: map(1000, 3000, 10) });
      s.mounts.push({ destination: '/plain', type: 'bind', source: src, options: ['bind', 'ro'] });
    };
    const out = run('stat -c "%u:%g %n" /mapped/f /plain/f; touch /mapped/new && stat -c "%u:%g %n" /mapped/new', edit);
    assert.is(out, '2000:3000 /mapped/f\n1000:1000 /plain/f\n2000:3000 /mapped/new\n');
    assert.is(ownerOnHost(join(src, 'new')), '1000:1000', 'the write went to disk with the unmapped ids');
    rmSync(join(src, 'new'));
    // runc 1.1.5 is no oracle: it ignores the mappings and shows the disk's owner.
    const spec = baseSpec(['stat', '-c', '%u', '/mapped/f']);
    edit(spec);
    spec.process.user = { uid: 0, gid: 0 };
    const b = busyboxBundle(spec);
    try {
      assert.is(runc(b, ['run', '--bundle', b.dir, uniqueId('rc')]).stdout, '1000\n');
    } finally {
      b.remove();
    }
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test('a container user namespace: "idmap" without mappings takes the container\'s, so the disk\'s 1000 is 1000 inside', () => {
  const src = hostSource();
  try {
    const out = run('id -u; stat -c "%u:%g %n" /mapped/f /plain/f; touch /mapped/new && stat -c "%u:%g %n" /mapped/new', (s) => {
      s.process.user = { uid: 1000, gid: 1000 };
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = map(0, 200000, 65536);
      s.linux.gidMappings = map(0, 200000, 65536);
      s.mounts = s.mounts.filter((m: SpecJson) => m.type !== 'cgroup');
      s.mounts.push({ destination: '/mapped', type: 'bind', source: src, options: ['rbind', 'idmap'] });
      s.mounts.push({ destination: '/plain', type: 'bind', source: src, options: ['bind'] });
    });
    // Without the idmapping, host uid 1000 is outside the namespace's range: the overflow uid.
    assert.is(out, `1000\n1000:1000 /mapped/f\n${OVERFLOW_UID}:${OVERFLOW_UID} /plain/f\n1000:1000 /mapped/new\n`);
    assert.is(ownerOnHost(join(src, 'new')), '1000:1000');
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test('ridmap maps the submounts of an rbind too; idmap maps only its top', () => {
  const src = hostSource();
  const other = hostSource();
  mkdirSync(join(src, 'sub'));
  execFileSync('mount', ['--bind', other, join(src, 'sub')]);
  try {
    const outFor = (option: string) => run('stat -c "%u %n" /mapped/f /mapped/sub/f', (s) => {
      s.mounts.push({ destination: '/mapped', type: 'bind', source: src, options: ['rbind', option], uidMappings: map(1000, 2000, 10), gidMappings: map(1000, 2000, 10) });
    });
    assert.is(outFor('ridmap'), '2000 /mapped/f\n2000 /mapped/sub/f\n');
    assert.is(outFor('idmap'), '2000 /mapped/f\n1000 /mapped/sub/f\n');
  } finally {
    execFileSync('umount', [join(src, 'sub')]);
    rmSync(src, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  }
});

test('a filesystem that refuses idmapping (sysfs) fails create with the mount and the reason, leaving nothing', () => {
  const spec = baseSpec(['true']);
  spec.mounts.push({ destination: '/mm', type: 'bind', source: '/sys/kernel/mm', options: ['bind', 'idmap'], uidMappings: map(0, 100000, 10), gidMappings: map(0, 100000, 10) });
  const b = busyboxBundle(spec);
  const id = uniqueId('im');
  try {
    const r = oci(b, ['run', '--bundle', b.dir, id]);
    assert.is(r.status, 1);
    assert.is(r.stderr, `sifkube-oci: container ${id}: mounts[7] (/mm): the filesystem of /sys/kernel/mm refuses idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP); use a source on one that allows them (ext4, xfs, btrfs, tmpfs...): Invalid argument\n`);
    assert.not.ok(existsSync(join(b.root, id)), 'no state left');
  } finally {
    b.remove();
  }
});

test('invalid idmapped mounts are refused naming the field', () => {
  const bad = (edit: (s: SpecJson) => void, re: RegExp) => {
    const s = baseSpec(['true']);
    edit(s);
    assert.throws(() => rt.validateSpec(s), re);
  };
  const bind = { destination: '/m', type: 'bind', source: '/tmp', options: ['bind'] };
  bad((s) => s.mounts.push({ ...bind, options: ['idmap'], type: 'tmpfs' }), /mounts\[7\].options: an idmapped mount \(idmap, ridmap or uidMappings\) must be a bind mount: add "bind" or "rbind"/);
  bad((s) => s.mounts.push({ destination: '/m', type: 'tmpfs', source: 'tmpfs', uidMappings: map(0, 1, 1), gidMappings: map(0, 1, 1) }), /mounts\[7\].options: an idmapped mount .* must be a bind mount/);
  bad((s) => s.mounts.push({ ...bind, options: ['bind', 'ridmap'] }), /mounts\[7\].uidMappings: an idmapped mount needs uidMappings and gidMappings, or a user namespace in linux.namespaces/);
  bad((s) => s.mounts.push({ ...bind, uidMappings: map(0, 1, 1) }), /mounts\[7\].gidMappings: uidMappings and gidMappings of a mount go together: give both/);
  bad((s) => s.mounts.push({ ...bind, uidMappings: map(0, 1, 0), gidMappings: map(0, 1, 1) }), /mounts\[7\].uidMappings\[0\].size: must be an integer from 1 to/);
  bad((s) => s.mounts.push({ ...bind, uidMappings: [{ containerID: 0, size: 1 }], gidMappings: map(0, 1, 1) }), /mounts\[7\].uidMappings\[0\].hostID: must be an integer/);
  const ok = baseSpec(['true']);
  ok.mounts.push({ ...bind, uidMappings: map(0, 1, 1), gidMappings: map(0, 1, 1) });
  ok.linux.namespaces.push({ type: 'user' });
  ok.linux.uidMappings = map(0, 1000, 1);
  ok.linux.gidMappings = map(0, 1000, 1);
  ok.mounts.push({ ...bind, options: ['rbind', 'ridmap'] });
  assert.ok(rt.validateSpec(ok));
  // Through the CLI: the one-line error, and no container state left behind.
  const spec = baseSpec(['true']);
  spec.mounts.push({ ...bind, options: ['bind', 'idmap'] });
  const b = busyboxBundle(spec);
  try {
    const r = oci(b, ['run', '--bundle', b.dir, 'imbad']);
    assert.is(r.status, 1);
    assert.match(r.stderr, /^sifkube-oci: .*config.json: mounts\[7\].uidMappings: an idmapped mount needs .*\(fix the bundle's config.json\)\n$/);
    assert.not.ok(existsSync(join(b.root, 'imbad')));
  } finally {
    b.remove();
  }
});

test('the plan: a mount without mappings takes a new user namespace\'s mappings, or the joined one by path', () => {
  const idmountOf = (edit: (s: SpecJson) => void): string[] => {
    const spec = baseSpec(['true']);
    spec.mounts.push({ destination: '/m', type: 'bind', source: '/tmp', options: ['bind', 'idmap'] });
    edit(spec);
    const plan = createPlan({ spec: rt.validateSpec(spec), bundle: '/b', rootfs: '/b/rootfs', stateDir: '/s', cgroupsPath: '/x', cgroupDirs: { v1: [] } });
    const clone = plan.findIndex((l) => l[0] === 'clone');
    const at = plan.findIndex((l) => l[0] === 'idmount');
    assert.ok(at >= 0 && at < clone, 'made by the monitor, before clone');
    assert.ok(plan.slice(clone).some((l) => l[0] === 'movemount' && l[1] === '0' && l[2] === '/b/rootfs/m'), 'moved in by the init');
    return plan[at];
  };
  assert.equal(idmountOf((s) => {
    s.linux.namespaces.push({ type: 'user' });
    s.linux.uidMappings = [...map(0, 100000, 1000), ...map(1000, 5000, 1)];
    s.linux.gidMappings = map(0, 100000, 1000);
  }), ['idmount', '0', 'mounts[7] (/m)', '/tmp', '0', '0', '0 100000 1000\n1000 5000 1\n', '0 100000 1000\n']);
  assert.equal(idmountOf((s) => s.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' })), ['idmount', '0', 'mounts[7] (/m)', '/tmp', '0', '0', '/proc/1/ns/user']);
});

test('features reports idmapped mounts and their options', () => {
  const f = rt.features() as { mountOptions: string[]; linux: { mountExtensions: { idmap: { enabled: boolean } } } };
  assert.ok(f.mountOptions.includes('idmap') && f.mountOptions.includes('ridmap'));
  assert.is(f.linux.mountExtensions.idmap.enabled, true);
});

test.run();
