import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { ChecksumMismatchError, DownloadError } from '../errors.js';

export type Progress = (received: number, total: number | undefined) => void;

async function get(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new DownloadError(url, cause ?? (err as Error).message);
  }
  if (!res.ok) throw new DownloadError(url, `HTTP ${res.status} ${res.statusText}`);
  return res;
}

/** The published SHA-256 (`<hex>` or `<hex>  <file>`). */
export async function fetchSha256(url: string): Promise<string> {
  const text = (await (await get(url)).text()).trim();
  const hex = text.split(/\s+/)[0]?.toLowerCase() ?? '';
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new DownloadError(url, `not a SHA-256 (${JSON.stringify(text.slice(0, 80))})`);
  return hex;
}

/**
 * Downloads `url` to `dest`, hashing as it streams, and keeps it only if it matches `sha256Url`.
 * The file lands under a temporary name, not executable; only a verified file is renamed into place
 * and made executable, so nothing unverified can ever be run.
 */
export async function downloadVerified(url: string, sha256Url: string, dest: string, progress?: Progress): Promise<void> {
  const expected = await fetchSha256(sha256Url);
  const res = await get(url);
  const total = Number(res.headers.get('content-length')) || undefined;
  mkdirSync(dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  const hash = createHash('sha256');
  const out = createWriteStream(partial, { mode: 0o600 });
  let received = 0;
  try {
    if (!res.body) throw new DownloadError(url, 'empty response');
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      received += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      progress?.(received, total);
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const actual = hash.digest('hex');
    if (actual !== expected) throw new ChecksumMismatchError(url, expected, actual);
    chmodSync(partial, 0o755);
    renameSync(partial, dest);
  } catch (err) {
    out.destroy();
    rmSync(partial, { force: true });
    if (err instanceof ChecksumMismatchError || err instanceof DownloadError) throw err;
    throw new DownloadError(url, (err as Error).message);
  }
}
