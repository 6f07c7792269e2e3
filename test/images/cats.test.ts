import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catPhotos, startApp, type AppServer } from '../helpers/examples.js';
import { freePort } from '../helpers/registry.js';

// The cats example's server on the host, serving the cat photographs of Debian's python3-skimage
// and r-cran-emayili.
test('cats: / says what it is, /cats/good lists and serves the real photographs, bad paths get 404/405', async () => {
  const photos = catPhotos();
  const names = ['cats-of-wikimedia-commons.jpg', 'chelsea.png'];
  const cats = mkdtempSync(join(tmpdir(), 'sk-cats-'));
  for (const n of names) copyFileSync(join(photos, n), join(cats, n));
  let started: AppServer | undefined;
  try {
    const app = (started = await startApp('cats/app/server.mjs', { PORT: String(await freePort()), CATS_DIR: cats }));
    const about = await fetch(`${app.url}/`);
    assert.is(about.status, 200);
    assert.match(await about.text(), /sifkube example.*cat photographs/s);
    assert.equal(await (await fetch(`${app.url}/cats/good`, { headers: { accept: 'application/json' } })).json(), names.map((n) => `/cats/good/${n}`));
    const page = await (await fetch(`${app.url}/cats/good`)).text();
    for (const n of names) assert.match(page, new RegExp(`<img src="/cats/good/${n.replace(/\./g, '\\.')}"`));
    for (const [n, type] of [['chelsea.png', 'image/png'], ['cats-of-wikimedia-commons.jpg', 'image/jpeg']]) {
      const photo = await fetch(`${app.url}/cats/good/${n}`);
      assert.is(photo.headers.get('content-type'), type, n);
      assert.ok(Buffer.from(await photo.arrayBuffer()).equals(readFileSync(join(photos, n))), `${n}: the bytes of the package file`);
    }
    for (const bad of ['/cats/good/..%2f..%2fetc%2fpasswd', '/cats/good/missing.png', '/dogs']) assert.is((await fetch(`${app.url}${bad}`)).status, 404, bad);
    assert.is((await fetch(`${app.url}/cats/good`, { method: 'POST' })).status, 405);
  } finally {
    await started?.stop();
    rmSync(photos, { recursive: true, force: true });
    rmSync(cats, { recursive: true, force: true });
  }
});

test.run();
