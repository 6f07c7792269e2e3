// The build cache's store: restore gives an independent copy, and the cache keeps the 20 most
// recently used images (a restore counts as a use).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildCache } from '../../src/build/index.js';

test('restore copies; the 20 most recently used entries are kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sifkube-build-cache-test-'));
  try {
    const cache = new BuildCache(join(dir, 'cache'));
    const img = join(dir, 'img.sif');
    assert.is(cache.restore('k0', join(dir, 'out.sif')), false);
    for (let i = 0; i < 22; i++) {
      writeFileSync(img, `image ${i}`);
      cache.store(`k${i}`, img);
      // Each entry used a second after the one before (atime is what "used" means).
      const t = new Date(Date.now() - (30 - i) * 1000);
      utimesSync(join(dir, 'cache', `k${i}.sif`), t, t);
      if (i === 5) assert.ok(cache.restore('k0', join(dir, 'out.sif')), 'k0 used again, so it stays');
    }
    const kept = readdirSync(join(dir, 'cache')).sort();
    assert.is(kept.length, 20);
    assert.ok(!kept.includes('k1.sif') && !kept.includes('k2.sif'), kept.join(' '));
    assert.ok(cache.restore('k21', join(dir, 'out.sif')));
    writeFileSync(join(dir, 'out.sif'), 'changed');
    assert.ok(cache.restore('k21', join(dir, 'again.sif')));
    assert.is(readFileSync(join(dir, 'again.sif'), 'utf8'), 'image 21', 'a restored image is a copy, not the entry');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
