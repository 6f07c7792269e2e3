// Runs every compiled test file (dist/test/**/*.test.js) in its own Node process, one after another
// (they use real namespaces, mounts and cgroups as root), checks that each file left nothing behind on
// the host, and ends with the plain closing line `N passed, N failed, N skipped`.
// `node scripts/test.mjs sif runtime` runs only the files whose path contains one of the words.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { hostSnapshot, diffSnapshots } from '../dist/test/helpers/leaks.js';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'dist', 'test');
const filters = process.argv.slice(2);

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = collect(testRoot).filter((f) => filters.length === 0 || filters.some((w) => relative(testRoot, f).includes(w)));
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];
const started = Date.now();

for (const file of files) {
  const name = relative(testRoot, file);
  const before = hostSnapshot();
  const t0 = Date.now();
  const res = spawnSync(process.execPath, ['--enable-source-maps', file], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  const num = (label) => Number((out.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? 0));
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped');
  // uvu's Total counts the tests that ran: skipped ones (test.skip) are not in it.
  let failed = total - passed;
  const leaks = diffSnapshots(before, hostSnapshot());
  if (res.status !== 0 && failed === 0) failed = 1;
  if (leaks.length > 0) failed += 1;
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`${failed === 0 ? 'ok  ' : 'FAIL'} ${name} (${passed} passed, ${failed} failed, ${skipped} skipped, ${secs}s)`);
  if (failed > 0) {
    failures.push(name);
    console.log(out.split('\n').map((l) => `    ${l}`).join('\n'));
    for (const leak of leaks) console.log(`    leaked: ${leak}`);
  }
}

console.log(`\n${files.length} test files in ${((Date.now() - started) / 1000).toFixed(1)}s`);
if (failures.length > 0) console.log(`failed files: ${failures.join(', ')}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 || files.length === 0 ? 1 : 0;
