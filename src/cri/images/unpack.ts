import { spawn } from 'node:child_process';
import { closeSync, constants, createReadStream, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeSync, chmodSync, chownSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CriOperationError } from '../errors.js';
import { TarReader, type TarHeader } from './tar.js';

/**
 * The host path of `rel` inside `root`, every symlink on the way resolved as if `root` were `/`
 * (absolute targets restart at root, `..` stops at root): a layer can never write outside the
 * root filesystem it is applied to. The last component is not followed (it is what gets replaced).
 */
export function secureJoin(root: string, rel: string): string {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  const stack: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const c = parts.shift()!;
    if (c === '..') {
      stack.pop();
      continue;
    }
    if (parts.length === 0) {
      stack.push(c);
      break;
    }
    const cand = join(root, ...stack, c);
    let isLink = false;
    try {
      isLink = lstatSync(cand).isSymbolicLink();
    } catch {
      // does not exist yet: it will be created as a directory
    }
    if (!isLink) {
      stack.push(c);
      continue;
    }
    if (++links > 255) throw new CriOperationError(`too many symbolic links resolving ${rel} in the image`);
    const target = readlinkSync(cand);
    if (target.startsWith('/')) stack.length = 0;
    parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return join(root, ...stack);
}

function clean(name: string): string | undefined {
  const n = posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
  return n === '' ? undefined : n;
}

function removeAny(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Applies one layer's tar stream to `root`: OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`), owners, modes, times. */
class LayerApplier {
  /** Paths this layer wrote: an opaque whiteout hides only what lower layers put there. */
  private readonly written = new Set<string>();
  private readonly dirTimes: [string, number][] = [];
  private fd?: number;

  constructor(private readonly root: string) {}

  entry(h: TarHeader): ((chunk: Buffer) => void) | undefined {
    const name = clean(h.name);
    if (!name) return undefined;
    const base = posix.basename(name);
    const dir = posix.dirname(name) === '.' ? '' : posix.dirname(name);
    if (base === '.wh..wh..opq') {
      const d = dir === '' ? this.root : dirname(secureJoin(this.root, `${dir}/x`));
      for (const child of safeList(d)) if (!this.written.has(dir === '' ? child : `${dir}/${child}`)) removeAny(join(d, child));
      return undefined;
    }
    if (base.startsWith('.wh.')) {
      removeAny(secureJoin(this.root, dir === '' ? base.slice(4) : `${dir}/${base.slice(4)}`));
      return undefined;
    }
    this.written.add(name);
    const path = secureJoin(this.root, name);
    mkdirSync(dirname(path), { recursive: true });
    let existing: ReturnType<typeof lstatSync> | undefined;
    try {
      existing = lstatSync(path);
    } catch {
      existing = undefined;
    }
    const mode = h.mode & 0o7777;
    if (h.type === '5') {
      if (existing && !existing.isDirectory()) unlinkSync(path);
      if (!existing || !existing.isDirectory()) mkdirSync(path);
      chownSync(path, h.uid, h.gid);
      chmodSync(path, mode);
      this.dirTimes.push([path, h.mtime]);
      return undefined;
    }
    if (existing) {
      if (existing.isDirectory()) removeAny(path);
      else unlinkSync(path);
    }
    switch (h.type) {
      case '0':
      case '7': {
        const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        this.fd = fd;
        return (chunk) => {
          for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
        };
      }
      case '1': {
        const target = clean(h.linkname);
        if (!target) throw new CriOperationError(`hard link ${name} in the image has no target`);
        linkSync(secureJoin(this.root, target), path);
        return undefined;
      }
      case '2':
        symlinkSync(h.linkname, path);
        lchownSync(path, h.uid, h.gid);
        lutimesSync(path, h.mtime, h.mtime);
        return undefined;
      case '3':
      case '4':
      case '6':
        execFileSync('mknod', ['-m', mode.toString(8), path, h.type === '3' ? 'c' : h.type === '4' ? 'b' : 'p', ...(h.type === '6' ? [] : [String(h.devmajor), String(h.devminor)])]);
        chownSync(path, h.uid, h.gid);
        return undefined;
      default:
        // Other entry types (sparse files, volume labels) do not occur in container layers.
        return undefined;
    }
  }

  end(h: TarHeader): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    // chown before chmod: chown clears the set-user-ID and set-group-ID bits.
    fchownSync(fd, h.uid, h.gid);
    fchmodSync(fd, h.mode & 0o7777);
    futimesSync(fd, h.mtime, h.mtime);
    closeSync(fd);
  }

  finish(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    for (const [path, t] of this.dirTimes.reverse()) utimesSync(path, t, t);
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The compression of a layer file, from its first bytes. */
function compressionOf(file: string): 'gzip' | 'zstd' | 'none' {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(4);
  readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

function decompressed(file: string): { stream: Readable; done: Promise<void> } {
  const kind = compressionOf(file);
  if (kind === 'zstd') {
    // Node 20's zlib has no zstd: Debian's zstd tool decompresses the layer.
    const child = spawn('zstd', ['-dc', '--no-progress', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const done = new Promise<void>((resolve, reject) => {
      child.on('error', (e) => reject(new CriOperationError(`cannot run zstd to unpack a zstd layer (apt-get install -y zstd): ${e.message}`)));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new CriOperationError(`zstd could not decompress the layer: ${err.trim()}`))));
    });
    return { stream: child.stdout, done };
  }
  const raw = createReadStream(file);
  return { stream: kind === 'gzip' ? raw.pipe(createGunzip()) : raw, done: Promise.resolve() };
}

/** Applies a layer file (tar, tar+gzip or tar+zstd) on top of `root`. */
export async function applyLayer(root: string, file: string): Promise<void> {
  const applier = new LayerApplier(root);
  const reader = new TarReader(applier);
  const { stream, done } = decompressed(file);
  try {
    for await (const chunk of stream) reader.push(chunk as Buffer);
    reader.finish();
    await done;
  } catch (err) {
    stream.destroy();
    if (err instanceof CriOperationError) throw err;
    throw new CriOperationError(`cannot unpack layer ${file}: ${(err as Error).message}`);
  } finally {
    applier.finish();
  }
}
