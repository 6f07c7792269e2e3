// Object detection with CenterNet (MobileNetV3 backbone, trained on COCO's 80 classes), a TensorFlow
// graph model whose weights ship inside the npm package @vladmandic/human (models/centernet.*): read
// from disk, never downloaded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

export const MODEL_NAME = 'centernet-mobilenetv3-coco (@vladmandic/human 3.3.6)';

// COCO's 80 class names in the model's class order.
const LABELS = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear',
  'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball',
  'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup',
  'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza',
  'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote',
  'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush'];

/** The model files: MODEL_DIR (the image keeps only them), else the installed package's. */
export function modelDir() {
  return process.env.MODEL_DIR ?? fileURLToPath(new URL('../node_modules/@vladmandic/human/models', import.meta.url));
}

/** A tfjs IOHandler reading a graph model (model.json and its weight shards) from a local folder. */
function fileModel(dir, name) {
  return {
    async load() {
      const json = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
      const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
      const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const all = Buffer.concat(shards);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return { modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy, signature: json.signature, weightSpecs, weightData };
    },
  };
}

/** The fastest backend that starts here: WebAssembly (SIMD where the CPU has it), else plain JS. */
async function pickBackend() {
  setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  for (const name of ['wasm', 'cpu']) {
    try {
      if (await tf.setBackend(name)) return name;
    } catch {
      // try the next one
    }
  }
  throw new Error('no TensorFlow.js backend could start (wasm, cpu)');
}

export class Detector {
  /** @param {{minScore?: number, maxResults?: number}} [opts] */
  static async load(opts = {}) {
    const device = await pickBackend();
    await tf.ready();
    const model = await loadGraphModel(fileModel(modelDir(), 'centernet'));
    return new Detector(model, device, opts);
  }

  constructor(model, device, opts) {
    this.model = model;
    this.device = device;
    this.minScore = opts.minScore ?? 0.2;
    this.maxResults = opts.maxResults ?? 20;
    this.inputSize = Number(model.modelSignature.inputs['tower_0/images'].tensorShape.dim[1].size);
  }

  /**
   * Detects objects in an RGB picture.
   * @param {{width: number, height: number, rgb: Uint8Array}} image
   * @returns {Promise<{label: string, score: number, box: [number, number, number, number]}[]>} by score, box in pixels [x, y, w, h]
   */
  async detect(image) {
    const s = this.inputSize;
    const detections = tf.tidy(() => {
      const pixels = tf.tensor4d(Float32Array.from(image.rgb), [1, image.height, image.width, 3]);
      const resized = tf.image.resizeBilinear(pixels, [s, s]);
      return tf.squeeze(this.model.execute(resized, 'tower_0/detections'), [0]);
    });
    const rows = await detections.array();
    const boxes = tf.tensor2d(rows.map(([x1, y1, x2, y2]) => [y1, x1, y2, x2]), [rows.length, 4]);
    const scores = tf.tensor1d(rows.map((r) => r[4]));
    const keep = await tf.image.nonMaxSuppressionAsync(boxes, scores, this.maxResults, 0.4, this.minScore);
    const kept = await keep.data();
    tf.dispose([detections, boxes, scores, keep]);
    const sx = image.width / s;
    const sy = image.height / s;
    const labels = [];
    for (const i of kept) {
      const [x1, y1, x2, y2, score, cls] = rows[i];
      const label = LABELS[cls];
      if (label === undefined) continue;
      const x = Math.max(0, Math.round(x1 * sx));
      const y = Math.max(0, Math.round(y1 * sy));
      labels.push({ label, score: Math.round(score * 1000) / 1000, box: [x, y, Math.min(image.width, Math.round(x2 * sx)) - x, Math.min(image.height, Math.round(y2 * sy)) - y] });
    }
    return labels.sort((a, b) => b.score - a.score);
  }
}
