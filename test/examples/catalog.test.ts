import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadDefinition } from '../../src/build/index.js';
import type { ClusterState } from '../../src/cluster/index.js';
import { EXAMPLES, exampleBuilds, findExample, imagesDir, renderManifest, UnknownExampleError } from '../../src/examples/index.js';
import { BIN } from '../helpers/sif.js';

// The example catalog against the files in images/: every definition parses, every manifest
// names the images the catalog loads and the Deployments it waits for; the per-cluster rendering.
const stateOf = (name: string, stateDir: string) => ({ plan: { name, names: { stateDir }, nodes: [{ address: '172.30.0.2' }] } }) as unknown as ClusterState;

test('every example: its definitions parse (the base as BASE), its manifest names its images, Deployments and NodePort', () => {
  const work = mkdtempSync(join(tmpdir(), 'sk-ex-'));
  for (const e of EXAMPLES) {
    const builds = exampleBuilds(e);
    assert.is(builds.length, e.images.length + 1);
    for (const b of builds) loadDefinition(b.definition, b.buildArgs);
    const docs = parseAllDocuments(renderManifest(e, stateOf('sifkube', work))).map((d) => d.toJS());
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    assert.equal(deployments.map((d) => d.metadata.name).sort(), [...e.deployments].sort());
    const images = deployments.flatMap((d) => d.spec.template.spec.containers.map((c: { image: string }) => c.image)).sort();
    assert.equal(images, e.images.map((i) => i.tag).sort());
    for (const d of docs) assert.is(d.metadata.labels['sifkube.io/example'], e.name, `${d.kind} ${d.metadata.name} is labelled`);
    const ports = docs.filter((d) => d.kind === 'Service' && d.spec.type === 'NodePort').flatMap((d) => d.spec.ports);
    assert.equal(ports.map((p: { nodePort: number; port: number }) => [p.nodePort, p.port]), [[e.nodePort, 80]]);
  }
  rmSync(work, { recursive: true, force: true });
});

test('the tensorflow manifest: host folders moved to the cluster\'s (real) state folder; --gpu asks for one nvidia.com/gpu', () => {
  const work = mkdtempSync(join(tmpdir(), 'sk-ex-'));
  try {
    symlinkSync(work, join(work, 'link'));
    const tf = findExample('tensorflow');
    const plain = renderManifest(tf, stateOf('t1', join(work, 'link')));
    assert.ok(plain.includes(`path: ${work}/examples/tensorflow/in`), plain);
    assert.not.ok(plain.includes('/var/lib/sifkube/clusters/sifkube'));
    assert.not.ok(plain.includes('nvidia.com/gpu'));
    const gpu = parseAllDocuments(renderManifest(tf, stateOf('t1', work), { gpu: true })).map((d) => d.toJS());
    const dep = gpu.find((d) => d.kind === 'Deployment');
    assert.equal(dep.spec.template.spec.containers[0].resources, { limits: { 'nvidia.com/gpu': 1 } });
    assert.is(gpu.length, 2);
    // --gpu changes nothing for an example with no GPU container.
    const cats = findExample('cats');
    assert.is(renderManifest(cats, stateOf('t1', work), { gpu: true }), renderManifest(cats, stateOf('t1', work)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('an unknown example is an error naming the known ones, from the CLI too', () => {
  assert.throws(() => findExample('dogs'), (e: Error) => e instanceof UnknownExampleError && /no example "dogs": use one of cats, books, tensorflow/.test(e.message));
  const r = spawnSync(process.execPath, [BIN, 'example', 'run', 'dogs'], { encoding: 'utf8' });
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /no example "dogs": use one of cats, books, tensorflow/);
  assert.ok(imagesDir().endsWith('/images/'));
  // A cluster that does not exist: named, before anything is built.
  for (const cmd of ['run', 'delete']) {
    const r2 = spawnSync(process.execPath, [BIN, 'example', cmd, 'cats', '--name', `t-none-${process.pid}`], { encoding: 'utf8' });
    assert.is(r2.status, 82, r2.stderr);
    assert.match(r2.stderr, new RegExp(`no cluster named "t-none-${process.pid}"`));
  }
});

test('example list without a cluster: every example, what it shows, "no cluster"', () => {
  const r = spawnSync(process.execPath, [BIN, 'example', 'list', '--name', `t-none-${process.pid}`, '--json'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { name: string; status: string; summary: string }[];
  assert.equal(rows.map((x) => [x.name, x.status]), [['cats', 'no cluster'], ['books', 'no cluster'], ['tensorflow', 'no cluster']]);
  assert.ok(rows.every((x) => x.summary.length > 20));
  const text = spawnSync(process.execPath, [BIN, 'example', 'list', '--name', `t-none-${process.pid}`], { encoding: 'utf8' });
  assert.match(text.stdout, /no cluster t-none-\d+: `sifkube init --name t-none-\d+` makes one/);
  assert.match(text.stdout, /^tensorflow {2}no cluster$/m);
});

test.run();
