import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeVersionError } from '../errors.js';
import { cacheRoot } from './release.js';

function argsFor(path: string): string[] {
  return path.endsWith('/kubectl') || path === 'kubectl' ? ['version', '--client'] : ['--version'];
}

function parse(path: string, out: { error?: Error | null; status: number | null; stdout: string; stderr: string }): string {
  const args = argsFor(path);
  if (out.error || out.status !== 0) {
    throw new KubeVersionError(`${path} ${args.join(' ')} failed (${out.error?.message ?? (out.stderr.trim().split('\n')[0] || `exit ${out.status}`)}): is it a Kubernetes binary for this machine?`);
  }
  const m = /\bv(\d+\.\d+\.\d+)/.exec(out.stdout);
  if (!m) throw new KubeVersionError(`${path} ${args.join(' ')} printed no version (${JSON.stringify(out.stdout.trim().slice(0, 80))}): is it a Kubernetes binary?`);
  return `v${m[1]}`;
}

/** The release a Kubernetes binary reports: `kubelet --version` prints `Kubernetes v1.31.4`. */
export function binaryVersion(path: string): string {
  const r = spawnSync(path, argsFor(path), { encoding: 'utf8', timeout: 20_000 });
  return parse(path, r);
}

/** Versions already read, by the binary's identity: each file is run once, not at every init. */
const memoFile = () => join(cacheRoot(), 'versions.json');

function identity(path: string): string {
  const st = statSync(path);
  return `${realpathSync(path)}:${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** binaryVersion of several binaries, run in parallel, remembered by file identity in the cache. */
export async function binaryVersions(paths: string[]): Promise<string[]> {
  let memo: Record<string, string> = {};
  try {
    memo = JSON.parse(readFileSync(memoFile(), 'utf8')) as Record<string, string>;
  } catch {
    // no memo yet, or a damaged one: run the binaries
  }
  const keys = paths.map(identity);
  const versions = await Promise.all(
    paths.map((p, i) =>
      memo[keys[i]] !== undefined
        ? memo[keys[i]]
        : new Promise<string>((resolve, reject) =>
            execFile(p, argsFor(p), { encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) => {
              try {
                resolve(parse(p, { error, status: error ? ((error as { code?: unknown }).code as number | null) : 0, stdout, stderr }));
              } catch (err) {
                reject(err);
              }
            }),
          ),
    ),
  );
  keys.forEach((k, i) => (memo[k] = versions[i]));
  try {
    mkdirSync(cacheRoot(), { recursive: true });
    writeFileSync(`${memoFile()}.tmp`, JSON.stringify(memo));
    renameSync(`${memoFile()}.tmp`, memoFile());
  } catch {
    // a read-only cache only costs the next run the same checks
  }
  return versions;
}

/** Minor version number of `vMAJOR.MINOR.PATCH`, for version-specific flags. */
export function minorOf(version: string): number {
  return Number(version.split('.')[1]);
}
