// Decoding and encoding pictures in plain JavaScript (JPEG and PNG), and drawing boxes on them.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export class NotAnImageError extends Error {}

const MAX_PIXELS = 40_000_000;

/** The format of `bytes` by its signature, or undefined. */
export function imageType(bytes) {
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length > 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  return undefined;
}

/**
 * Decodes a JPEG or PNG picture to RGBA; anything else is a NotAnImageError naming what it got.
 * @returns {{width: number, height: number, rgba: Uint8Array}}
 */
export function decodeImage(bytes) {
  if (bytes.length === 0) throw new NotAnImageError('the body is empty: send the bytes of a JPEG or PNG picture');
  const type = imageType(bytes);
  if (!type) throw new NotAnImageError(`the body is not a JPEG or PNG picture (it starts with ${JSON.stringify(bytes.subarray(0, 8).toString('latin1'))}): send the bytes of a JPEG or PNG picture`);
  try {
    if (type === 'jpeg') {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6 });
      return { width: img.width, height: img.height, rgba: img.data };
    }
    const png = PNG.sync.read(bytes);
    if (png.width * png.height > MAX_PIXELS) throw new Error(`${png.width}x${png.height} is over ${MAX_PIXELS} pixels`);
    return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
  } catch (err) {
    throw new NotAnImageError(`the ${type.toUpperCase()} picture could not be decoded (${err.message})`);
  }
}

/** RGBA to the RGB the model takes. */
export function toRgb({ width, height, rgba }) {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return { width, height, rgb };
}

// One colour per rank, the same the web page uses.
export const BOX_COLORS = [[255, 0, 0], [0, 200, 0], [0, 80, 255], [255, 160, 0], [200, 0, 200], [0, 200, 200]];

/** A PNG of the picture with each label's box drawn in its rank's colour. */
export function annotate(image, labels) {
  const { width, height } = image;
  const png = new PNG({ width, height });
  png.data.set(image.rgba);
  const thick = Math.max(2, Math.round(Math.min(width, height) / 150));
  const paint = (x, y, c) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const o = (y * width + x) * 4;
    png.data[o] = c[0];
    png.data[o + 1] = c[1];
    png.data[o + 2] = c[2];
    png.data[o + 3] = 255;
  };
  labels.forEach((l, rank) => {
    const c = BOX_COLORS[rank % BOX_COLORS.length];
    const [x, y, w, h] = l.box;
    for (let t = 0; t < thick; t++) {
      for (let i = x; i <= x + w; i++) {
        paint(i, y + t, c);
        paint(i, y + h - t, c);
      }
      for (let j = y; j <= y + h; j++) {
        paint(x + t, j, c);
        paint(x + w - t, j, c);
      }
    }
  });
  return PNG.sync.write(png);
}
