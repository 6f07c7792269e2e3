import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';

export const CHROMIUM = '/usr/bin/chromium';

/** Why Debian's chromium cannot run here, or undefined. */
export function noChromium(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (scripts/install-system-deps.sh installs chromium)`;
}

export interface PageResult {
  /** the lines of the page's label list */
  labels: string[];
  status: string;
  /** the canvas, as the browser drew it */
  screenshot: Buffer;
}

/**
 * Opens the TensorFlow example's page at `url` in headless chromium (a fresh profile, no network
 * beyond the page), uploads `picture` with its file input, and waits for the labels.
 */
export async function uploadInPage(url: string, picture: string): Promise<PageResult> {
  const profile = mkdtempSync(join(tmpdir(), 'sk-chromium-'));
  // A persistent context is how playwright takes a fresh --user-data-dir.
  const browser = await chromium
    .launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1000, height: 1200 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    .catch((err: unknown) => {
      rmSync(profile, { recursive: true, force: true });
      throw err;
    });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.setInputFiles('#file', picture);
    await page.waitForFunction(() => /object\(s\) in|Could not classify/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 60_000 });
    return {
      labels: await page.locator('#labels li').allTextContents(),
      status: (await page.locator('#status').textContent()) ?? '',
      screenshot: await page.locator('#canvas').screenshot(),
    };
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** How many pixels of row `y` of a PNG, between x0 and x1, are (nearly) the colour `rgb`. */
export function rowMatches(png: Buffer, y: number, x0: number, x1: number, rgb: [number, number, number]): { matching: number; total: number } {
  const img = PNG.sync.read(png);
  let matching = 0;
  for (let x = x0; x <= x1; x++) {
    const o = (y * img.width + x) * 4;
    if (rgb.every((c, i) => Math.abs(img.data[o + i] - c) < 40)) matching++;
  }
  return { matching, total: x1 - x0 + 1 };
}

/** A PNG's size. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const img = PNG.sync.read(png);
  return { width: img.width, height: img.height };
}
