// The cats example: an HTTP file server on :8080. /cats/good lists the cat photographs in CATS_DIR
// (JSON for `Accept: application/json`, else a page) and serves each one; / says what this is.
import { createServer } from 'node:http';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

const PORT = Number(process.env.PORT ?? 8080);
const CATS_DIR = process.env.CATS_DIR ?? '/srv/cats/good';
const TYPES = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png' };

/** The photographs, by name (read at each request: a folder bound in later is seen). */
function photos() {
  return readdirSync(CATS_DIR)
    .filter((n) => TYPES[extname(n).toLowerCase()] && statSync(join(CATS_DIR, n)).isFile())
    .sort();
}

const escape = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

const ABOUT = `<!doctype html><meta charset="utf-8"><title>sifkube example: cats</title>
<h1>Cats</h1>
<p>A sifkube example: a small HTTP file server in a SIF image, run by a Kubernetes Deployment behind a
Service on port 80. It serves real cat photographs that ship in a Debian package (see <a href="/cats/good">/cats/good</a>).</p>`;

const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET here\n');
  if (path === '/') return send(res, 200, 'text/html; charset=utf-8', ABOUT);
  if (path === '/healthz') return send(res, 200, 'text/plain', `${photos().length} photographs\n`);
  if (path === '/cats/good' || path === '/cats/good/') {
    const names = photos();
    if ((req.headers.accept ?? '').includes('application/json')) return send(res, 200, 'application/json', `${JSON.stringify(names.map((n) => `/cats/good/${n}`))}\n`);
    const items = names.map((n) => `<li><a href="/cats/good/${encodeURIComponent(n)}">${escape(n)}</a><br><img src="/cats/good/${encodeURIComponent(n)}" alt="${escape(n)}" width="320"></li>`);
    return send(res, 200, 'text/html; charset=utf-8', `<!doctype html><meta charset="utf-8"><title>Good cats</title><h1>Good cats</h1><ul>${items.join('')}</ul>`);
  }
  const m = /^\/cats\/good\/([^/]+)$/.exec(path);
  if (m && photos().includes(m[1])) {
    const file = join(CATS_DIR, m[1]);
    res.writeHead(200, { 'content-type': TYPES[extname(file).toLowerCase()], 'content-length': statSync(file).size });
    if (req.method === 'HEAD') return res.end();
    return createReadStream(file).pipe(res);
  }
  return send(res, 404, 'text/plain', `no ${path} here: try / or /cats/good\n`);
});

server.listen(PORT, () => console.log(`cats example: ${photos().length} photographs from ${CATS_DIR}, listening on :${PORT}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
