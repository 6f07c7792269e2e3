// Bootstrap: debootstrap from Debian's mirror (deb.debian.org, reachable here and in CI): one small
// minbase build whose %post resolves and reaches the mirror through the host's network, and whose
// image runs. Needs debootstrap (scripts/install-system-deps.sh); under CI nothing is skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { primaryPartition, readSif } from '../../src/sif/index.js';
import { buildDir, leftBehind, runImage, workIsEmpty } from './helpers.js';

const installed = spawnSync('sh', ['-c', 'command -v debootstrap']).status === 0;

const DEF = `Bootstrap: debootstrap
OSVersion: {{ SUITE }}
MirrorURL: http://deb.debian.org/debian

%post
    getent hosts deb.debian.org > /resolved
    apt-get -q update
    echo "apt lists: $(ls /var/lib/apt/lists | grep -c Packages)" > /post.txt
    apt-get clean
    rm -rf /var/lib/apt/lists/*

%runscript
    echo "debian $(cat /etc/debian_version)"
`;

test('debootstrap minbase: %post uses the network (DNS, apt-get update), the image runs, nothing is left', async () => {
  if (!installed) {
    if (process.env.CI) assert.unreachable('debootstrap is not installed: run scripts/install-system-deps.sh');
    console.log('skipped: debootstrap is not installed (apt-get install -y debootstrap)');
    return;
  }
  const b = buildDir();
  try {
    b.write('debian.def', DEF);
    const leaks = await leftBehind(b, () => b.build('debian.def', 'debian.sif', { buildArgs: { SUITE: 'bookworm' }, noCache: true }));
    assert.equal(leaks, []);
    const sif = join(b.dir, 'debian.sif');
    const x = join(b.dir, 'x');
    execFileSync('unsquashfs', ['-q', '-n', '-o', String(primaryPartition(readSif(sif))!.offset), '-d', x, sif]);
    assert.match(readFileSync(join(x, 'resolved'), 'utf8'), /deb\.debian\.org/);
    assert.match(readFileSync(join(x, 'post.txt'), 'utf8'), /apt lists: [1-9]/);
    assert.match(readFileSync(join(x, 'etc/os-release'), 'utf8'), /bookworm/);
    assert.match(runImage(sif, b.dir).stdout, /^debian 12\.\d+\n$/);
    assert.ok(workIsEmpty(b));
  } finally {
    b.done();
  }
});

test('debootstrap: a suite the mirror lacks fails with debootstrap\'s own words, and nothing is left', async () => {
  if (!installed) return;
  const b = buildDir();
  try {
    b.write('bad.def', DEF);
    let err: unknown;
    const leaks = await leftBehind(b, async () => {
      err = await b.build('bad.def', 'bad.sif', { buildArgs: { SUITE: 'no-such-suite' }, noCache: true }).catch((e: unknown) => e);
    });
    assert.match(String(err), /^BuildStepError: debootstrap --variant=minbase no-such-suite .*: exited with 1/);
    assert.match(String(err), /Release|no-such-suite/);
    assert.equal(leaks, []);
    assert.ok(workIsEmpty(b));
  } finally {
    b.done();
  }
});

test.run();
