#!/usr/bin/env node
// Entry of the runc-compatible `sifkube-oci` command line. It is on the hot path of every container,
// so it loads no CLI framework.
import { main } from '../dist/src/runtime/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
