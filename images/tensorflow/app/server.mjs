// The TensorFlow example: object detection as a service. POST /classify takes a JPEG or PNG (raw bytes
// or a multipart upload) and answers the labels found, with their boxes; / is a page that uploads a
// picture and draws them; pictures dropped in IN_DIR get an annotated copy and a JSON file in OUT_DIR.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import Busboy from 'busboy';
import { Detector, MODEL_NAME } from './detector.mjs';
import { NotAnImageError, decodeImage, toRgb } from './image.mjs';
import { watchFolder } from './folders.mjs';

const PORT = Number(process.env.PORT ?? 8080);
const MAX_BYTES = 32 * 1024 * 1024;
const page = readFileSync(new URL('./public/index.html', import.meta.url));

class BadRequest extends Error {}

/** The uploaded picture's bytes: the first file of a multipart/form-data body, else the raw body. */
function readUpload(req) {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    return new Promise((resolve, reject) => {
      let bb;
      try {
        bb = Busboy({ headers: req.headers, limits: { fileSize: MAX_BYTES, files: 1 } });
      } catch (err) {
        reject(new BadRequest(`the multipart body could not be read (${err.message})`));
        return;
      }
      let file;
      bb.on('file', (_field, stream) => {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('limit', () => reject(new BadRequest(`the picture is over ${MAX_BYTES} bytes`)));
        stream.on('end', () => (file = Buffer.concat(chunks)));
      });
      bb.on('error', (err) => reject(new BadRequest(`the multipart body could not be read (${err.message})`)));
      bb.on('close', () => (file ? resolve(file) : reject(new BadRequest('the multipart body has no file: send the picture as a file field'))));
      req.pipe(bb);
    });
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BYTES) {
        reject(new BadRequest(`the picture is over ${MAX_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res, status, body, type = 'application/json') {
  const data = type === 'application/json' ? `${JSON.stringify(body)}\n` : body;
  res.writeHead(status, { 'content-type': type });
  res.end(data);
}

const detector = await Detector.load();
// The first run compiles the kernels: do it before serving, so the readiness probe means "fast".
await detector.detect({ width: 8, height: 8, rgb: new Uint8Array(8 * 8 * 3) });

/** Classifies one picture: {labels, model, device, ms}. */
async function classify(image) {
  const t0 = performance.now();
  const labels = await detector.detect(toRgb(image));
  return { labels, model: MODEL_NAME, device: detector.device, ms: Math.round(performance.now() - t0) };
}

const server = createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  try {
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) return send(res, 200, page, 'text/html; charset=utf-8');
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { model: MODEL_NAME, device: detector.device });
    if (path === '/classify') {
      if (req.method !== 'POST') return send(res, 405, { error: 'POST the picture to /classify' });
      const image = decodeImage(await readUpload(req));
      return send(res, 200, await classify(image));
    }
    return send(res, 404, { error: `no ${req.method} ${path} here: GET / (the page) or POST /classify (a JPEG or PNG)` });
  } catch (err) {
    if (err instanceof NotAnImageError || err instanceof BadRequest) return send(res, 400, { error: err.message });
    console.error(err);
    return send(res, 500, { error: err.message });
  }
});

if (process.env.IN_DIR && process.env.OUT_DIR) watchFolder(process.env.IN_DIR, process.env.OUT_DIR, classify);
server.listen(PORT, () => console.log(`tensorflow example: ${MODEL_NAME} on ${detector.device}, listening on :${PORT}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
