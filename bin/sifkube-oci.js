#!/usr/bin/env node
// Entry of the runc-compatible `sifkube-oci` command line. It is on the hot path of every container,
// so it loads no CLI framework, and it is CommonJS (bin/package.json): Node.js starts a CommonJS
// program without its ES module loader. It runs the one-file bundle of the command line that
// `npm run build` makes (scripts/bundle-oci.mjs), with the V8 code cache made beside it, or else the
// compiled modules.
const { readFileSync, statSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, '../dist/src/runtime/cli/sifkube-oci.cjs');
const modules = '../dist/src/runtime/cli/main.js';

/** The bundle is used only when it is newer than the compiled modules (a `tsc` alone leaves it stale). */
function bundleIsCurrent() {
  try {
    return statSync(bundle).mtimeMs >= statSync(join(__dirname, modules)).mtimeMs;
  } catch {
    return false;
  }
}

/** Runs the bundle as a CommonJS module; V8 takes its compiled code from the cache when it fits. */
function loadBundle() {
  let cachedData;
  try {
    cachedData = readFileSync(`${bundle}.cache`);
  } catch {
    // no cache: V8 compiles the bundle
  }
  // The same wrapper as scripts/bundle-oci.mjs compiles for the cache.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`, { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return module.exports;
}

const cli = bundleIsCurrent() ? Promise.resolve(loadBundle()) : import(modules);
cli.then(({ main }) => main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
