// Bundles the `sifkube-oci` command line (dist/src/runtime/cli/main.js and what it imports) into one
// CommonJS file, dist/src/runtime/cli/sifkube-oci.cjs, which bin/sifkube-oci.js loads when present:
// Node.js then starts it without its ES module loader and without resolving about sixty modules, the
// bulk of the CLI's start-up (see BENCHMARKS.md, OCI runtime). Run after tsc (npm run build).
import { build } from 'esbuild';
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
