import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { exampleModules, IMAGES, startApp, type AppServer } from '../helpers/examples.js';
import { freePort } from '../helpers/registry.js';

// The books example on the host: its database start script runs Debian's PostgreSQL (as the
// postgres user, on a free port, data in a temporary folder), and the API server talks to it.
exampleModules('books');

async function startDb(data: string, port: number) {
  const child = spawn(join(IMAGES, 'books/db/start.sh'), [], { env: { ...process.env, PGDATA: data, PGPORT: String(port), POSTGRES_PASSWORD: 'test-secret' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 300 && !/ready to accept connections/.test(out); i++) {
    if (child.exitCode !== null) throw new Error(`books-db exited with ${child.exitCode}:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(out, /ready to accept connections/);
  return {
    out: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

test('books: create, read, search, update, delete against PostgreSQL; 400s name the problem; data outlives the API server; /healthz follows the database', async () => {
  const work = mkdtempSync('/var/tmp/sk-books-');
  chmodSync(work, 0o755); // the postgres user reaches its data folder
  const dbPort = await freePort();
  let db = await startDb(join(work, 'data'), dbPort);
  const env = async () => ({ PORT: String(await freePort()), PGHOST: '127.0.0.1', PGPORT: String(dbPort), PGUSER: 'books', PGPASSWORD: 'test-secret', PGDATABASE: 'postgres' });
  let api: AppServer | undefined;
  try {
    assert.match(db.out(), /new database/);
    api = await startApp('books/app/server.mjs', await env());
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${api!.url}${path}`, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: r.status, body: await r.json() };
    };
    assert.equal(await call('GET', '/healthz'), { status: 200, body: { database: 'up' } });
    const dune = await call('POST', '/books', { title: 'Dune', author: 'Frank Herbert', published_date: '1965-08-01', description: 'Sand.' });
    assert.is(dune.status, 201);
    assert.equal(dune.body, { id: dune.body.id, title: 'Dune', author: 'Frank Herbert', published_date: '1965-08-01', description: 'Sand.' });
    const emma = (await call('POST', '/books', { title: 'Emma', author: 'Jane Austen' })).body;
    assert.equal(await call('GET', `/books/${dune.body.id}`), { status: 200, body: dune.body });
    assert.equal((await call('GET', '/books?q=austen')).body, [emma]);
    assert.equal((await call('GET', '/books?q=DUN')).body, [dune.body]);
    assert.equal((await call('GET', '/books')).body, [dune.body, emma]);
    assert.equal(await call('PUT', `/books/${dune.body.id}`, { description: 'Spice.' }), { status: 200, body: { ...dune.body, description: 'Spice.' } });

    // Bad input: 400 naming the field or the fix; nothing changes.
    const bad: [string, string, unknown, RegExp][] = [
      ['POST', '/books', 'not json', /not JSON/],
      ['POST', '/books', { author: 'Nobody' }, /title is required/],
      ['POST', '/books', { title: 'T', author: 'A', year: 1990 }, /unknown field\(s\) year/],
      ['POST', '/books', { title: 'T', author: 'A', published_date: 'yesterday' }, /published_date "yesterday" is not a date/],
      ['POST', '/books', [1, 2], /JSON object/],
      ['PUT', `/books/${emma.id}`, { title: 42 }, /title must be a string/],
      ['GET', '/books/abc', undefined, /book id "abc" is not a number/],
    ];
    for (const [method, path, body, re] of bad) {
      const r = await call(method, path, body);
      assert.is(r.status, 400, `${method} ${path} ${JSON.stringify(body)}`);
      assert.match(r.body.error, re);
    }
    assert.is((await call('GET', '/books/999999')).status, 404);
    assert.is((await call('GET', '/books')).body.length, 2);

    // A new API server (a new pod) sees the same data; delete removes it.
    await api.stop();
    api = await startApp('books/app/server.mjs', await env());
    assert.is((await call('GET', `/books/${emma.id}`)).body.title, 'Emma');
    assert.equal(await call('POST', `/books/${emma.id}:delete`), { status: 200, body: emma });
    assert.is((await call('GET', `/books/${emma.id}`)).status, 404);
    assert.is((await call('POST', `/books/${emma.id}:delete`)).status, 404);

    // No database: not ready (503, the readiness probe fails); a restarted one has the data.
    await db.stop();
    assert.is((await call('GET', '/healthz')).status, 503);
    db = await startDb(join(work, 'data'), dbPort);
    assert.match(db.out(), /reusing the database/);
    assert.is((await call('GET', '/healthz')).status, 200);
    assert.equal((await call('GET', '/books')).body, [{ ...dune.body, description: 'Spice.' }]);
  } finally {
    await api?.stop();
    await db.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
