import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, type BuildImageOptions, type BuildResult } from '../../src/build/index.js';
import { setLogSink } from '../../src/runtime/index.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';

const SIFKUBE = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const SIFKUBE_OCI = new URL('../../../bin/sifkube-oci.js', import.meta.url).pathname;

/** A scratch folder for one test (named for sifkube), with the cache and work folders the builds use. */
export interface BuildDir {
  dir: string;
  cache: string;
  work: string;
  name: string;
  write(name: string, text: string): string;
  build(def: string, out: string, opts?: Partial<BuildImageOptions>): Promise<BuildResult>;
  done(): void;
}

export function buildDir(): BuildDir {
  // The runtime warns of seccomp rules this kernel lacks on every %post: noise here.
  setLogSink((level, message) => level === 'error' && process.stderr.write(`runtime: ${message}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'sifkube-build-test-'));
  const cache = join(dir, 'cache');
  // What the builds make on the host carries this name, so a leak check counts only this test's.
  const name = `t${Math.random().toString(36).slice(2, 10)}`;
  const work = join(dir, 'work');
  mkdirSync(work);
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  return {
    dir,
    cache,
    work,
    write(name, text) {
      const f = join(dir, name);
      writeFileSync(f, text);
      return f;
    },
    name,
    build: (def, out, opts = {}) => buildImage({ definition: join(dir, def), out: join(dir, out), cacheDir: cache, workDir: work, name, ...opts }),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The build's scratch folders are all gone. */
export function workIsEmpty(b: BuildDir): boolean {
  return readdirSync(b.work).length === 0;
}

/** Runs a SIF's OCI entrypoint (/.singularity.d/actions/run) with sifkube's runtime via `oci mount`; returns its output. */
export function runImage(sif: string, dir: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const bundle = join(dir, `bundle-${Math.random().toString(36).slice(2)}`);
  const root = join(dir, 'oci-root');
  const m = spawnSync(process.execPath, [SIFKUBE, 'oci', 'mount', sif, bundle], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`oci mount: ${m.stderr}`);
  try {
    if (args.length > 0) {
      const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
      config.process.args.push(...args);
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    }
    const r = spawnSync(process.execPath, [SIFKUBE_OCI, '--root', root, 'run', '--bundle', bundle, `skb${Math.random().toString(36).slice(2, 10)}`], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    spawnSync(process.execPath, [SIFKUBE, 'oci', 'umount', bundle]);
  }
}

const REPO = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

/**
 * Runs `fn` and returns what it left on the host that is a build's: mounts, cgroups and processes
 * naming this test's builds (`sifkube-build-NAME`) or its folder, and processes run from this checkout (its
 * native helper). Other
 * engineers' clusters and registries on the same host come and go meanwhile and are not counted;
 * scripts/test.mjs still checks the whole host around each file.
 */
export async function leftBehind(b: BuildDir, fn: () => Promise<unknown>): Promise<string[]> {
  const before = hostSnapshot();
  await fn();
  const ours = (x: string) => x.includes(`sifkube-build-${b.name}`) || x.includes(b.dir) || (x.startsWith('process ') && x.split(' ')[2].startsWith(`${REPO}/`));
  return diffSnapshots(before, hostSnapshot()).filter(ours);
}
