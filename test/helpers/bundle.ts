import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

/**
 * Runs a command with stdout and stderr in files, not pipes: a detached container inherits them and
 * would hold pipes open (as with runc, whose `create` hands its stdio to the container).
 */
function capture(b: Bundle, file: string, args: string[], input?: string): SpawnSyncReturns<string> {
  const out = join(b.dir, `.out-${randomBytes(4).toString('hex')}`);
  const err = `${out}.err`;
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  try {
    const r = spawnSync(file, args, { encoding: 'utf8', cwd: b.dir, input, stdio: ['pipe', fds[0], fds[1]], timeout: 60_000 });
    return { ...r, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    fds.forEach((fd) => closeSync(fd));
    rmSync(out, { force: true });
    rmSync(err, { force: true });
  }
}

/** Runs sifkube-oci with the bundle's state root. */
export function oci(b: Bundle, args: string[], input?: string): SpawnSyncReturns<string> {
  return capture(b, process.execPath, [cli, '--root', b.root, ...args], input);
}

/** Runs runc with its own state root, for the same bundle. */
export function runc(b: Bundle, args: string[], input?: string): SpawnSyncReturns<string> {
  return capture(b, 'runc', ['--root', b.runcRoot, ...args], input);
}

/**
 * Foreground `run` of the bundle on both runtimes: their stdout, stderr and exit status. Pipes are
 * fine here (nothing outlives the command), and runc in a user namespace needs them: it cannot
 * reopen a regular file or /dev/null there.
 */
export function runBoth(b: Bundle): { ours: SpawnSyncReturns<string>; theirs: SpawnSyncReturns<string> } {
  const opts = { encoding: 'utf8' as const, cwd: b.dir, timeout: 60_000 };
  const ours = spawnSync(process.execPath, [cli, '--root', b.root, 'run', '--bundle', b.dir, uniqueId('sk')], opts);
  const theirs = spawnSync('runc', ['--root', b.runcRoot, 'run', '--bundle', b.dir, uniqueId('rc')], opts);
  return { ours, theirs };
}
