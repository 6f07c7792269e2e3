// The books example: the bookshelf REST API on PostgreSQL (found at PGHOST, a Service name in the
// cluster; pg reads PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE itself).
//   GET /books[?q=TEXT]        the books, or those whose title or author contains TEXT
//   POST /books                adds a book: {"title", "author", "published_date", "description"}
//   GET /books/ID              one book
//   PUT /books/ID              changes the fields given
//   POST /books/ID:delete      removes it
import { createServer } from 'node:http';
import pg from 'pg';
import { BadInput, checkBook, parseId } from './validate.mjs';

const PORT = Number(process.env.PORT ?? 8080);
const pool = new pg.Pool({ max: 4, connectionTimeoutMillis: 3000 });
// An idle connection the database dropped (a restart) must not take the server down.
pool.on('error', (err) => console.error(`database: ${err.message}`));

const COLUMNS = 'id, title, author, published_date, description';
let schemaReady = false;

/** Creates the table once the database answers (it may start after us); retried by /healthz too. */
async function ensureSchema() {
  if (schemaReady) return;
  await pool.query(`CREATE TABLE IF NOT EXISTS books (
    id bigserial PRIMARY KEY,
    title text NOT NULL,
    author text NOT NULL,
    published_date text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '')`);
  schemaReady = true;
}

async function db(text, params) {
  await ensureSchema();
  return pool.query(text, params);
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 1024 * 1024) throw new BadInput('the body is over 1 MiB');
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadInput(`the body is not JSON (${err.message}): send {"title": "...", "author": "...", "published_date": "...", "description": "..."}`);
  }
}

const row = (r) => ({ ...r, id: String(r.id) });

async function route(req, res) {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/') {
    return send(res, 200, { example: 'books', about: 'the bookshelf REST API on PostgreSQL', endpoints: ['GET /books?q=', 'POST /books', 'GET /books/ID', 'PUT /books/ID', 'POST /books/ID:delete'] });
  }
  if (req.method === 'GET' && path === '/healthz') {
    await db('SELECT 1');
    return send(res, 200, { database: 'up' });
  }
  if (path === '/books') {
    if (req.method === 'GET') {
      const q = url.searchParams.get('q');
      const r = q
        ? await db(`SELECT ${COLUMNS} FROM books WHERE strpos(lower(title), lower($1)) > 0 OR strpos(lower(author), lower($1)) > 0 ORDER BY id`, [q])
        : await db(`SELECT ${COLUMNS} FROM books ORDER BY id`);
      return send(res, 200, r.rows.map(row));
    }
    if (req.method === 'POST') {
      const b = checkBook(await readJson(req), true);
      const r = await db(`INSERT INTO books (title, author, published_date, description) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`, [b.title, b.author, b.published_date ?? '', b.description ?? '']);
      return send(res, 201, row(r.rows[0]));
    }
    return send(res, 405, { error: `${req.method} /books: use GET or POST` });
  }
  const m = /^\/books\/([^/:]+)(:delete)?$/.exec(path);
  if (m) {
    const id = parseId(m[1]);
    if (m[2]) {
      if (req.method !== 'POST') return send(res, 405, { error: `${req.method} ${path}: use POST` });
      const r = await db(`DELETE FROM books WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
      return r.rowCount ? send(res, 200, row(r.rows[0])) : send(res, 404, { error: `no book ${id}` });
    }
    if (req.method === 'GET') {
      const r = await db(`SELECT ${COLUMNS} FROM books WHERE id = $1`, [id]);
      return r.rowCount ? send(res, 200, row(r.rows[0])) : send(res, 404, { error: `no book ${id}` });
    }
    if (req.method === 'PUT') {
      const b = checkBook(await readJson(req), false);
      const fields = Object.keys(b);
      const r = await db(
        `UPDATE books SET ${fields.map((f, i) => `${f} = $${i + 2}`).join(', ') || 'id = id'} WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, ...fields.map((f) => b[f])],
      );
      return r.rowCount ? send(res, 200, row(r.rows[0])) : send(res, 404, { error: `no book ${id}` });
    }
    return send(res, 405, { error: `${req.method} ${path}: use GET, PUT, or POST ${path}:delete` });
  }
  return send(res, 404, { error: `no ${path} here: see GET /` });
}

const server = createServer((req, res) => {
  route(req, res).catch((err) => {
    if (err instanceof BadInput) return send(res, 400, { error: err.message });
    console.error(`${req.method} ${req.url}: ${err.message}`);
    return send(res, 503, { error: `the database did not answer (${err.message})` });
  });
});

server.listen(PORT, () => console.log(`books example: listening on :${PORT}, database ${process.env.PGHOST ?? 'localhost'}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => pool.end().then(() => process.exit(0))));
