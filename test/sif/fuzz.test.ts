// A few thousand mutated fixtures: each is accepted or rejected with a one-line SifError; nothing
// else may escape (the benchmark run does 100,000+).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fuzzSif } from '../helpers/sif-fuzz.js';

test('5000 mutated fixtures: no uncaught exception, every rejection a one-line SifError', () => {
  const r = fuzzSif(5000, 20261127);
  assert.equal(r.crashes.slice(0, 3), []);
  assert.ok(r.rejected > 1000, `mutations hit the checks (${r.rejected} rejected)`);
  assert.ok(r.accepted > 100, `some mutations stay valid (${r.accepted} accepted)`);
});

test.run();
