// sifkube build with the scratch and localimage agents: every section, the Singularity layout, the
// image running with sifkube's runtime, multi-stage %files from, %post and %test failures (shown,
// and nothing left behind), --notest, the cache, --deterministic, --sign.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildInputError, BuildStepError } from '../../src/build/index.js';
import { DataType, loadKeys, newKey, primaryPartition, readImageConfig, readObject, readSif, verifySif } from '../../src/sif/index.js';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { run } from '../helpers/run.js';
import { buildDir, leftBehind, runImage, workIsEmpty } from './helpers.js';

const SIFKUBE = new URL('../../../bin/sifkube.js', import.meta.url).pathname;

const SCRATCH = `Bootstrap: scratch

%files
    busybox /bin/busybox
    busybox /bin/sh

%post
    /bin/busybox --install -s /bin
    echo hello > /greeting
    echo "export FROM_POST=yes" >> $SINGULARITY_ENVIRONMENT
    echo "built.by post" >> $SINGULARITY_LABELS
    test -s /etc/resolv.conf

%environment
    export GREETING="hi {{ WHO }}"

%runscript
    echo "$GREETING $(cat /greeting) $FROM_POST args:$*"

%startscript
    exec sleep 1000

%labels
    maintainer me

%help
    A tiny image.

%test
    test "$(cat /greeting)" = hello
`;

function unpack(sif: string, dir: string): string {
  const out = join(dir, `x-${Math.random().toString(36).slice(2)}`);
  execFileSync('unsquashfs', ['-q', '-n', '-o', String(primaryPartition(readSif(sif))!.offset), '-d', out, sif]);
  return out;
}

test('scratch + %files + %post + every metadata section: Singularity layout, and the image runs', async () => {
  const b = buildDir();
  try {
    b.write('tiny.def', SCRATCH);
    const r = await b.build('tiny.def', 'tiny.sif', { buildArgs: { WHO: 'you' } });
    assert.is(r.cached, false);
    const sif = join(b.dir, 'tiny.sif');
    const image = readSif(sif);
    assert.equal(image.descriptors.map((d) => d.dataType), [DataType.DefFile, DataType.Labels, DataType.EnvVars, DataType.GenericJSON, DataType.Partition]);
    assert.match(readObject(image, 1).toString(), /export GREETING="hi you"/, 'the definition is stored with its arguments');
    assert.is(readImageConfig(sif)?.entrypoint?.[0], '/.singularity.d/actions/run');
    const x = unpack(sif, b.dir);
    const sd = join(x, '.singularity.d');
    for (const f of ['runscript', 'startscript', 'test', 'env/90-environment.sh', 'env/91-environment.sh', 'labels.json', 'Singularity', 'runscript.help', 'actions/run']) assert.ok(existsSync(join(sd, f)), f);
    assert.is(readFileSync(join(sd, 'runscript.help'), 'utf8'), '    A tiny image.\n');
    assert.match(readFileSync(join(sd, 'startscript'), 'utf8'), /exec sleep 1000/);
    const labels = JSON.parse(readFileSync(join(sd, 'labels.json'), 'utf8'));
    assert.is(labels.maintainer, 'me');
    assert.is(labels['built.by'], 'post');
    assert.is(labels['org.label-schema.usage.singularity.deffile.bootstrap'], 'scratch');
    assert.not.ok(existsSync(join(sd, 'labels.post')), 'the %post labels file is consumed');
    const run = runImage(sif, b.dir, ['a', 'b']);
    assert.is(run.stdout, 'hi you hello yes args:a b\n', run.stderr);
    assert.ok(workIsEmpty(b));
  } finally {
    b.done();
  }
});

test('localimage: a built SIF as the base keeps its files, runscript and labels; %post adds to it', async () => {
  const b = buildDir();
  try {
    b.write('tiny.def', SCRATCH);
    await b.build('tiny.def', 'base.sif', { buildArgs: { WHO: 'base' }, noCache: true });
    b.write('child.def', 'Bootstrap: localimage\nFrom: base.sif\n\n%post\n    echo child >> /greeting\n\n%labels\n    layer child\n');
    await b.build('child.def', 'child.sif', { noCache: true });
    const sif = join(b.dir, 'child.sif');
    const x = unpack(sif, b.dir);
    assert.is(readFileSync(join(x, 'greeting'), 'utf8'), 'hello\nchild\n');
    const labels = JSON.parse(readFileSync(join(x, '.singularity.d/labels.json'), 'utf8'));
    assert.is(labels.maintainer, 'me', 'labels of the base are kept');
    assert.is(labels.layer, 'child');
    assert.is(runImage(sif, b.dir).stdout, 'hi base hello\nchild yes args:\n');
    b.write('missing.def', 'Bootstrap: localimage\nFrom: nowhere.sif\n');
    const err = await b.build('missing.def', 'm.sif', { noCache: true }).catch((e: Error) => e);
    assert.match(String(err), /missing\.def:2: From: .*nowhere\.sif does not exist/);
  } finally {
    b.done();
  }
});

test('multi-stage: %files from an earlier stage; only the last stage is the image', async () => {
  const b = buildDir();
  try {
    b.write('two.def', `Bootstrap: scratch\nStage: build\n\n%files\n    busybox /bin/sh\n\n%post\n    echo compiled > /artifact\n    echo junk > /junk\n\n${SCRATCH.replace('%files\n', '%files from build\n    /artifact /opt/artifact\n\n%files\n')}`);
    await b.build('two.def', 'two.sif', { buildArgs: { WHO: 'x' }, noCache: true });
    const x = unpack(join(b.dir, 'two.sif'), b.dir);
    assert.is(readFileSync(join(x, 'opt/artifact'), 'utf8'), 'compiled\n');
    assert.not.ok(existsSync(join(x, 'junk')));
  } finally {
    b.done();
  }
});

test('%files never writes through or reads through a link the image holds', async () => {
  const b = buildDir();
  try {
    const victim = b.write('victim.txt', 'host file\n');
    const secret = b.write('secret.txt', 'host secret\n');
    b.write('data.txt', 'image data\n');
    // Links as a hostile base image could hold them: absolute, to host paths.
    b.write('links.def', `Bootstrap: scratch\nStage: base\n%setup\n    ln -s ${secret} $SINGULARITY_ROOTFS/leak\n\nBootstrap: scratch\n%setup\n    ln -s ${victim} $SINGULARITY_ROOTFS/target\n%files\n    data.txt /target\n%files from base\n    /leak /leak\n`);
    await b.build('links.def', 'links.sif', { noCache: true, noTest: true });
    assert.is(readFileSync(victim, 'utf8'), 'host file\n', 'the host file behind the link is untouched');
    const x = unpack(join(b.dir, 'links.sif'), b.dir);
    assert.is(readFileSync(join(x, 'target'), 'utf8'), 'image data\n');
    assert.ok(lstatSync(join(x, 'leak')).isSymbolicLink(), 'a link from a stage stays a link');
  } finally {
    b.done();
  }
});

test('a failing %post names the command, shows its output, and leaves nothing behind', async () => {
  const b = buildDir();
  try {
    b.write('fail.def', 'Bootstrap: scratch\n%files\n    busybox /bin/sh\n    busybox /bin/busybox\n%post\n    /bin/busybox echo step one\n    /bin/busybox ls /no/such/dir\n    /bin/busybox echo never\n');
    let err: unknown;
    const leaks = await leftBehind(b, async () => {
      err = await b.build('fail.def', 'fail.sif').catch((e: unknown) => e);
    });
    assert.instance(err, BuildStepError);
    const e = err as BuildStepError;
    assert.match(e.message, /^%post \(line 5\): exited with 1 at "\/bin\/busybox ls \/no\/such\/dir"/);
    assert.match(e.output, /step one/);
    assert.match(e.output, /No such file or directory/);
    assert.not.match(e.output, /never/);
    assert.equal(leaks, []);
    assert.ok(workIsEmpty(b), 'the scratch folder is removed');
    assert.not.ok(existsSync(join(b.dir, 'fail.sif')));
  } finally {
    b.done();
  }
});

test('a failing %test fails the build; --notest skips it', async () => {
  const b = buildDir();
  try {
    b.write('t.def', 'Bootstrap: scratch\n%files\n    busybox /bin/sh\n    busybox /bin/busybox\n%test\n    /bin/busybox echo testing\n    /bin/busybox false\n');
    const err = await b.build('t.def', 't.sif').catch((e: unknown) => e);
    assert.instance(err, BuildStepError);
    assert.match((err as Error).message, /^%test \(line 5\): exited with 1 at "\/bin\/busybox false"/);
    assert.match((err as BuildStepError).output, /testing/);
    assert.not.ok(existsSync(join(b.dir, 't.sif')));
    await b.build('t.def', 't.sif', { noTest: true });
    b.write('nosh.def', 'Bootstrap: scratch\n%post\n    true\n');
    const nosh = await b.build('nosh.def', 'nosh.sif').catch((e: unknown) => e);
    assert.match(String(nosh), /%post \(line 2\): cannot run it in the image: .*: the image needs \/bin\/sh/);
    assert.ok(existsSync(join(b.dir, 't.sif')));
    assert.ok(workIsEmpty(b));
  } finally {
    b.done();
  }
});

test('cache: an unchanged rebuild comes from the cache; a changed %files source or argument rebuilds', async () => {
  const b = buildDir();
  try {
    b.write('tiny.def', SCRATCH.replace('busybox /bin/sh', 'busybox /bin/sh\n    data.txt /data.txt'));
    b.write('data.txt', 'one\n');
    const first = await b.build('tiny.def', 'a.sif', { buildArgs: { WHO: 'c' } });
    assert.is(first.cached, false);
    const again = await b.build('tiny.def', 'b.sif', { buildArgs: { WHO: 'c' } });
    assert.is(again.cached, true);
    assert.ok(again.ms < 2000, `${again.ms} ms`);
    assert.ok(readFileSync(join(b.dir, 'a.sif')).equals(readFileSync(join(b.dir, 'b.sif'))));
    const err = await b.build('tiny.def', 'b.sif', { buildArgs: { WHO: 'c' } }).catch((e: unknown) => e);
    assert.instance(err, BuildInputError);
    assert.match((err as Error).message, /exists already: pass --force/);
    assert.is((await b.build('tiny.def', 'c.sif', { buildArgs: { WHO: 'other' } })).cached, false);
    writeFileSync(join(b.dir, 'data.txt'), 'two\n');
    assert.is((await b.build('tiny.def', 'b.sif', { buildArgs: { WHO: 'c' }, force: true })).cached, false);
    assert.is((await b.build('tiny.def', 'b.sif', { buildArgs: { WHO: 'c' }, force: true, noCache: true })).cached, false);
  } finally {
    b.done();
  }
});

test('--deterministic: two builds of the same inputs give the same bytes', async () => {
  const b = buildDir();
  try {
    b.write('tiny.def', SCRATCH);
    await b.build('tiny.def', 'a.sif', { buildArgs: { WHO: 'd' }, deterministic: true, noCache: true });
    await b.build('tiny.def', 'b.sif', { buildArgs: { WHO: 'd' }, deterministic: true, noCache: true });
    assert.ok(readFileSync(join(b.dir, 'a.sif')).equals(readFileSync(join(b.dir, 'b.sif'))), 'same bytes');
    await b.build('tiny.def', 'c.sif', { buildArgs: { WHO: 'd' }, noCache: true });
    assert.not.ok(readFileSync(join(b.dir, 'a.sif')).equals(readFileSync(join(b.dir, 'c.sif'))), 'a plain build is dated');
  } finally {
    b.done();
  }
});

test('--sign: the built image verifies with the public key; a bad key fails before building', async () => {
  const b = buildDir();
  try {
    b.write('tiny.def', SCRATCH);
    const k = await newKey({ type: 'ed25519', dir: join(b.dir, 'keys') });
    const r = await b.build('tiny.def', 's.sif', { buildArgs: { WHO: 's' }, sign: [k.privateFile] });
    assert.is(r.signatures.length, 1);
    const report = await verifySif(join(b.dir, 's.sif'), await loadKeys([k.publicFile]));
    assert.ok(report.ok);
    const cliVerify = await run(process.execPath, [SIFKUBE, 'sif', 'verify', join(b.dir, 's.sif'), '--key', k.publicFile]);
    assert.is(cliVerify.status, 0, cliVerify.stdout + cliVerify.stderr);
    const cached = await b.build('tiny.def', 's2.sif', { buildArgs: { WHO: 's' }, sign: [k.privateFile] });
    assert.is(cached.cached, true);
    assert.ok((await verifySif(join(b.dir, 's2.sif'), await loadKeys([k.publicFile]))).ok, 'a cached image is signed too');
    const bad = await b.build('tiny.def', 'x.sif', { buildArgs: { WHO: 's' }, sign: [join(b.dir, 'nokey.pem')] }).catch((e: Error) => e);
    assert.match(String(bad), /nokey\.pem/);
    assert.not.ok(existsSync(join(b.dir, 'x.sif')));
  } finally {
    b.done();
  }
});

test('the command: progress per step, a cache hit said so, a bad definition names its line (exit 100), globs in %files', async () => {
  const b = buildDir();
  try {
    b.write('tiny.def', SCRATCH.replace('busybox /bin/sh', 'busybox /bin/sh\n    bus*x /opt/globbed/'));
    const args = (out: string) => ['build', '--cache-dir', b.cache, '--build-arg', 'WHO=cli', join(b.dir, out), join(b.dir, 'tiny.def')];
    const first = await run(process.execPath, [SIFKUBE, ...args('a.sif')], { timeoutMs: 120_000 });
    assert.is(first.status, 0, first.stderr);
    for (const title of ['Look up the build cache', 'Bootstrap scratch', '%files', '%post', '%test', 'Write the SIF (squashfs, lz4)']) assert.ok(first.stdout.includes(title), `${title} in ${first.stdout}`);
    assert.match(first.stdout, /a\.sif: built in [\d.]+ s/);
    assert.ok(existsSync(join(unpack(join(b.dir, 'a.sif'), b.dir), 'opt/globbed/busybox')), 'bus*x matched busybox');
    const second = await run(process.execPath, [SIFKUBE, ...args('b.sif')], { timeoutMs: 60_000 });
    assert.is(second.status, 0, second.stderr);
    assert.match(second.stdout, /image taken from the cache/);
    assert.match(second.stdout, /b\.sif: from the build cache in/);
    b.write('bad.def', 'Bootstrap: scratch\n\n%post\n    true\n%postt\n');
    const bad = await run(process.execPath, [SIFKUBE, 'build', join(b.dir, 'c.sif'), join(b.dir, 'bad.def')]);
    assert.is(bad.status, 100);
    assert.is(bad.stderr, `sifkube: ${join(b.dir, 'bad.def')}:5: %postt is not a section: use one of %arguments %setup %files %post %environment %runscript %startscript %labels %help %test\n`);
    assert.not.ok(existsSync(join(b.dir, 'c.sif')));
  } finally {
    b.done();
  }
});

test('Ctrl-C during %post stops the build at once and removes everything it made', async () => {
  const b = buildDir();
  try {
    b.write('slow.def', 'Bootstrap: scratch\n%files\n    busybox /bin/sh\n    busybox /bin/busybox\n%post\n    /bin/busybox echo started\n    /bin/busybox sleep 60\n');
    const t0 = Date.now();
    const leaks = await leftBehind(b, async () => {
      const child = spawn(process.execPath, [SIFKUBE, 'build', '--tmpdir', b.work, '--no-cache', join(b.dir, 'slow.sif'), join(b.dir, 'slow.def')]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      // The container runs once its output reaches the build's log.
      const log = () => readdirSync(b.work).flatMap((w) => readdirSync(join(b.work, w)).filter((f) => f.startsWith('post-')).map((f) => readFileSync(join(b.work, w, f), 'utf8')));
      while (!log().some((l) => l.includes('sleep 60'))) await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.once('close', r));
      assert.is(code, 102, out);
      assert.match(out, /%post \(line 5\): interrupted/);
    });
    assert.ok(Date.now() - t0 < 30_000, 'it did not wait for the sleep');
    assert.equal(leaks, []);
    assert.ok(workIsEmpty(b));
    assert.not.ok(existsSync(join(b.dir, 'slow.sif')));
  } finally {
    b.done();
  }
});

test.run();
