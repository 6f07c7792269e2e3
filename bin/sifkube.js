#!/usr/bin/env node
// Entry of the `sifkube` CLI. `--version` and the top-level help are answered from package.json and
// the command manifest without loading oclif, so the commands users type most start as fast as Node.
import { fastPath } from '../dist/src/cli/fast-path.js';

const root = new URL('..', import.meta.url);
if (!(await fastPath(process.argv.slice(2), root))) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
