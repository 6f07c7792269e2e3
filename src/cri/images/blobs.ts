import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UnimplementedError } from '../errors.js';

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/**
 * Layer blobs by digest (`blobs/sha256/<hex>`), as the registry served them (compressed). A blob
 * appears under its name only whole and verified: it is written in the writer's own folder, checked
 * against its digest, synced, then renamed in. Fetches of one digest in this process share one download.
 */
export class BlobStore {
  readonly dir: string;
  private readonly fetching = new Map<string, Promise<string>>();

  /** `partDir`: this process's own folder, where blobs are written before they are renamed in. */
  constructor(
    storeDir: string,
    private readonly partDir: string,
  ) {
    this.dir = join(storeDir, 'blobs', 'sha256');
    mkdirSync(this.dir, { recursive: true });
  }

  /** The blob's file; the digest comes from a manifest, so nothing but `sha256:` and 64 hex digits names one. */
  path(digest: string): string {
    const m = DIGEST.exec(digest);
    if (!m) throw new UnimplementedError(`not supported yet: layer digest ${digest} (sifkube stores sha256 layers only)`);
    return join(this.dir, m[1]);
  }

  /**
   * The blob's path, fetched first when missing: `fetch` writes (and verifies) the file it is given.
   * Says whether this call fetched it.
   */
  async ensure(digest: string, fetch: (file: string) => Promise<void>): Promise<{ path: string; fetched: boolean }> {
    const final = this.path(digest);
    if (existsSync(final)) return { path: final, fetched: false };
    let p = this.fetching.get(digest);
    if (p) return { path: await p, fetched: false };
    p = this.write(final, fetch).finally(() => this.fetching.delete(digest));
    this.fetching.set(digest, p);
    return { path: await p, fetched: true };
  }

  private async write(final: string, fetch: (file: string) => Promise<void>): Promise<string> {
    const part = join(this.partDir, `blob-${randomBytes(6).toString('hex')}.part`);
    try {
      await fetch(part);
      const fd = openSync(part, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(part, final);
      return final;
    } finally {
      rmSync(part, { force: true });
    }
  }

  /** Digests of every stored blob. */
  list(): string[] {
    return readdirSync(this.dir)
      .filter((f) => /^[0-9a-f]{64}$/.test(f))
      .map((f) => `sha256:${f}`);
  }

  /** Deletes every blob not in `keep`; returns the digests deleted. */
  sweep(keep: Set<string>): string[] {
    const gone = this.list().filter((d) => !keep.has(d));
    for (const d of gone) rmSync(this.path(d), { force: true });
    return gone;
  }

  usage(): { bytes: number; inodes: number } {
    let bytes = 0;
    let inodes = 0;
    for (const d of this.list()) {
      try {
        bytes += statSync(this.path(d)).size;
        inodes += 1;
      } catch {
        // swept meanwhile
      }
    }
    return { bytes, inodes };
  }
}
