import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildSif, type ImageConfig } from '../../sif/index.js';
import { CriOperationError, NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatReference, repository, taggedName, type ImageRef } from './reference.js';
import { RegistryClient, type Credentials, type Manifest } from './registry.js';
import type { ImageRecord, ImageStore, OciImageConfig } from './store.js';
import { applyLayer } from './unpack.js';

export interface PullSource {
  ref: ImageRef;
  /** Endpoints to try in order: the configured mirrors, then the registry itself. */
  endpoints: { url: string; creds?: Credentials }[];
}

/** The image config's runtime section in the form buildSif stores inside the SIF. */
export function sifImageConfig(c: OciImageConfig): ImageConfig {
  const cfg = c.config ?? {};
  return {
    ...(cfg.Entrypoint ? { entrypoint: cfg.Entrypoint } : {}),
    ...(cfg.Cmd ? { cmd: cfg.Cmd } : {}),
    ...(cfg.Env ? { env: cfg.Env } : {}),
    ...(cfg.User ? { user: cfg.User } : {}),
    ...(cfg.WorkingDir ? { workingDir: cfg.WorkingDir } : {}),
  };
}

/**
 * Pulls images from registries into the store, converting each to SIF once. Two pulls of the same
 * reference share one resolution, and two references to the same image share one conversion.
 */
export class Puller {
  private readonly byRef = new Map<string, Promise<ImageRecord>>();
  private readonly byId = new Map<string, Promise<ImageRecord>>();

  constructor(
    private readonly store: ImageStore,
    private readonly log: Logger,
  ) {}

  pull(src: PullSource): Promise<ImageRecord> {
    const key = formatReference(src.ref);
    let p = this.byRef.get(key);
    if (!p) {
      p = this.resolveAndFetch(src).finally(() => this.byRef.delete(key));
      this.byRef.set(key, p);
    }
    return p;
  }

  private async resolveAndFetch(src: PullSource): Promise<ImageRecord> {
    const reference = src.ref.digest ?? src.ref.tag!;
    const tags = [taggedName(src.ref)].filter((t): t is string => !!t);
    // Content already in the store is a lookup: a digest needs no registry at all, a tag one HEAD request.
    const stored = (digest: string) => this.store.knownByDigest(`${repository(src.ref)}@${digest}`);
    if (src.ref.digest && stored(src.ref.digest)) return this.store.put(stored(src.ref.digest)!, tags, []);
    let lastErr: Error | undefined;
    for (const ep of src.endpoints) {
      const client = new RegistryClient(ep.url, src.ref, ep.creds);
      let resolved: Awaited<ReturnType<RegistryClient['resolve']>>;
      try {
        // A registry that refuses HEAD is asked with GET below.
        const head = src.ref.digest ? undefined : await client.headDigest(reference).catch(() => undefined);
        if (head && stored(head)) return this.store.put(stored(head)!, tags, [`${repository(src.ref)}@${head}`]);
        resolved = await client.resolve(reference);
      } catch (err) {
        lastErr = err as Error;
        if (src.endpoints.length > 1) this.log.warn(`pull ${formatReference(src.ref)} from ${ep.url}: ${lastErr.message}`);
        continue;
      }
      const id = resolved.manifest.config.digest;
      const digests = [`${repository(src.ref)}@${resolved.indexDigest ?? resolved.manifestDigest}`];
      const have = this.store.known(id);
      if (have) return this.store.put(have, tags, digests);
      let conversion = this.byId.get(id);
      if (!conversion) {
        conversion = this.convert(client, resolved.manifest, id, ep.url, tags, digests).finally(() => this.byId.delete(id));
        this.byId.set(id, conversion);
      }
      return this.store.put(await conversion, tags, digests);
    }
    if (lastErr instanceof NotFoundError || lastErr instanceof CriOperationError) throw lastErr;
    throw new CriOperationError(`cannot pull ${formatReference(src.ref)}: ${lastErr?.message ?? 'no endpoint'}`);
  }

  /**
   * Fetches the layers the blob store lacks (the config always: it is small), applies every layer in
   * order from the store, builds the SIF (deterministically) and puts the image, naming its layers,
   * in the index. The layers stay marked as this pull's until then.
   */
  private async convert(client: RegistryClient, manifest: Manifest, id: string, endpoint: string, tags: string[], digests: string[]): Promise<ImageRecord> {
    const t0 = Date.now();
    const work = join(this.store.tmpDir, randomBytes(8).toString('hex'));
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs, { recursive: true, mode: 0o755 });
    try {
      const layers = manifest.layers.map((l) => l.digest);
      this.store.pin(work, layers);
      const config = JSON.parse((await client.blobBytes(manifest.config)).toString('utf8')) as OciImageConfig;
      // Downloads run side by side; layers are applied strictly in order.
      const blobs = manifest.layers.map((l) => this.store.blobs.ensure(l.digest, (file) => client.blobToFile(l, file)));
      // A failure is reported by the await below; the other downloads must not go unhandled.
      for (const b of blobs) b.catch(() => undefined);
      let fetched = 0;
      for (const b of blobs) {
        const blob = await b;
        if (blob.fetched) fetched += 1;
        await applyLayer(rootfs, blob.path);
      }
      const out = this.store.sifPath(id);
      // Built in the pull's folder: what a crash leaves half-written is discarded with it.
      const built = join(work, 'image.sif');
      buildSif({ rootfs, out: built, imageConfig: sifImageConfig(config), deterministic: true, labels: config.config?.Labels ?? {} });
      renameSync(built, out);
      this.log.info(`image ${id.slice(0, 19)} from ${endpoint}: ${layers.length} layers (${fetched} fetched) converted to SIF in ${Date.now() - t0} ms`);
      return this.store.put({ id, repoTags: [], repoDigests: [], size: statSync(out).size, sif: out, config, external: false, layers }, tags, digests);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}
