// The fuzz run: 100,000+ mutated fixtures through the reader and the formatters.
import { fuzzSif } from '../../test/helpers/sif-fuzz.js';

const n = Number(process.argv[2] ?? 100000);
const t0 = Date.now();
const r = fuzzSif(n, 42);
const secs = (Date.now() - t0) / 1000;
console.log(`| fuzz | ${r.inputs} inputs | ${secs.toFixed(1)} s (${Math.round(r.inputs / secs)}/s) | accepted ${r.accepted}, rejected ${r.rejected} | uncaught exceptions: ${r.crashes.length} |`);
for (const c of r.crashes.slice(0, 5)) console.log(c);
process.exitCode = r.crashes.length > 0 ? 1 : 0;
