// Runs the compiled benchmarks (dist/bench/<area>/*.js), each in its own process, one after another.
// `node scripts/bench.mjs sif` runs only the files whose path under dist/bench contains a word.
// Files named common.js are shared code, not benchmarks.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const benchRoot = new URL('../dist/bench/', import.meta.url).pathname;
const filters = process.argv.slice(2);

function collect(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return collect(path);
      return name.endsWith('.js') && name !== 'common.js' ? [path] : [];
    });
}

let failed = 0;
for (const file of collect(benchRoot)) {
  const name = relative(benchRoot, file);
  if (filters.length > 0 && !filters.some((w) => name.includes(w))) continue;
  console.log(`\n== ${name}`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (r.status !== 0) failed += 1;
}
process.exitCode = failed > 0 ? 1 : 0;
