import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A config.json as plain JSON: tests change any field, valid or not. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SpecJson = Record<string, any>;

/** A config.json like `runc spec` writes (runtime-spec 1.0.2), for a busybox shell. */
export function baseSpec(args: string[]): SpecJson {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'sktest',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export interface Bundle {
  dir: string;
  /** A fresh state root for sifkube-oci and one for runc, inside dir. */
  root: string;
  runcRoot: string;
  writeSpec(spec: SpecJson): void;
  remove(): void;
}

/** A temporary OCI bundle whose rootfs is busybox-static and its applet links. */
export function busyboxBundle(spec: SpecJson = baseSpec(['true'])): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'skrt-'));
  chmodSync(dir, 0o755); // a user namespace's root (a host uid without rights) must reach the rootfs
  const bin = join(dir, 'rootfs', 'bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync('/bin/busybox', join(bin, 'busybox'));
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(bin, a));
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(dir, 'rootfs', d));
  writeFileSync(join(dir, 'rootfs', 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(dir, 'rootfs', 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  const b: Bundle = {
    dir,
    root: join(dir, 'state-sifkube'),
    runcRoot: join(dir, 'state-runc'),
    writeSpec: (s) => writeFileSync(join(dir, 'config.json'), JSON.stringify(s, null, 2)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  b.writeSpec(spec);
  return b;
}

export const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

const cli = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;

/** Runs sifkube-oci with the bundle's state root. */
export function oci(b: Bundle, args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, '--root', b.root, ...args], { encoding: 'utf8', cwd: b.dir, input, timeout: 60_000 });
}

/** Runs runc with its own state root, for the same bundle. */
export function runc(b: Bundle, args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync('runc', ['--root', b.runcRoot, ...args], { encoding: 'utf8', cwd: b.dir, input, timeout: 60_000 });
}

/** `run` of the bundle on both runtimes: their stdout, stderr and exit status. */
export function runBoth(b: Bundle): { ours: SpawnSyncReturns<string>; theirs: SpawnSyncReturns<string> } {
  const ours = oci(b, ['run', '--bundle', b.dir, uniqueId('sk')]);
  const theirs = runc(b, ['run', '--bundle', b.dir, uniqueId('rc')]);
  return { ours, theirs };
}
