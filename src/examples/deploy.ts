/**
 * `sifkube example run|delete|list`: the SIFs of an example built (or taken from the build cache),
 * loaded into the cluster's image store, its manifest applied and its rollout awaited; nothing else
 * (DESIGN.md: the example commands only wire build, image load and kubectl apply).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildImageOptions, BuildResult } from '../build/index.js';
import { kubectl, loadImage, type ClusterState } from '../cluster/index.js';
import { BASE_IMAGE, EXAMPLES, type Example } from './catalog.js';
import { ExampleNotReadyError } from './errors.js';
import { exampleFile, sifDir } from './files.js';
import { clusterExampleDir, renderManifest, type ManifestOptions } from './manifests.js';

export type Builder = (opts: BuildImageOptions) => Promise<BuildResult>;

/** The builds an example needs, in order: the base, then its images (From: the base). */
export function exampleBuilds(example: Example): BuildImageOptions[] {
  const dir = sifDir();
  const base = join(dir, `${BASE_IMAGE.name}.sif`);
  // Deterministic: the same base bytes on every rebuild, so the images built on it hit the cache too.
  const common = { force: true, deterministic: true } as const;
  return [
    { ...common, out: base, definition: exampleFile(BASE_IMAGE.definition) },
    ...example.images.map((i) => ({ ...common, out: join(dir, `${i.name}.sif`), definition: exampleFile(i.definition), buildArgs: { BASE: base } })),
  ];
}

/** http://NODE:PORT/PATH on the first node (a NodePort answers on every node; the host reaches them all). */
export function exampleUrl(state: ClusterState, example: Example): string {
  return `http://${state.plan.nodes[0].address}:${example.nodePort}${example.path}`;
}

function withManifest<T>(example: Example, state: ClusterState, opts: ManifestOptions, fn: (file: string) => T): T {
  const tmp = mkdtempSync(join(tmpdir(), `sifkube-example-${example.name}-`));
  try {
    const file = join(tmp, `${example.name}.yaml`);
    writeFileSync(file, renderManifest(example, state, opts));
    return fn(file);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `kubectl rollout status` in slices (one kubectl call may run a minute at most) until `seconds` have passed. */
function waitRollout(state: ClusterState, example: Example, deployment: string, seconds: number): void {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const slice = Math.max(1, Math.min(45, Math.ceil((deadline - Date.now()) / 1000)));
    try {
      kubectl(state, ['rollout', 'status', `deployment/${deployment}`, `--timeout=${slice}s`]);
      return;
    } catch (err) {
      const message = (err as Error).message;
      // Only running out of time is worth another slice; anything else (no such Deployment) is final.
      if (Date.now() >= deadline || !/timed out|ETIMEDOUT/.test(message)) throw new ExampleNotReadyError(example.name, `deployment/${deployment} after ${seconds} s: ${message}`);
    }
  }
}

export interface RunOptions extends ManifestOptions {
  /** builds one image (the command passes the build with progress) */
  build: Builder;
  /** how long the rollout may take */
  timeoutSeconds?: number;
  onStep?: (what: string) => void;
}

export interface RunResult {
  url: string;
  builds: BuildResult[];
}

export async function runExample(state: ClusterState, example: Example, opts: RunOptions): Promise<RunResult> {
  const builds: BuildResult[] = [];
  for (const b of exampleBuilds(example)) builds.push(await opts.build(b));
  for (const [i, img] of example.images.entries()) {
    opts.onStep?.(`image load ${img.tag}`);
    await loadImage(state, builds[i + 1].out, img.tag);
  }
  // The folders a manifest mounts from the cluster's state folder exist before the pods start.
  for (const f of example.hostFolders) mkdirSync(join(clusterExampleDir(state, example.name), f), { recursive: true });
  opts.onStep?.(`kubectl apply -f ${example.manifest}`);
  withManifest(example, state, opts, (file) => kubectl(state, ['apply', '-f', file]));
  for (const d of example.deployments) {
    opts.onStep?.(`rollout of deployment/${d}`);
    waitRollout(state, example, d, opts.timeoutSeconds ?? 300);
  }
  return { url: exampleUrl(state, example), builds };
}

export function deleteExample(state: ClusterState, example: Example): void {
  withManifest(example, state, {}, (file) => kubectl(state, ['delete', '-f', file, '--ignore-not-found', '--wait=true']));
}

export interface ExampleStatus {
  name: string;
  summary: string;
  /** "not running", "ready", or what is not ready yet */
  status: string;
  url?: string;
}

/** Each example with its state on the cluster (undefined: no cluster to ask). */
export function listExamples(state: ClusterState | undefined): ExampleStatus[] {
  const ready = new Map<string, { ready: number; wanted: number }>();
  if (state) {
    const out = kubectl(state, ['get', 'deployments', '-l', 'sifkube.io/example', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.readyReplicas}={.spec.replicas}{"\\n"}{end}']);
    for (const line of out.split('\n').filter(Boolean)) {
      const [name, r, w] = line.split('=');
      ready.set(name, { ready: Number(r || 0), wanted: Number(w || 0) });
    }
  }
  return EXAMPLES.map((e) => {
    if (!state) return { name: e.name, summary: e.summary, status: 'no cluster' };
    const found = e.deployments.map((d) => [d, ready.get(d)] as const);
    if (found.every(([, s]) => s === undefined)) return { name: e.name, summary: e.summary, status: 'not running' };
    const waiting = found.filter(([, s]) => !s || s.ready < s.wanted).map(([d, s]) => `${d} ${s?.ready ?? 0}/${s?.wanted ?? '?'}`);
    return waiting.length === 0 ? { name: e.name, summary: e.summary, status: 'ready', url: exampleUrl(state, e) } : { name: e.name, summary: e.summary, status: `starting: ${waiting.join(', ')}` };
  });
}
