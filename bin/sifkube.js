#!/usr/bin/env node
// Entry of the `sifkube` CLI. `--version` and the top-level help are answered from package.json and
// the command manifest without loading oclif, so the commands users type most start as fast as Node.
// CommonJS, as every file in bin/ (bin/package.json: see bin/sifkube-oci.js); the CLI itself is ESM.
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

(async () => {
  const { fastPath } = await import('../dist/src/cli/fast-path.js');
  if (!(await fastPath(process.argv.slice(2), pathToFileURL(`${join(__dirname, '..')}/`)))) {
    const { execute } = await import('@oclif/core');
    await execute({ dir: join(__dirname, '..') });
  }
})();
