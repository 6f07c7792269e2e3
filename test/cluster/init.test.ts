import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { clusterLeftovers, clusterNames } from '../../src/cluster/index.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';

const tag = randomBytes(3).toString('hex');
const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const sifkube = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, SIFKUBE_KUBE_RELEASE_URL: 'http://127.0.0.1:9/release' } });

test('init without the Kubernetes binaries fails naming the binary and the fixes, before touching the host', () => {
  // Not under /tmp: init refuses a folder the nodes cannot see before looking into it (below).
  const empty = mkdtempSync('/var/tmp/sk-init-bins-');
  try {
    for (const extra of [[], ['--kube-bin-dir', empty]]) {
      const name = `t-init-${tag}`;
      const before = hostSnapshot();
      const r = sifkube('init', '--name', name, '--nodes', '2', ...extra);
      assert.is(r.status, 85, r.stderr);
      const line = r.stderr.trim().split('\n').pop()!;
      assert.match(line, /^sifkube: kube-apiserver \((v[0-9.]+|any release)\) not found in /);
      assert.match(line, /--kube-bin-dir/);
      assert.match(line, /sifkube kube import/);
      if (extra.length === 0) assert.match(line, /sifkube kube fetch/);
      else assert.ok(line.includes(empty), line);
      assert.not.ok(existsSync(clusterNames(name).stateDir));
      assert.equal(clusterLeftovers(name), []);
      assert.equal(diffSnapshots(before, hostSnapshot()).filter((l) => l.includes(tag) || l.includes(clusterNames(name).id)), []);
    }
    const hidden = sifkube('init', '--name', `t-init-${tag}`, '--kube-bin-dir', '/tmp');
    assert.is(hidden.status, 80, hidden.stderr);
    assert.match(hidden.stderr, /--kube-bin-dir: folder: \/tmp lies under \/tmp, which every node mounts its own of: move the binaries elsewhere/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('init refuses bad flags with one line naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--wait', 'soon'], /--wait "soon" is not a duration/],
    [['--port', '80'], /--port "80" is not HOST:NODEPORT/],
    [['--nodes', '0'], /--nodes: nodes: 0 is out of range: use 1 to 50 nodes/],
    [['--config', `/nonexistent-${tag}.yaml`], /--config \/nonexistent-.*: pass a readable cluster config file/],
  ];
  for (const [args, re] of cases) {
    const r = sifkube('init', '--name', `t-bad-${tag}`, ...args);
    assert.is.not(r.status, 0);
    assert.match(r.stderr, re);
    assert.not.ok(existsSync(clusterNames(`t-bad-${tag}`).stateDir));
  }
});

test.run();
