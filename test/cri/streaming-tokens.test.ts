import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TokenCache } from '../../src/cri/streaming/token-cache.js';
import { TooManyPendingRequestsError } from '../../src/cri/streaming/index.js';

test('a token gives its request once, and nothing after its time to live', () => {
  let now = 1000;
  const cache = new TokenCache<string>(60_000, 10, () => now);
  const a = cache.insert('a');
  const b = cache.insert('b');
  assert.is(cache.consume(a), 'a');
  assert.is(cache.consume(a), undefined);
  now += 60_000;
  assert.is(cache.consume(b), undefined);
});

test('more unused requests than allowed are refused until some expire', () => {
  let now = 0;
  const cache = new TokenCache<number>(1000, 3, () => now);
  for (let i = 0; i < 3; i++) cache.insert(i);
  assert.throws(() => cache.insert(3), (e: Error) => e instanceof TooManyPendingRequestsError && /already holds 3 unused/.test(e.message));
  now += 1000;
  assert.type(cache.insert(4), 'string');
});

test.run();
