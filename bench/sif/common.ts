// Timing helpers for the SIF benchmarks: medians of repeated runs, printed as table rows.
import { spawnSync } from 'node:child_process';

export const BIN = new URL('../../../bin/sifkube.js', import.meta.url).pathname;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time (ms) of `runs` runs of fn, after one warm-up run. */
export function time(runs: number, fn: () => void): number {
  fn();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(xs);
}

/** Runs a command, failing loudly if it fails (a benchmark of a failing command means nothing). */
export function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

export function row(what: string, ours: number, peer: number, peerName: string): void {
  console.log(`| ${what} | ${ours.toFixed(2)} ms | ${peerName}: ${peer.toFixed(2)} ms | ${(ours / peer).toFixed(2)}x |`);
}
