import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
}

interface IndexFile {
  version: 1;
  images: ImageRecord[];
}

/**
 * The image store: SIF files by content digest under `sif/`, and one JSON index mapping names
 * (RepoTags, RepoDigests) to images. The index is rewritten atomically on every change.
 */
export class ImageStore {
  private readonly images = new Map<string, ImageRecord>();
  private readonly indexFile: string;
  readonly sifDir: string;
  readonly tmpDir: string;

  constructor(readonly dir: string) {
    this.indexFile = join(dir, 'index.json');
    this.sifDir = join(dir, 'sif');
    this.tmpDir = join(dir, 'tmp');
    mkdirSync(this.sifDir, { recursive: true });
    // Half-finished pulls of a previous run are worth nothing.
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    if (existsSync(this.indexFile)) {
      const idx = JSON.parse(readFileSync(this.indexFile, 'utf8')) as IndexFile;
      for (const img of idx.images) if (existsSync(img.sif)) this.images.set(img.id, img);
    }
  }

  private flush(): void {
    const idx: IndexFile = { version: 1, images: this.list() };
    writeFileSync(`${this.indexFile}.tmp`, JSON.stringify(idx, null, 1));
    renameSync(`${this.indexFile}.tmp`, this.indexFile);
  }

  list(): ImageRecord[] {
    return [...this.images.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  byId(id: string): ImageRecord | undefined {
    return this.images.get(id);
  }

  /** The SIF path the store uses for an image ID. */
  sifPath(id: string): string {
    return join(this.sifDir, `${id.replace(/^sha256:/, '')}.sif`);
  }

  byTag(name: string): ImageRecord | undefined {
    return this.list().find((i) => i.repoTags.includes(name));
  }

  byDigest(name: string): ImageRecord | undefined {
    return this.list().find((i) => i.repoDigests.includes(name));
  }

  /** Adds or updates an image; a tag moves from any other image to this one (as docker tag does). */
  put(rec: ImageRecord, tags: string[], digests: string[]): ImageRecord {
    for (const other of this.images.values()) {
      if (other.id !== rec.id) other.repoTags = other.repoTags.filter((t) => !tags.includes(t));
    }
    const existing = this.images.get(rec.id);
    const merged: ImageRecord = existing ?? rec;
    merged.repoTags = [...new Set([...(existing?.repoTags ?? []), ...tags])].sort();
    merged.repoDigests = [...new Set([...(existing?.repoDigests ?? []), ...digests])].sort();
    this.images.set(rec.id, merged);
    this.flush();
    return merged;
  }

  /** Forgets the image and deletes its SIF when the store owns it. */
  delete(id: string): void {
    const rec = this.images.get(id);
    if (!rec) return;
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
