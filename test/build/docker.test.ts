// Bootstrap: docker against a real registry on loopback: layers applied, the image's environment and
// entrypoint kept the Singularity way, registry mirrors and credentials from the CRI's registry
// configuration, and the cache keyed by the manifest digest (a re-pushed tag rebuilds).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRegistryConfig } from '../../src/cri/index.js';
import { primaryPartition, readSif } from '../../src/sif/index.js';
import { busyboxRootfs, layerFrom, push, startRegistry, tagImage } from '../helpers/registry.js';
import { buildDir, runImage, workIsEmpty, type BuildDir } from './helpers.js';

function pushBusybox(b: BuildDir, dest: string, greeting: string, creds?: string): void {
  const layout = join(b.dir, `layout-${Math.random().toString(36).slice(2)}`);
  const root = join(b.dir, `root-${Math.random().toString(36).slice(2)}`);
  busyboxRootfs(root);
  const top = join(b.dir, `top-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(top, 'etc'), { recursive: true });
  execFileSync('sh', ['-c', `echo ${greeting} > ${join(top, 'etc', 'greeting')}`]);
  tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [layerFrom(layout, root), layerFrom(layout, top, 'zstd')], config: { Env: ['PATH=/bin', 'GREETING=from the image'], Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo "$GREETING: $(cat /etc/greeting)"'], WorkingDir: '/etc' } }]);
  push(layout, 'v1', dest, { creds });
}

function unpack(sif: string, dir: string): string {
  const out = join(dir, `x-${Math.random().toString(36).slice(2)}`);
  execFileSync('unsquashfs', ['-q', '-n', '-o', String(primaryPartition(readSif(sif))!.offset), '-d', out, sif]);
  return out;
}

test('docker: layers in order, the image environment and entrypoint as Singularity keeps them; %post sees the env', async () => {
  const reg = await startRegistry();
  const b = buildDir();
  try {
    pushBusybox(b, `${reg.host}/test/busybox:v1`, 'layer-two');
    b.write('d.def', `Bootstrap: docker\nFrom: ${reg.host}/test/busybox:v1\n\n%post\n    echo "post saw $GREETING" > /post.txt\n`);
    const r = await b.build('d.def', 'd.sif');
    assert.is(r.cached, false);
    const sif = join(b.dir, 'd.sif');
    const x = unpack(sif, b.dir);
    assert.is(readFileSync(join(x, 'etc/greeting'), 'utf8'), 'layer-two\n');
    assert.is(readFileSync(join(x, 'post.txt'), 'utf8'), 'post saw from the image\n');
    assert.match(readFileSync(join(x, '.singularity.d/env/10-docker2singularity.sh'), 'utf8'), /export GREETING='from the image'/);
    assert.is(runImage(sif, b.dir).stdout, 'from the image: layer-two\n', 'the runscript runs ENTRYPOINT + CMD');
    assert.is(runImage(sif, b.dir, ['echo replaced']).stdout, 'replaced\n', 'arguments replace CMD');
    assert.is((await b.build('d.def', 'd2.sif')).cached, true);
    pushBusybox(b, `${reg.host}/test/busybox:v1`, 'repushed');
    assert.is((await b.build('d.def', 'd3.sif')).cached, false, 'a new manifest behind the tag is a new build');
    assert.is(readFileSync(join(unpack(join(b.dir, 'd3.sif'), b.dir), 'etc/greeting'), 'utf8'), 'repushed\n');
    assert.ok(workIsEmpty(b));
  } finally {
    b.done();
    await reg.stop();
  }
});

test('docker: a mirror and credentials from the registry configuration; a missing image names the endpoints', async () => {
  const reg = await startRegistry({ user: 'builder', password: 's3cret' });
  const b = buildDir();
  try {
    pushBusybox(b, `${reg.host}/team/busybox:v1`, 'mirrored', 'builder:s3cret');
    // registry.example.org does not exist: the image is only reachable through its mirror.
    b.write('m.def', 'Bootstrap: docker\nFrom: registry.example.org/team/busybox:v1\n');
    const registry = parseRegistryConfig({ mirrors: { 'registry.example.org': [`http://${reg.host}`] }, auths: { [reg.host]: { username: 'builder', password: 's3cret' } } }, 'test');
    await b.build('m.def', 'm.sif', { registry });
    assert.is(readFileSync(join(unpack(join(b.dir, 'm.sif'), b.dir), 'etc/greeting'), 'utf8'), 'mirrored\n');
    const noAuth = parseRegistryConfig({ mirrors: { 'registry.example.org': [`http://${reg.host}`] } }, 'test');
    const refused = await b.build('m.def', 'n.sif', { registry: noAuth, noCache: true }).catch((e: Error) => e);
    assert.match(String(refused), /cannot pull the base image/);
    assert.match(String(refused), new RegExp(`http://${reg.host}: .*(credentials|user name and password)`));
    b.write('x.def', `Bootstrap: docker\nFrom: ${reg.host}/team/nothing:v1\n`);
    const missing = await b.build('x.def', 'x.sif', { registry }).catch((e: Error) => e);
    assert.match(String(missing), /team\/nothing has no v1/);
    assert.ok(workIsEmpty(b));
  } finally {
    b.done();
    await reg.stop();
  }
});

test.run();
