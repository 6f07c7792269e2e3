#!/usr/bin/env node
// Entry of the runc-compatible `sifkube-oci` command line. It is on the hot path of every container,
// so it loads no CLI framework, and it is CommonJS (bin/package.json): Node.js starts a CommonJS
// program without its ES module loader. It runs the one-file bundle of the command line that
// `npm run build` makes (scripts/bundle-oci.mjs), or else the compiled modules.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '../dist/src/runtime/cli/sifkube-oci.cjs');
const cli = existsSync(bundle) ? Promise.resolve(require(bundle)) : import('../dist/src/runtime/cli/main.js');
cli.then(({ main }) => main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
