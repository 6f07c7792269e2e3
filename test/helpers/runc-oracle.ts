import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
 * Runs `args` in a fresh busybox container under runc (the oracle), with `linux` merged into the
 * default `runc spec` config (for example `{ seccomp: profile }`). Everything it creates (bundle,
 * state folder, cgroup) is removed before it returns.
 */
export function runcRun(args: string[], linux: Record<string, unknown>): Outcome {
  const dir = mkdtempSync(join(tmpdir(), 'sk-runc-'));
  const id = `sifkube-test-${Math.random().toString(36).slice(2, 10)}`;
  try {
    mkdirSync(join(dir, 'bundle/rootfs/bin'), { recursive: true });
    mkdirSync(join(dir, 'state'));
    copyFileSync('/bin/busybox', join(dir, 'bundle/rootfs/bin/busybox'));
    const spec = spawnSync('runc', ['spec', '--bundle', join(dir, 'bundle')], { encoding: 'utf8' });
    if (spec.status !== 0) throw new Error(`runc spec failed: ${spec.stderr}`);
    const configPath = join(dir, 'bundle/config.json');
    const config = JSON.parse(spawnSync('cat', [configPath], { encoding: 'utf8' }).stdout);
    config.process.terminal = false;
    config.process.args = args;
    config.root.readonly = false;
    config.linux = { ...config.linux, cgroupsPath: `/${id}`, ...linux };
    writeFileSync(configPath, JSON.stringify(config));
    const r = spawnSync('runc', ['--root', join(dir, 'state'), 'run', '--bundle', join(dir, 'bundle'), id], { encoding: 'utf8', timeout: 30_000 });
    return outcome(r);
  } finally {
    spawnSync('runc', ['--root', join(dir, 'state'), 'delete', '--force', id], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
  }
}
