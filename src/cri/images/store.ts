import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of an OCI image configuration sifkube keeps (the whole `config` section is kept as is). */
export interface OciImageConfig {
  architecture?: string;
  os?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
    ExposedPorts?: Record<string, unknown>;
    Volumes?: Record<string, unknown>;
  };
  [key: string]: unknown;
}

/** One image of the store: a SIF file, the names it is known by, its OCI configuration. */
export interface ImageRecord {
  /** `sha256:` + the digest of the OCI config (for a local SIF: of the file). */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  /** Size of the SIF file in bytes. */
  size: number;
  /** The SIF file: in the store, or where it lies for local.file references. */
  sif: string;
  config: OciImageConfig;
  /** A `local.file/…` image: the store does not own the file and never deletes it. */
  external: boolean;
  /**
   * The scopes (in a cluster: node names) whose CRI servers see this image; absent: every one. One
   * store serves every node of a cluster, so `image load --nodes` restricts without copying.
   */
  scopes?: string[];
}

/** A pull folder untouched this long belongs to a process that died. */
const STALE_PULL_MS = 24 * 3600_000;

interface IndexFile {
  version: 1;
  images: ImageRecord[];
}

/**
 * The image store: SIF files by content digest under `sif/`, and one JSON index mapping names
 * (RepoTags, RepoDigests) to images. The index is rewritten atomically on every change, and read
 * again whenever another process (a cluster's other nodes, `sifkube image load`) rewrote it.
 */
export class ImageStore {
  private readonly images = new Map<string, ImageRecord>();
  private readonly indexFile: string;
  /** mtime, inode and size of the index as last read or written: a change means another writer */
  private indexStamp = '';
  readonly sifDir: string;
  readonly tmpDir: string;

  /** `scope`: this process sees only the images visible to it (a node's CRI); none: every image. */
  constructor(
    readonly dir: string,
    readonly scope?: string,
  ) {
    this.indexFile = join(dir, 'index.json');
    this.sifDir = join(dir, 'sif');
    // Each process pulls in a folder of its own: another one sharing the store may be pulling now.
    const tmpRoot = join(dir, 'tmp');
    this.tmpDir = join(tmpRoot, randomBytes(6).toString('hex'));
    mkdirSync(this.sifDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
    // Half-finished pulls of a run that died long ago are worth nothing.
    for (const e of readdirSync(tmpRoot)) {
      const p = join(tmpRoot, e);
      if (Date.now() - statSync(p).mtimeMs > STALE_PULL_MS) rmSync(p, { recursive: true, force: true });
    }
    this.refresh();
  }

  private stamp(): string {
    try {
      // Two rewrites within one clock tick can reuse the inode: the size tells most of them apart.
      const st = statSync(this.indexFile, { bigint: true });
      return `${st.mtimeNs}:${st.ino}:${st.size}`;
    } catch {
      return '';
    }
  }

  /** Reads the index again when another process rewrote it since this one last did. */
  private refresh(): void {
    const now = this.stamp();
    if (now === this.indexStamp) return;
    this.indexStamp = now;
    this.images.clear();
    if (now === '') return;
    const idx = JSON.parse(readFileSync(this.indexFile, 'utf8')) as IndexFile;
    for (const img of idx.images) if (existsSync(img.sif)) this.images.set(img.id, img);
  }

  private flush(): void {
    // Every image, not only those this scope sees.
    const idx: IndexFile = { version: 1, images: [...this.images.values()].sort((a, b) => a.id.localeCompare(b.id)) };
    // A temporary name of this process's own: several processes share one store.
    const tmp = `${this.indexFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(idx, null, 1));
    renameSync(tmp, this.indexFile);
    this.indexStamp = this.stamp();
  }

  private visible(rec: ImageRecord): boolean {
    return this.scope === undefined || rec.scopes === undefined || rec.scopes.includes(this.scope);
  }

  list(): ImageRecord[] {
    this.refresh();
    return [...this.images.values()].filter((i) => this.visible(i)).sort((a, b) => a.id.localeCompare(b.id));
  }

  byId(id: string): ImageRecord | undefined {
    const rec = this.known(id);
    return rec && this.visible(rec) ? rec : undefined;
  }

  /** An image by ID whether or not this scope sees it (a pull of it then needs no conversion). */
  known(id: string): ImageRecord | undefined {
    this.refresh();
    return this.images.get(id);
  }

  /** The SIF path the store uses for an image ID. */
  sifPath(id: string): string {
    return join(this.sifDir, `${id.replace(/^sha256:/, '')}.sif`);
  }

  byTag(name: string): ImageRecord | undefined {
    return this.list().find((i) => i.repoTags.includes(name));
  }

  /** An image by repository digest whether or not this scope sees it. */
  knownByDigest(name: string): ImageRecord | undefined {
    this.refresh();
    return [...this.images.values()].find((i) => i.repoDigests.includes(name));
  }

  byDigest(name: string): ImageRecord | undefined {
    return this.list().find((i) => i.repoDigests.includes(name));
  }

  /**
   * Adds or updates an image; a tag moves from any other image to this one (as docker tag does).
   * Visibility only widens: a scoped store (a node pulling) adds its scope to a restricted image; an
   * unscoped put makes the image visible to `scopes` more (undefined: to every scope).
   */
  put(rec: ImageRecord, tags: string[], digests: string[], scopes?: string[]): ImageRecord {
    this.refresh();
    const before = JSON.stringify([...this.images.values()]);
    for (const other of this.images.values()) {
      if (other.id !== rec.id) other.repoTags = other.repoTags.filter((t) => !tags.includes(t));
    }
    const existing = this.images.get(rec.id);
    const merged: ImageRecord = existing ?? rec;
    merged.repoTags = [...new Set([...(existing?.repoTags ?? []), ...tags])].sort();
    merged.repoDigests = [...new Set([...(existing?.repoDigests ?? []), ...digests])].sort();
    merged.scopes = this.widened(existing, scopes);
    if (merged.scopes === undefined) delete merged.scopes;
    this.images.set(rec.id, merged);
    // A re-pull that changes nothing writes nothing.
    if (JSON.stringify([...this.images.values()]) !== before) this.flush();
    return merged;
  }

  private widened(existing: ImageRecord | undefined, scopes: string[] | undefined): string[] | undefined {
    if (this.scope !== undefined) return existing?.scopes && [...new Set([...existing.scopes, this.scope])].sort();
    if (existing && existing.scopes === undefined) return undefined;
    if (scopes === undefined) return undefined;
    return [...new Set([...(existing?.scopes ?? []), ...scopes])].sort();
  }

  /**
   * Forgets the image and deletes its SIF when the store owns it; for a scope that shares a restricted
   * image with others, only hides it from this scope.
   */
  delete(id: string): void {
    const rec = this.byId(id);
    if (!rec) return;
    if (this.scope !== undefined && rec.scopes && rec.scopes.length > 1) {
      rec.scopes = rec.scopes.filter((s) => s !== this.scope);
      this.flush();
      return;
    }
    this.images.delete(id);
    this.flush();
    if (!rec.external) rmSync(rec.sif, { force: true });
  }

  /** Total bytes and files of the SIFs the store owns (ImageFsInfo). */
  usage(): { bytes: number; inodes: number } {
    const owned = this.list().filter((i) => !i.external);
    return { bytes: owned.reduce((n, i) => n + i.size, 0), inodes: owned.length };
  }
}
