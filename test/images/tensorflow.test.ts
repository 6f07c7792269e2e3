import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noChromium, pngSize, rowMatches, uploadInPage } from '../helpers/browser.js';
import { catPhotos, exampleModules, skimagePhotos, startApp, type AppServer } from '../helpers/examples.js';
import { freePort } from '../helpers/registry.js';

// The TensorFlow example's server on the host: the CenterNet COCO model from @vladmandic/human on
// TensorFlow.js, classifying photographs of Debian's python3-skimage (a motorcycle, an astronaut)
// and r-cran-emayili (six cats, a JPEG).
exampleModules('tensorflow');

interface Label {
  label: string;
  score: number;
  box: [number, number, number, number];
}

test('tensorflow: POST /classify (raw and multipart) finds the motorcycle, the person and six cats; 400 for what is not a picture; the folders; the page in chromium', async () => {
  const photos = skimagePhotos(['motorcycle_left.png', 'astronaut.png'], catPhotos());
  const folders = mkdtempSync(join(tmpdir(), 'sk-tf-'));
  const [inDir, outDir] = [join(folders, 'in'), join(folders, 'out')];
  mkdirSync(inDir);
  mkdirSync(outDir);
  let started: AppServer | undefined;
  try {
    const app = (started = await startApp('tensorflow/app/server.mjs', { PORT: String(await freePort()), IN_DIR: inDir, OUT_DIR: outDir }, 120_000));
    const moto = readFileSync(join(photos, 'motorcycle_left.png'));
    const raw = await fetch(`${app.url}/classify`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: moto });
    assert.is(raw.status, 200);
    const result = (await raw.json()) as { labels: Label[]; model: string; device: string; ms: number };
    assert.is(result.labels[0].label, 'motorcycle', JSON.stringify(result));
    assert.ok(result.labels[0].score > 0.3 && result.labels[0].score <= 1, JSON.stringify(result.labels[0]));
    assert.equal([...result.labels].sort((a, b) => b.score - a.score), result.labels, 'sorted by score');
    const [x, y, w, h] = result.labels[0].box;
    // The motorcycle fills most of the 741x500 picture.
    assert.ok(x >= 0 && y >= 0 && w > 300 && h > 250 && x + w <= 741 && y + h <= 500, JSON.stringify(result.labels[0].box));
    assert.match(result.model, /centernet/);
    assert.ok(['wasm', 'cpu'].includes(result.device), result.device);
    assert.ok(result.ms > 0);

    const form = new FormData();
    form.append('picture', new Blob([readFileSync(join(photos, 'astronaut.png'))], { type: 'image/png' }), 'astronaut.png');
    const multi = (await (await fetch(`${app.url}/classify`, { method: 'POST', body: form })).json()) as { labels: Label[] };
    assert.is(multi.labels[0].label, 'person', JSON.stringify(multi));

    // A JPEG: Wikimedia Commons' poster of six cats (400x263), each found as a cat in its own part.
    const poster = (await (await fetch(`${app.url}/classify`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: readFileSync(join(photos, 'cats-of-wikimedia-commons.jpg')) })).json()) as { labels: Label[] };
    const cats = poster.labels.filter((l) => l.label === 'cat');
    assert.is(poster.labels[0].label, 'cat', JSON.stringify(poster));
    assert.ok(cats.length >= 5, JSON.stringify(poster));
    for (const { box: [cx, cy, cw, ch] } of cats) assert.ok(cx >= 0 && cy >= 0 && cw > 40 && ch > 40 && cx + cw <= 400 && cy + ch <= 263, JSON.stringify(cats));

    for (const [body, re] of [
      ['hello, not a picture', /not a JPEG or PNG picture/],
      ['', /body is empty/],
      [Buffer.concat([moto.subarray(0, 100)]), /PNG picture could not be decoded/],
    ] as const) {
      const r = await fetch(`${app.url}/classify`, { method: 'POST', body });
      assert.is(r.status, 400);
      assert.match(((await r.json()) as { error: string }).error, re);
    }
    const emptyForm = new FormData();
    emptyForm.append('note', 'no file');
    const noFile = await fetch(`${app.url}/classify`, { method: 'POST', body: emptyForm });
    assert.is(noFile.status, 400);
    assert.match(((await noFile.json()) as { error: string }).error, /has no file/);
    assert.is((await fetch(`${app.url}/classify`)).status, 405);

    // The folders: a dropped picture gets its labels and an annotated copy; a text file an error.
    copyFileSync(join(photos, 'motorcycle_left.png'), join(inDir, 'moto.png'));
    writeFileSync(join(inDir, 'notes.txt'), 'not a picture');
    for (let i = 0; i < 200 && !(existsSync(join(outDir, 'moto.json')) && existsSync(join(outDir, 'notes.error.txt'))); i++) await new Promise((r) => setTimeout(r, 100));
    const dropped = JSON.parse(readFileSync(join(outDir, 'moto.json'), 'utf8')) as { file: string; labels: Label[] };
    assert.is(dropped.file, 'moto.png');
    assert.is(dropped.labels[0].label, 'motorcycle');
    const annotated = readFileSync(join(outDir, 'moto.annotated.png'));
    assert.equal(pngSize(annotated), { width: 741, height: 500 });
    // The top edge of the first box is drawn in red, where the photograph is not red.
    const [bx, by, bw] = dropped.labels[0].box;
    assert.ok(rowMatches(annotated, by + 1, bx + 5, bx + bw - 5, [255, 0, 0]).matching > 0.95 * (bw - 9));
    assert.ok(rowMatches(moto, by + 1, bx + 5, bx + bw - 5, [255, 0, 0]).matching < 0.2 * (bw - 9));
    assert.match(readFileSync(join(outDir, 'notes.error.txt'), 'utf8'), /notes\.txt: .*not a JPEG or PNG/);

    const why = noChromium();
    if (why) console.log(`skipped the page: ${why}`);
    else {
      const page = await uploadInPage(`${app.url}/`, join(photos, 'motorcycle_left.png'));
      assert.match(page.labels[0] ?? '', /^motorcycle — \d+\.\d% at \[\d+, \d+, \d+, \d+\]$/, page.status);
      assert.match(page.status, /object\(s\) in \d+ ms on (wasm|cpu)/);
      // The canvas shows the picture at its size (give or take the pixel a fractional layout adds)
      // with the first box's top edge in red.
      const shot = pngSize(page.screenshot);
      assert.ok(Math.abs(shot.width - 741) <= 1 && Math.abs(shot.height - 500) <= 1, JSON.stringify(shot));
      // The canvas strokes on the edge (half a line each side of it) and writes the label inside:
      // the best row near the edge.
      const best = Math.max(...[-2, -1, 0, 1, 2].map((d) => rowMatches(page.screenshot, by + d, bx + 5, bx + bw - 5, [255, 0, 0]).matching));
      assert.ok(best > 0.85 * (bw - 9), `the box drawn on the page: ${best} red pixels of ${bw - 9}`);
    }
  } finally {
    await started?.stop();
    rmSync(photos, { recursive: true, force: true });
    rmSync(folders, { recursive: true, force: true });
  }
});

test.run();
