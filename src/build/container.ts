/**
 * Runs a build script inside a root filesystem folder with sifkube's own runtime, as root: its own
 * mount, PID, UTS and IPC namespaces, but the host's network and the host's resolv.conf and hosts
 * (so package managers reach their mirrors), Docker's default capabilities less the network ones,
 * and the runtime's default seccomp profile. Output goes to a log file, followed live.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { killContainer, runContainer, runtimeDefaultSeccomp } from '../runtime/index.js';

/** Docker's default set without NET_RAW and NET_BIND_SERVICE: a build shares the host's network. */
const CAPABILITIES = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

export interface ScriptRun {
  /** Container id, unique on the host. */
  id: string;
  rootfs: string;
  args: string[];
  env: string[];
  /** %test runs on the finished root filesystem, read-only. */
  readonly?: boolean;
  /** Folder for the bundle and the runtime's state. */
  work: string;
  /** Where the output goes. */
  log: string;
  /** Called with the last output line while it runs. */
  onOutput?: (line: string) => void;
  /** Kills the container (the script runs as PID 1 of its namespace, which ignores SIGINT and SIGTERM). */
  signal?: AbortSignal;
}

const bindFile = (source: string, destination: string) => ({ destination, type: 'bind', source: realpathSync(source), options: ['rbind', 'ro', 'nosuid', 'nodev'] });

function buildSpec(run: ScriptRun): Record<string, unknown> {
  const hostFiles = ['/etc/resolv.conf', '/etc/hosts'].filter((f) => existsSync(f) && statSync(f).isFile());
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: run.args,
      env: run.env,
      cwd: '/',
      capabilities: { bounding: CAPABILITIES, effective: CAPABILITIES, permitted: CAPABILITIES },
      noNewPrivileges: false,
    },
    root: { path: run.rootfs, readonly: run.readonly ?? false },
    hostname: 'sifkube-build',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      ...hostFiles.map((f) => bindFile(f, f)),
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }],
      cgroupsPath: `/sifkube-build-${run.id}`,
      seccomp: runtimeDefaultSeccomp(CAPABILITIES),
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** The last non-empty line of a file, for live progress. */
function lastLine(file: string): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(Math.max(0, text.length - 4096)).trimEnd().split('\n').pop() ?? '';
  } catch {
    return '';
  }
}

/** Runs the script to its end and resolves with its exit code; the container is always deleted. */
export async function runScript(run: ScriptRun): Promise<number> {
  const bundle = join(run.work, `bundle-${run.id}`);
  const root = join(run.work, 'runtime');
  mkdirSync(bundle, { recursive: true });
  mkdirSync(root, { recursive: true, mode: 0o700 });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(buildSpec(run)));
  const fd = openSync(run.log, 'a');
  const timer = run.onOutput ? setInterval(() => run.onOutput!(lastLine(run.log)), 250) : undefined;
  const kill = () => {
    try {
      killContainer(run.id, constants.signals.SIGKILL, { root });
    } catch {
      // not created yet, or gone already
    }
  };
  run.signal?.addEventListener('abort', kill);
  try {
    const { exitCode } = await runContainer(run.id, { root, bundle, stdio: ['ignore', fd, fd] });
    return exitCode ?? 255;
  } finally {
    if (timer) clearInterval(timer);
    run.signal?.removeEventListener('abort', kill);
    closeSync(fd);
    rmSync(bundle, { recursive: true, force: true });
  }
}
