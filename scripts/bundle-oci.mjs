// Bundles the `sifkube-oci` command line (dist/src/runtime/cli/main.js and what it imports) into one
// CommonJS file, dist/src/runtime/cli/sifkube-oci.cjs, which bin/sifkube-oci.js loads when present:
// Node.js then starts it without its ES module loader and without resolving about sixty modules, the
// bulk of the CLI's start-up (see BENCHMARKS.md, OCI runtime). Beside it goes the V8 code cache of
// the bundle with every function compiled (sifkube-oci.cjs.cache), so a run compiles almost nothing.
// Run after tsc (npm run build).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = `${root}dist/src/runtime/cli/main.js`;
const outfile = `${root}dist/src/runtime/cli/sifkube-oci.cjs`;

/** Each module's import.meta.url stays the URL of its own compiled file, so relative paths still hold. */
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const own = `require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(relative(dirname(outfile), path))})).href`;
      return { contents: text.replaceAll('import.meta.url', own), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  plugins: [importMetaUrl],
  logLevel: 'warning',
});

/**
 * The code cache: V8 checks only the source's length against it, so it is always made together with
 * the bundle, from the same wrapper as bin/sifkube-oci.js, and kept only when V8 accepts it back.
 * Compiled with lazy compilation off (every function, not only those a run happened to call); the
 * flag is back on before the cache is written, as the flags are part of what V8 checks. Made in a
 * CommonJS process, as the CLI's: an ES module entry runs with other V8 flags.
 */
const makeCache = `
const { readFileSync, rmSync, writeFileSync } = require('node:fs');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');
const [bundle, cacheFile] = process.argv.slice(1);
rmSync(cacheFile, { force: true });
const wrapped = \`(function (exports, require, module, __filename, __dirname) {\${readFileSync(bundle, 'utf8')}\\n})\`;
setFlagsFromString('--no-lazy');
const compiled = new Script(wrapped, { filename: bundle });
setFlagsFromString('--lazy');
const cache = compiled.createCachedData();
if (new Script(wrapped, { filename: bundle, cachedData: cache }).cachedDataRejected) console.warn('bundle-oci: V8 rejects the code cache it made: the CLI runs without it');
else writeFileSync(cacheFile, cache);
`;
execFileSync(process.execPath, ['-e', makeCache, outfile, `${outfile}.cache`], { stdio: 'inherit' });
