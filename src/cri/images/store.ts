import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore } from './blobs.js';
import { withStoreLock } from './store-lock.js';
import { WorkDirs } from './work-dirs.js';

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
  /** A pulled image's layer digests: its blobs stay in the store while an image names them. */
  layers?: string[];
  /**
   * The scopes (in a cluster: node names) whose CRI servers see this image; absent: every one. One
   * store serves every node of a cluster, so `image load --nodes` restricts without copying.
   */
  scopes?: string[];
}

/** The file in a pull's folder naming the layers it needs (kept from a sweep while the pull runs). */
const PINS = 'layers.json';

interface IndexFile {
  version: 1;
  images: ImageRecord[];
}

/**
 * The image store: SIF files by content digest under `sif/`, the pulled layers by digest under
 * `blobs/`, and one JSON index mapping names (RepoTags, RepoDigests) to images and images to their
 * layers. The index is rewritten atomically on every change, and read again whenever another process
 * (a cluster's other nodes, `sifkube image load`) rewrote it. A layer no image and no pull in progress
 * names is freed by `collect`.
 */
export class ImageStore {
  private readonly images = new Map<string, ImageRecord>();
  private readonly indexFile: string;
  /** mtime, inode and size of the index as last read or written: a change means another writer */
  private indexStamp = '';
  readonly sifDir: string;
  readonly tmpDir: string;
  readonly blobs: BlobStore;
  private readonly work: WorkDirs;
  private readonly lockFile: string;

  /** `scope`: this process sees only the images visible to it (a node's CRI); none: every image. */
  constructor(
    readonly dir: string,
    readonly scope?: string,
  ) {
    this.indexFile = join(dir, 'index.json');
    this.sifDir = join(dir, 'sif');
    this.lockFile = join(dir, 'lock');
    mkdirSync(this.sifDir, { recursive: true });
    // Each process pulls in a folder of its own: another one sharing the store may be pulling now.
    this.work = new WorkDirs(join(dir, 'tmp'));
    this.tmpDir = this.work.own;
    this.blobs = new BlobStore(dir, this.tmpDir);
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

  /** Total bytes and files of the SIFs the store owns and of the layer blobs (ImageFsInfo). */
  usage(): { bytes: number; inodes: number } {
    const owned = this.list().filter((i) => !i.external);
    const blobs = this.blobs.usage();
    return { bytes: owned.reduce((n, i) => n + i.size, 0) + blobs.bytes, inodes: owned.length + blobs.inodes };
  }

  /**
   * Marks the layers a pull working in `workDir` needs, so no sweep frees them until the folder goes
   * (the pull put its image, which names them, in the index first). Under the store lock: a sweep
   * either saw this mark or ran entirely before it (and the pull then finds the blob missing).
   */
  pin(workDir: string, layers: string[]): void {
    withStoreLock(this.lockFile, () => writeFileSync(join(workDir, PINS), JSON.stringify(layers)));
  }

  /**
   * Frees the layer blobs no stored image and no pull in progress (in any process) names, after
   * discarding the folders of processes that died (their half-written blobs and their marks).
   * Returns the digests freed.
   */
  async collect(): Promise<string[]> {
    await this.work.discardDead();
    return withStoreLock(this.lockFile, () => {
      // Marks first, then the index: a pull puts its image before it drops its mark.
      const keep = new Set<string>();
      for (const proc of this.work.all()) {
        for (const pull of safeList(proc)) {
          try {
            for (const d of JSON.parse(readFileSync(join(proc, pull, PINS), 'utf8')) as string[]) keep.add(d);
          } catch {
            // not a pull folder, or one that is gone
          }
        }
      }
      this.indexStamp = '';
      this.refresh();
      for (const img of this.images.values()) for (const d of img.layers ?? []) keep.add(d);
      return this.blobs.sweep(keep);
    });
  }

  /** Stops this process's beacon and removes its pull folder. */
  close(): void {
    this.work.close();
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
