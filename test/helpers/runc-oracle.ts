import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The outcome of a process, comparable between sifkube and a peer runtime. */
export interface Outcome {
  /** The exit status, or 128 + signal number when a signal ended it (as runc reports it). */
  status: number;
  stdout: string;
  stderr: string;
}

const SIGNALS: Record<string, number> = { SIGSYS: 31, SIGKILL: 9, SIGSEGV: 11, SIGABRT: 6, SIGTERM: 15 };

export function outcome(r: { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }): Outcome {
  const status = r.status ?? 128 + (SIGNALS[r.signal ?? ''] ?? 0);
  return { status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/**
 * Builds a busybox bundle from `runc spec` with `args` and `linux` merged in (cgroupsPath
 * /sifkube-test-<random>), calls `fn` with the runc command prefix, container id and bundle folder,
 * then deletes the container and every file (bundle, state folder; runc removes its cgroup).
 */
function withBundle<T>(args: string[], linux: Record<string, unknown>, fn: (runc: string[], id: string, bundle: string, cgroupsPath: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'sk-runc-'));
  const id = `sifkube-test-${Math.random().toString(36).slice(2, 10)}`;
  const runc = ['--root', join(dir, 'state')];
  try {
    mkdirSync(join(dir, 'bundle/rootfs/bin'), { recursive: true });
    mkdirSync(join(dir, 'state'));
    copyFileSync('/bin/busybox', join(dir, 'bundle/rootfs/bin/busybox'));
    const spec = spawnSync('runc', ['spec', '--bundle', join(dir, 'bundle')], { encoding: 'utf8' });
    if (spec.status !== 0) throw new Error(`runc spec failed: ${spec.stderr}`);
    const configPath = join(dir, 'bundle/config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    config.process.terminal = false;
    config.process.args = args;
    config.root.readonly = false;
    config.linux = { ...config.linux, cgroupsPath: `/${id}`, ...linux };
    writeFileSync(configPath, JSON.stringify(config));
    return fn(runc, id, join(dir, 'bundle'), `/${id}`);
  } finally {
    spawnSync('runc', [...runc, 'delete', '--force', id], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `args` in a fresh busybox container under runc (the oracle), with `linux` merged into the
 * default `runc spec` config (for example `{ seccomp: profile }`).
 */
export function runcRun(args: string[], linux: Record<string, unknown>): Outcome {
  return withBundle(args, linux, (runc, id, bundle) => outcome(spawnSync('runc', [...runc, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 })));
}

/**
 * Creates (does not start) a runc container with `linux` (for example `{ resources }`), so runc has
 * set up its cgroup, and calls `inspect` with the container's cgroupsPath before deleting it.
 */
export function runcCreated<T>(linux: Record<string, unknown>, inspect: (cgroupsPath: string) => T): T {
  return withBundle(['/bin/busybox', 'true'], linux, (runc, id, bundle, cgroupsPath) => {
    // runc's init keeps the container's stdio open while it waits: give it a file, not our pipes.
    const errFile = join(bundle, 'create.err');
    const err = openSync(errFile, 'w');
    const r = spawnSync('runc', [...runc, 'create', '--bundle', bundle, id], { stdio: ['ignore', err, err], timeout: 30_000 });
    closeSync(err);
    if (r.status !== 0) throw new Error(`runc create failed: ${readFileSync(errFile, 'utf8')}`);
    return inspect(cgroupsPath);
  });
}
