import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { helperPath } from '../../src/runtime/native.js';

test('the native helper is built and answers its protocol version', () => {
  const r = spawnSync(helperPath(), ['version'], { encoding: 'utf8' });
  assert.is(r.status, 0);
  assert.is(r.stdout.trim(), 'sifkube-helper 1');
});

test('an unknown subcommand is refused with exit 2', () => {
  const r = spawnSync(helperPath(), ['no-such'], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /unknown subcommand no-such/);
});

test.run();
